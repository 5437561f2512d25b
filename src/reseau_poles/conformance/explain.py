"""Why a BECKN-006 signature fails, for a person: the reason found by
:func:`reseau_poles.protocol.signing.diagnose`, the signing string and the digest recomputed
from the bytes received (what the sender should have signed). No I/O.

The evidence is :class:`~reseau_poles.protocol.signing.Diagnosis`'s, as ``reseau-poles
verify --explain`` prints it (:func:`~reseau_poles.protocol.signing.explain`); this module
adds the English reasons and the short form a conformance report carries.
"""

from __future__ import annotations

from dataclasses import dataclass

from reseau_poles.protocol import signing

# The reasons of protocol.signing in English (the French comes from diagnose itself).
REASONS_EN = {
    "missing": "the signature header is missing",
    "malformed": "the signature header is malformed",
    "subscriber_mismatch": "keyId names another subscriber",
    "key_id_mismatch": "keyId names another key",
    "algorithm_mismatch": "the keyId algorithm differs from the algorithm parameter",
    "unsupported_algorithm": "algorithm not supported (ed25519 only)",
    "unsupported_headers": 'headers must be "(created) (expires) digest"',
    "invalid_window": "expires precedes created",
    "created_in_future": "created is in the future",
    "expired": "the signature has expired",
    "key_not_yet_valid": "the key was not yet valid at created",
    "key_expired": "the key was no longer valid at created",
    "bad_public_key": "the registered public key cannot be used",
    "digest_mismatch": (
        "the digest of the body received differs from the one signed: the sender signed "
        "other bytes (re-serialised JSON) than it sent"
    ),
    "signature_mismatch": (
        "the signature does not match the body received and the registered public key "
        "(another key, or a modified body)"
    ),
}


@dataclass(frozen=True)
class Explanation:
    """What is wrong with a signature, and the material to fix it."""

    valid: bool
    reason: str
    message_fr: str
    message_en: str
    hints: tuple[str, ...]
    signing_string: str | None
    digest: str


def explain(
    body: bytes,
    header: str | None,
    public_key: str,
    *,
    now: float | None = None,
    skew: float = signing.DEFAULT_SKEW_SECONDS,
) -> Explanation:
    """Diagnose ``header`` over ``body``; the signing string uses the header's own
    ``created`` and ``expires`` when it can be read (else ``None``)."""
    diagnosis = signing.diagnose(body, header, public_key, now=now, skew=skew)
    english = REASONS_EN.get(diagnosis.reason, diagnosis.reason)
    return Explanation(
        diagnosis.valid,
        diagnosis.reason,
        diagnosis.message,
        english,
        diagnosis.hints,
        diagnosis.signing_string,
        f"{signing.DIGEST_ALGORITHM}={diagnosis.body_digest}",
    )


def render(explanation: Explanation, lang: str = "fr") -> str:
    """A few lines: the reason, the signing string and the digest."""
    lines = [explanation.message_en if lang == "en" else explanation.message_fr]
    if explanation.signing_string is not None:
        lines.append("signing string:" if lang == "en" else "chaîne signée :")
        lines.extend(f"  {line}" for line in explanation.signing_string.split("\n"))
    lines.append(f"digest: {explanation.digest}")
    lines.extend(f"• {hint}" for hint in explanation.hints)
    return "\n".join(lines)
