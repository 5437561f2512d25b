"""What crosses the wire: the digest of the raw body, the signing string, and the signature
header built and parsed.

Parsing never lets an exception other than :class:`~reseau_poles.protocol.errors.SignatureError`
escape: a malformed header is an answer (401 and a NACK), not a crash."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from ..errors import SignatureError

ALGORITHM = "ed25519"
SIGNED_HEADERS = "(created) (expires) digest"
DIGEST_ALGORITHM = "BLAKE-512"
DEFAULT_SKEW_SECONDS = 5
DEFAULT_TTL_SECONDS = 30

AUTHORIZATION = "Authorization"
GATEWAY_AUTHORIZATION = "X-Gateway-Authorization"
PROXY_AUTHORIZATION = "Proxy-Authorization"

_REQUIRED_PARAMS = ("keyId", "algorithm", "created", "expires", "headers", "signature")
# One auth-param: name = "quoted value" | token. Quoted values may hold escaped quotes.
_PARAM = re.compile(
    r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|([^\s,"]+))\s*'
)
# The form every Beckn tool writes (and ours): one match, no tokenizing.
_CANONICAL = re.compile(
    r'Signature keyId="([^"|\\]+)\|([^"|\\]+)\|([^"|\\]+)",algorithm="([^"\\]*)",'
    r'created="(\d{1,12})",expires="(\d{1,12})",headers="([^"\\]*)",signature="([^"\\]*)"'
)
_UNESCAPE = re.compile(r"\\(.)")
_TIMESTAMP = re.compile(r"\d{1,12}(\.\d{1,9})?")
_MAX_HEADER_LENGTH = 4096


def digest(body: bytes) -> str:
    """base64 of the BLAKE2b-512 hash of the raw body bytes."""
    return base64.b64encode(hashlib.blake2b(body, digest_size=64).digest()).decode("ascii")


def signing_string(created: int, expires: int, body_digest: str) -> str:
    """The three lines that get signed, joined by a single ``\\n`` (no trailing newline)."""
    return f"(created): {created}\n(expires): {expires}\ndigest: {DIGEST_ALGORITHM}={body_digest}"


@dataclass(frozen=True, slots=True)
class SignatureHeader:
    """A parsed ``Authorization`` / ``X-Gateway-Authorization`` header."""

    subscriber_id: str
    key_id: str
    key_algorithm: str
    algorithm: str
    created: int
    expires: int
    headers: str
    signature: str
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def key_id_param(self) -> str:
        """The ``keyId`` parameter as it appears on the wire."""
        return f"{self.subscriber_id}|{self.key_id}|{self.key_algorithm}"

    def to_header(self) -> str:
        """Canonical rendering (the order and spacing of BECKN-006's example)."""
        return build_header(
            self.subscriber_id,
            self.key_id,
            self.signature,
            created=self.created,
            expires=self.expires,
            algorithm=self.algorithm,
            key_algorithm=self.key_algorithm,
            headers=self.headers,
        )


def build_header(
    subscriber_id: str,
    key_id: str,
    signature: str,
    *,
    created: int,
    expires: int,
    algorithm: str = ALGORITHM,
    key_algorithm: str | None = None,
    headers: str = SIGNED_HEADERS,
) -> str:
    """The header value (without the header name), as BECKN-006 shows it."""
    return (
        f'Signature keyId="{subscriber_id}|{key_id}|{key_algorithm or algorithm}",'
        f'algorithm="{algorithm}",created="{created}",expires="{expires}",'
        f'headers="{headers}",signature="{signature}"'
    )


def _malformed(detail: str, header_name: str) -> SignatureError:
    return SignatureError(
        "malformed",
        f"En-tête {header_name} mal formé : {detail}",
        path=f"headers.{header_name}",
    )


def unquote_header(text: str) -> tuple[str, bool]:
    """The value without the one pair of double quotes ONDC's Python reference helper puts
    around the whole of it (``"Signature keyId=\"…\",…,signature=\"…\""``, which ONDC's own
    verifiers accept), and whether there was such a pair.

    Exactly that form and nothing looser: one pair, around the whole value, right against
    the scheme. Two pairs, single quotes, spaces inside the quotes or a lone quote at one end
    are left as they are, and the parser refuses them as malformed."""
    if (
        len(text) > 2
        and text[0] == '"'
        and text[-1] == '"'
        and text[1] not in '" \t'
        and not text[-2].isspace()
    ):
        return text[1:-1], True
    return text, False


def is_signature(value: str | bytes | None) -> bool:
    """Whether a header value is of the ``Signature`` scheme (quoted or not), whatever its
    parameters: what tells a gateway's ``Proxy-Authorization`` from a forward proxy's
    credentials (``Basic …``)."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return False
    text = unquote_header(value.strip())[0]
    return text[:10].lower() == "signature "


def parse_header(value: str | bytes | None, *, header_name: str = AUTHORIZATION) -> SignatureHeader:
    """Parse a signature header. Parameters may come in any order with any spacing; the
    whole value may sit inside one pair of double quotes (:func:`unquote_header`).

    Raises :class:`SignatureError` (reason ``missing`` or ``malformed``) and nothing else.
    """
    if value is None or (isinstance(value, str | bytes) and not value.strip()):
        raise SignatureError(
            "missing", f"En-tête {header_name} absent", path=f"headers.{header_name}"
        )
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            raise _malformed("caractères non ASCII", header_name) from None
    if not isinstance(value, str):
        raise _malformed("valeur inattendue", header_name)
    if len(value) > _MAX_HEADER_LENGTH:
        raise _malformed(f"plus de {_MAX_HEADER_LENGTH} caractères", header_name)

    text, _ = unquote_header(value.strip())
    canonical = _CANONICAL.fullmatch(text)
    if canonical is not None and all(part.strip() for part in canonical.group(1, 2, 3)):
        sub, key, key_alg, alg, created, expires, headers, sig = canonical.groups()
        return SignatureHeader(
            sub.strip(),
            key.strip(),
            key_alg.strip(),
            alg.strip(),
            int(created),
            int(expires),
            headers,
            sig.strip(),
        )
    scheme, _, rest = text.partition(" ")
    if scheme.lower() != "signature" or not rest.strip():
        raise _malformed("le schéma doit être « Signature » suivi des paramètres", header_name)

    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None:
            raise _malformed(f"paramètre illisible à la position {position}", header_name)
        name, quoted, bare = match.group(1), match.group(2), match.group(3)
        if name in params:
            raise _malformed(f"paramètre {name} répété", header_name)
        if quoted is None:
            params[name] = bare
        else:
            params[name] = _UNESCAPE.sub(r"\1", quoted) if "\\" in quoted else quoted
        position = match.end()
        if position < len(rest):
            if rest[position] != ",":
                raise _malformed(f"virgule attendue à la position {position}", header_name)
            position += 1

    missing = [name for name in _REQUIRED_PARAMS if name not in params]
    if missing:
        raise _malformed(f"paramètre(s) manquant(s) : {', '.join(missing)}", header_name)

    parts = params["keyId"].split("|")
    if len(parts) != 3 or not all(part.strip() for part in parts):
        raise _malformed(
            'keyId doit avoir la forme "{subscriber_id}|{key_id}|{algorithme}"', header_name
        )
    created = _parse_timestamp(params["created"], "created", header_name)
    expires = _parse_timestamp(params["expires"], "expires", header_name)
    extra = tuple((k, v) for k, v in params.items() if k not in _REQUIRED_PARAMS)
    return SignatureHeader(
        subscriber_id=parts[0].strip(),
        key_id=parts[1].strip(),
        key_algorithm=parts[2].strip(),
        algorithm=params["algorithm"].strip(),
        created=created,
        expires=expires,
        headers=params["headers"],
        signature=params["signature"].strip(),
        extra=extra,
    )


def _parse_timestamp(raw: str, name: str, header_name: str) -> int:
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) <= 12:
        return int(text)
    # Unix seconds; some tools send a fractional part, which we accept and truncate.
    if not _TIMESTAMP.fullmatch(text):
        raise _malformed(
            f"{name} doit être un horodatage Unix en secondes, reçu {raw!r}", header_name
        )
    return int(text.split(".")[0])
