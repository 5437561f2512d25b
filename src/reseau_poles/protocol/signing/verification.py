"""Verifying a signature header against a body and the signer's public key: the header's own
checks (identity, algorithm, time window, key validity), then the cryptographic one."""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Self

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError

from ..errors import ErrorCode, SignatureError
from ..keys import decode_signing_public_key
from .header import (
    ALGORITHM,
    AUTHORIZATION,
    DEFAULT_SKEW_SECONDS,
    SIGNED_HEADERS,
    SignatureHeader,
    digest,
    parse_header,
    signing_string,
)


@dataclass(frozen=True, slots=True)
class KeyValidity:
    """When a registered key may be used (unix seconds; ``None`` = open-ended)."""

    valid_from: float | None = None
    valid_until: float | None = None

    @classmethod
    def of(cls, valid_from: datetime | float | None, valid_until: datetime | float | None) -> Self:
        def seconds(value: datetime | float | None) -> float | None:
            if value is None:
                return None
            return value.timestamp() if isinstance(value, datetime) else float(value)

        return cls(seconds(valid_from), seconds(valid_until))


def verify(
    body: bytes,
    header: str | bytes | SignatureHeader | None,
    public_key: bytes | str,
    *,
    now: float | None = None,
    skew: float = DEFAULT_SKEW_SECONDS,
    key_validity: KeyValidity | None = None,
    header_name: str = AUTHORIZATION,
    expected_subscriber_id: str | None = None,
    expected_key_id: str | None = None,
    invalid_code: ErrorCode = ErrorCode.INVALID_SIGNATURE,
) -> SignatureHeader:
    """Check a signature header against ``body`` and the signer's public key.

    Returns the parsed header when every check passes; raises :class:`SignatureError` with a
    precise ``reason`` otherwise. Checks, in order: header parses; ``keyId`` names the
    expected subscriber and key; algorithm in ``keyId`` equals ``algorithm`` and is ed25519;
    signed headers are ``(created) (expires) digest``; ``created`` not in the future and
    ``expires`` not past (``skew`` seconds of tolerance); key valid at ``created``; digest and
    signature match.
    """
    parsed = (
        header
        if isinstance(header, SignatureHeader)
        else parse_header(header, header_name=header_name)
    )
    check_header(
        parsed,
        now=now,
        skew=skew,
        key_validity=key_validity,
        header_name=header_name,
        expected_subscriber_id=expected_subscriber_id,
        expected_key_id=expected_key_id,
        invalid_code=invalid_code,
    )
    verify_signature(body, parsed, public_key, header_name=header_name, invalid_code=invalid_code)
    return parsed


def check_header(
    parsed: SignatureHeader,
    *,
    now: float | None = None,
    skew: float = DEFAULT_SKEW_SECONDS,
    key_validity: KeyValidity | None = None,
    header_name: str = AUTHORIZATION,
    expected_subscriber_id: str | None = None,
    expected_key_id: str | None = None,
    invalid_code: ErrorCode = ErrorCode.INVALID_SIGNATURE,
) -> None:
    """Every check that does not need the body or the key: identity, algorithm, time window."""
    path = f"headers.{header_name}"

    def fail(reason: str, message: str) -> SignatureError:
        return SignatureError(reason, message, code=invalid_code, path=path)

    if expected_subscriber_id is not None and parsed.subscriber_id != expected_subscriber_id:
        raise fail(
            "subscriber_mismatch",
            f"keyId nomme {parsed.subscriber_id!r}, on attendait {expected_subscriber_id!r}",
        )
    if expected_key_id is not None and parsed.key_id != expected_key_id:
        raise fail(
            "key_id_mismatch",
            f"keyId nomme la clé {parsed.key_id!r}, on attendait {expected_key_id!r}",
        )
    if parsed.key_algorithm != parsed.algorithm:
        raise fail(
            "algorithm_mismatch",
            f"l'algorithme du keyId ({parsed.key_algorithm!r}) diffère du paramètre "
            f"algorithm ({parsed.algorithm!r})",
        )
    if parsed.algorithm.lower() != ALGORITHM:
        raise fail(
            "unsupported_algorithm",
            f"algorithme {parsed.algorithm!r} non pris en charge (ed25519 seulement)",
        )
    if " ".join(parsed.headers.split()).lower() != SIGNED_HEADERS:
        raise fail(
            "unsupported_headers",
            f'headers doit valoir "{SIGNED_HEADERS}", reçu {parsed.headers!r}',
        )
    current = time.time() if now is None else now
    if parsed.expires < parsed.created:
        raise fail(
            "invalid_window", f"expires ({parsed.expires}) précède created ({parsed.created})"
        )
    if parsed.created > current + skew:
        raise fail(
            "created_in_future",
            f"created ({parsed.created}) est dans le futur de {parsed.created - current:.0f} s",
        )
    if parsed.expires < current - skew:
        raise fail(
            "expired",
            f"signature expirée depuis {current - parsed.expires:.0f} s (expires={parsed.expires})",
        )
    if key_validity is not None:
        if key_validity.valid_from is not None and parsed.created < key_validity.valid_from - skew:
            raise fail("key_not_yet_valid", "la clé n'était pas encore valide à l'instant created")
        if (
            key_validity.valid_until is not None
            and parsed.created > key_validity.valid_until + skew
        ):
            raise fail("key_expired", "la clé n'était plus valide à l'instant created")


def verify_signature(
    body: bytes,
    parsed: SignatureHeader,
    public_key: bytes | str,
    *,
    header_name: str = AUTHORIZATION,
    invalid_code: ErrorCode = ErrorCode.INVALID_SIGNATURE,
) -> None:
    """Only the cryptographic part: digest of ``body`` and the Ed25519 signature."""
    path = f"headers.{header_name}"
    try:
        key = decode_signing_public_key(public_key)
    except ValueError as exc:
        raise SignatureError(
            "bad_public_key", f"clé publique inutilisable : {exc}", code=invalid_code, path=path
        ) from None
    try:
        signature = base64.b64decode(parsed.signature, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(
            "malformed", "signature n'est pas du base64 valide", code=invalid_code, path=path
        ) from None
    if len(signature) != 64:
        raise SignatureError(
            "malformed",
            f"une signature ed25519 fait 64 octets, reçu {len(signature)}",
            code=invalid_code,
            path=path,
        )
    text = signing_string(parsed.created, parsed.expires, digest(body)).encode("ascii")
    try:
        crypto_sign_open(signature + text, key)
    except (BadSignatureError, CryptoError, ValueError):
        raise SignatureError(
            "signature_mismatch",
            "la signature ne correspond pas au corps reçu et à la clé publique "
            "(corps modifié ou re-sérialisé, created/expires modifiés, ou autre clé)",
            code=invalid_code,
            path=path,
        ) from None
