"""BECKN-006 signatures: digest, signing string, header build / parse, verification.

No I/O. Everything works on the exact bytes that cross the wire: a body is hashed as
received, never re-serialised (the most common interoperability bug on ONDC).

    digest          = base64(BLAKE2b-512(body))
    signing string  = "(created): {created}\\n(expires): {expires}\\ndigest: BLAKE-512={digest}"
    header          = Signature keyId="{subscriber_id}|{key_id}|ed25519",algorithm="ed25519",
                      created="…",expires="…",headers="(created) (expires) digest",signature="…"

Parsing never lets an exception other than :class:`SignatureError` escape: a malformed header
is an answer (401 and a NACK), not a crash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from nacl.bindings import crypto_sign, crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError

from .errors import ErrorCode, SignatureError
from .keys import SigningKeyPair, decode_signing_public_key

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


class Signer:
    """Signs bodies on behalf of one subscriber key."""

    __slots__ = ("_secret", "default_ttl", "key_id", "subscriber_id")

    def __init__(
        self,
        subscriber_id: str,
        key_id: str,
        key: SigningKeyPair,
        *,
        default_ttl: int = DEFAULT_TTL_SECONDS,
    ) -> None:
        if "|" in subscriber_id or "|" in key_id:
            raise ValueError("subscriber_id et key_id ne peuvent contenir « | »")
        self.subscriber_id = subscriber_id
        self.key_id = key_id
        self._secret = key.secret_key
        self.default_ttl = default_ttl

    def sign(
        self,
        body: bytes,
        *,
        created: int | None = None,
        expires: int | None = None,
        ttl: int | None = None,
    ) -> str:
        """The header value for ``body``. ``expires`` defaults to ``created + ttl``."""
        if created is None:
            created = int(time.time())
        if expires is None:
            expires = created + (self.default_ttl if ttl is None else ttl)
        text = signing_string(created, expires, digest(body)).encode("ascii")
        signature = base64.b64encode(crypto_sign(text, self._secret)[:64]).decode("ascii")
        return build_header(
            self.subscriber_id, self.key_id, signature, created=created, expires=expires
        )


@dataclass(frozen=True, slots=True)
class KeyValidity:
    """When a registered key may be used (unix seconds; ``None`` = open-ended)."""

    valid_from: float | None = None
    valid_until: float | None = None

    @classmethod
    def of(cls, valid_from: datetime | float | None, valid_until: datetime | float | None):
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
    evidence = {
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
