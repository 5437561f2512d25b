"""The check of a message's BECKN-006 signature against the keys the registry holds for its
signer."""

from __future__ import annotations

from collections.abc import Mapping

from reseau_poles.protocol import signing
from reseau_poles.protocol.errors import SignatureError

from ..explain import explain
from ..report import Finding
from .exchange import Received


def signature_findings(
    received: Received,
    keys: Mapping[str, str],
    signer_id: str,
    *,
    now: float | None = None,
    skew: float = signing.DEFAULT_SKEW_SECONDS,
) -> tuple[list[Finding], list[Finding]]:
    """(key findings, signature findings) for one message ``signer_id`` sent: the keyId must
    name ``signer_id`` and a key of the registry (``keys``: key_id → public key), and the
    signature must hold over the bytes received. ``now`` is the arrival time."""
    name = f"{received.action} {received.message_id or ''}".strip()
    header = received.header(signing.AUTHORIZATION)
    try:
        parsed = signing.parse_header(header)
    except SignatureError as exc:
        finding = Finding(
            exc.message,
            explain(received.body, header, "").message_en,
            message=name,
            path=f"headers.{signing.AUTHORIZATION}",
            got=header,
        )
        return [], [finding]
    key_findings = []
    if parsed.subscriber_id != signer_id:
        key_findings.append(
            Finding(
                "keyId nomme un autre abonné.",
                "keyId names another subscriber.",
                message=name,
                path=f"headers.{signing.AUTHORIZATION}.keyId",
                expected=signer_id,
                got=parsed.subscriber_id,
            )
        )
    public_key = keys.get(parsed.key_id)
    if public_key is None:
        key_findings.append(
            Finding(
                "keyId nomme une clé absente du registre.",
                "keyId names a key that is not in the registry.",
                message=name,
                path=f"headers.{signing.AUTHORIZATION}.keyId",
                expected=sorted(keys),
                got=parsed.key_id,
            )
        )
        others = list(keys.values())
    else:
        others = [public_key]
    explained = [explain(received.body, header, key, now=now, skew=skew) for key in others]
    if any(e.valid for e in explained):
        return key_findings, []
    if public_key is not None:
        crypto = explained[0]
        if crypto.reason in ("signature_mismatch",):
            key_findings.append(
                Finding(
                    "La signature ne vérifie pas avec la clé inscrite au registre pour ce "
                    "keyId : le nœud signe avec une autre clé.",
                    "The signature does not verify with the key the registry holds for this "
                    "keyId: the node signs with another key.",
                    message=name,
                    path=f"headers.{signing.AUTHORIZATION}",
                    expected=public_key,
                )
            )
    first = explained[0] if explained else explain(received.body, header, "")
    finding = Finding(
        first.message_fr,
        first.message_en,
        message=name,
        path=f"headers.{signing.AUTHORIZATION}",
        got=header,
        signing_string=first.signing_string,
        digest=first.digest,
        hints=list(first.hints),
    )
    return key_findings, [finding]
