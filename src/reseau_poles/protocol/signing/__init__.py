"""BECKN-006 signatures: digest, signing string, header build / parse, verification.

No I/O. Everything works on the exact bytes that cross the wire: a body is hashed as
received, never re-serialised (the most common interoperability bug on ONDC).

    digest          = base64(BLAKE2b-512(body))
    signing string  = "(created): {created}\\n(expires): {expires}\\ndigest: BLAKE-512={digest}"
    header          = Signature keyId="{subscriber_id}|{key_id}|ed25519",algorithm="ed25519",
                      created="…",expires="…",headers="(created) (expires) digest",signature="…"

Parsing never lets an exception other than :class:`SignatureError` escape: a malformed header
is an answer (401 and a NACK), not a crash.

The modules: :mod:`.header` (digest, signing string, the header built and parsed),
:mod:`.signer`, :mod:`.verification` and :mod:`.diagnosis` (why a signature fails, for a
person); this package gives them all.
"""

from .diagnosis import Diagnosis, diagnose, explain
from .header import (
    ALGORITHM,
    AUTHORIZATION,
    DEFAULT_SKEW_SECONDS,
    DEFAULT_TTL_SECONDS,
    DIGEST_ALGORITHM,
    GATEWAY_AUTHORIZATION,
    PROXY_AUTHORIZATION,
    SIGNED_HEADERS,
    SignatureHeader,
    build_header,
    digest,
    is_signature,
    parse_header,
    signing_string,
    unquote_header,
)
from .signer import Signer
from .verification import KeyValidity, check_header, verify, verify_signature

__all__ = [
    "ALGORITHM",
    "AUTHORIZATION",
    "DEFAULT_SKEW_SECONDS",
    "DEFAULT_TTL_SECONDS",
    "DIGEST_ALGORITHM",
    "GATEWAY_AUTHORIZATION",
    "PROXY_AUTHORIZATION",
    "SIGNED_HEADERS",
    "Diagnosis",
    "KeyValidity",
    "SignatureHeader",
    "Signer",
    "build_header",
    "check_header",
    "diagnose",
    "digest",
    "explain",
    "is_signature",
    "parse_header",
    "signing_string",
    "unquote_header",
    "verify",
    "verify_signature",
]
