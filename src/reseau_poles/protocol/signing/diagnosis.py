"""Why a signature fails, for a person debugging an integration (``reseau-poles verify``), and
the evidence written out line by line."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypedDict

from ..errors import SignatureError
from ..keys import decode_signing_public_key
from .header import (
    AUTHORIZATION,
    DEFAULT_SKEW_SECONDS,
    DIGEST_ALGORITHM,
    SignatureHeader,
    digest,
    parse_header,
    signing_string,
    unquote_header,
)
from .verification import verify, verify_signature


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What ``diagnose`` found: a reason word and sentences for a person, and the evidence
    (:func:`explain` writes it out).

    The evidence fields are filled as far as the header could be read: ``header`` is
    ``None`` when it could not be parsed; ``signed_digest`` is the digest the sender really
    signed when a re-serialisation of the body matched (``digest_mismatch``)."""

    valid: bool
    reason: str
    message: str
    hints: tuple[str, ...] = ()
    header: SignatureHeader | None = None
    unquoted: bool = False  # the value came inside one pair of double quotes (ONDC's helper)
    header_name: str = AUTHORIZATION
    body_digest: str = ""
    body_length: int = 0
    public_key: str = ""  # base64 of the raw 32 bytes used, "" when unusable
    now: float = 0.0
    signed_digest: str | None = None

    @property
    def signing_string(self) -> str | None:
        """The three lines the signature is checked against: ``created`` and ``expires`` from
        the header, the digest of the body as received."""
        if self.header is None:
            return None
        return signing_string(self.header.created, self.header.expires, self.body_digest)


class _Evidence(TypedDict, total=False):
    """The evidence fields of a :class:`Diagnosis`, gathered as ``diagnose`` reads."""

    header: SignatureHeader
    unquoted: bool
    header_name: str
    body_digest: str
    body_length: int
    public_key: str
    now: float


def _reserialisations(body: bytes) -> Iterable[tuple[str, bytes]]:
    """Common ways a sender re-encodes JSON between signing and sending (or the other way)."""
    stripped = body.strip()
    if stripped != body:
        yield "le corps sans espaces ni retour de ligne aux extrémités", stripped
    yield "le corps suivi d'un retour de ligne", body + b"\n"
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return
    yield (
        "le JSON compact (séparateurs sans espace)",
        json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode(),
    )
    yield "le JSON compact, échappé en ASCII", json.dumps(data, separators=(",", ":")).encode()
    yield (
        "le JSON avec les séparateurs par défaut de Python",
        json.dumps(data, ensure_ascii=False).encode(),
    )
    yield (
        "le JSON avec les séparateurs par défaut de Python, échappé en ASCII",
        json.dumps(data).encode(),
    )
    yield (
        "le JSON compact aux clés triées",
        json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode(),
    )
    yield "le JSON indenté de 2 espaces", json.dumps(data, indent=2, ensure_ascii=False).encode()
    yield "le JSON indenté de 4 espaces", json.dumps(data, indent=4, ensure_ascii=False).encode()


def diagnose(
    body: bytes,
    header: str | bytes | None,
    public_key: bytes | str,
    *,
    now: float | None = None,
    skew: float = DEFAULT_SKEW_SECONDS,
    header_name: str = AUTHORIZATION,
) -> Diagnosis:
    """Verify, and when it fails, say why as precisely as the evidence allows.

    Meant for people debugging an integration (``reseau-poles verify``), not for the hot path:
    on a signature mismatch it tries the body as other serialisations of the same JSON to tell
    "the body was re-serialised" apart from "wrong key". The answer carries the evidence
    (parsed header, digest, key, time) for :func:`explain`, whatever the verdict.
    """
    current = time.time() if now is None else now
    evidence: _Evidence = {
        "header_name": header_name,
        "body_digest": digest(body),
        "body_length": len(body),
        "public_key": _public_key_text(public_key),
        "now": current,
    }
    text = header.decode("ascii", "replace") if isinstance(header, bytes) else header
    if isinstance(text, str):
        evidence["unquoted"] = unquote_header(text.strip())[1]
    try:
        parsed = parse_header(header, header_name=header_name)
    except SignatureError as exc:
        return Diagnosis(False, exc.reason, exc.message, **evidence)
    evidence["header"] = parsed
    try:
        verify(body, parsed, public_key, now=current, skew=skew, header_name=header_name)
    except SignatureError as exc:
        if exc.reason != "signature_mismatch":
            hints = _hints_for(exc.reason, parsed, current)
            return Diagnosis(False, exc.reason, exc.message, hints, **evidence)
        for description, candidate in _reserialisations(body):
            try:
                verify_signature(candidate, parsed, public_key, header_name=header_name)
            except SignatureError:
                continue
            return Diagnosis(
                False,
                "digest_mismatch",
                "le condensé (digest) du corps reçu ne correspond pas à celui qui a été signé : "
                f"la signature vaut pour {description}.",
                (
                    "L'émetteur a signé d'autres octets que ceux qu'il envoie : il doit signer "
                    "exactement les octets du corps HTTP, sans re-sérialiser le JSON.",
                ),
                signed_digest=digest(candidate),
                **evidence,
            )
        return Diagnosis(
            False,
            "signature_mismatch",
            exc.message,
            (
                f"digest calculé du corps reçu : {DIGEST_ALGORITHM}={digest(body)}",
                "Vérifiez que la clé publique est bien celle du keyId "
                f"{parsed.key_id_param!r} dans le registre, et que le corps n'a pas été modifié.",
            ),
            **evidence,
        )
    return Diagnosis(True, "valid", "valid", **evidence)


def _public_key_text(public_key: bytes | str) -> str:
    try:
        return base64.b64encode(decode_signing_public_key(public_key)).decode("ascii")
    except ValueError:
        return ""


def _moment(seconds: float) -> str:
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return "hors limites"


def explain(diagnosis: Diagnosis) -> list[str]:
    """The evidence of :func:`diagnose`, line by line, for a person (French first, English
    labels): header fields, the signing string exactly as checked, the body's digest, the key
    used, the time of the check and the verdict with its reason and hints."""
    lines: list[str] = [f"En-tête / header : {diagnosis.header_name}"]
    if diagnosis.unquoted:
        lines.append(
            "  guillemets englobants retirés / outer quotes removed (forme de l'utilitaire "
            "Python d'ONDC)"
        )
    parsed = diagnosis.header
    if parsed is None:
        lines.append("  (illisible / unreadable)")
    else:
        lines += [
            f"  keyId       : {parsed.key_id_param}",
            f"    abonné / subscriber_id : {parsed.subscriber_id}",
            f"    clé / unique_key_id    : {parsed.key_id}",
            f"    algorithme / algorithm : {parsed.key_algorithm}",
            f"  algorithm   : {parsed.algorithm}",
            f"  created     : {parsed.created} ({_moment(parsed.created)})",
            f"  expires     : {parsed.expires} ({_moment(parsed.expires)}, "
            f"validité / validity {parsed.expires - parsed.created} s)",
            f"  headers     : {parsed.headers}",
            f"  signature   : {parsed.signature}",
        ]
        lines += [f"  {name} : {value}" for name, value in parsed.extra]
    lines.append(
        f"Corps / body : {diagnosis.body_length} octets / bytes, condensé / digest "
        f"{DIGEST_ALGORITHM}={diagnosis.body_digest}"
    )
    if parsed is not None:
        lines.append(
            "Chaîne à signer / signing string (created et expires de l'en-tête, condensé du "
            "corps reçu ; 3 lignes séparées par \\n, sans \\n final) :"
        )
        lines += [f"  {line}" for line in str(diagnosis.signing_string).split("\n")]
        if diagnosis.signed_digest is not None:
            signed = signing_string(parsed.created, parsed.expires, diagnosis.signed_digest)
            lines.append(
                "Chaîne réellement signée par l'émetteur / signing string actually signed :"
            )
            lines += [f"  {line}" for line in signed.split("\n")]
    lines.append(
        "Clé publique / public key (Ed25519) : "
        + (diagnosis.public_key or "(inutilisable / unusable)")
    )
    lines.append(
        f"Heure de vérification / checked at : {int(diagnosis.now)} ({_moment(diagnosis.now)})"
    )
    verdict = "valide / valid" if diagnosis.valid else f"invalide / invalid : {diagnosis.reason}"
    lines.append(f"Verdict : {verdict}")
    if not diagnosis.valid:
        lines.append(f"  {diagnosis.message}")
        lines += [f"  • {hint}" for hint in diagnosis.hints]
    return lines


def _hints_for(reason: str, parsed: SignatureHeader, now: float | None) -> tuple[str, ...]:
    current = int(time.time() if now is None else now)
    if reason in {"expired", "created_in_future"}:
        return (
            f"heure de vérification : {current} ; created={parsed.created}, expires={parsed.expires}",
            "Vérifiez l'horloge (NTP) de l'émetteur et la durée de validité (ttl) de sa signature.",
        )
    if reason == "algorithm_mismatch":
        return ('keyId doit finir par "|ed25519" et algorithm valoir "ed25519".',)
    return ()
