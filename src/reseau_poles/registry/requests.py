"""What the registry accepts on the wire: the subscribe record, the lookup filters, the
operator's action bodies. Every refusal names the JSON path at fault."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from reseau_poles.protocol import moments
from reseau_poles.protocol.errors import ErrorCode, KeyFormatError, ProtocolError
from reseau_poles.protocol.jsonpath import json_path
from reseau_poles.protocol.keys import (
    ChallengeScheme,
    b64encode,
    decode_encryption_public_key,
    decode_signing_public_key,
)
from reseau_poles.protocol.validation_text import french_message

REGIONS = frozenset(f"QC-{n:02d}" for n in range(1, 18))
ALL = "*"
TYPES = ("BAP", "BPP", "BG")
LOOKUP_TYPES = (*TYPES, "BREG")

_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
SUBSCRIBER_ID = re.compile(rf"^(?=.{{1,253}}$){_HOST_LABEL}(?:\.{_HOST_LABEL})*$")
KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,254}$")
DOMAIN = re.compile(r"^(?:\*|[A-Za-z0-9][A-Za-z0-9:._/-]{0,127})$")
COUNTRY = re.compile(r"^[A-Z]{3}$")


def _domain(value: str) -> str:
    value = value.strip()
    if not DOMAIN.match(value):
        raise ValueError(f"domaine invalide : {value!r} (par ex. PLA:ALIMENTS)")
    return value


def _region(value: str) -> str:
    code = value.strip().upper()
    if code != ALL and code not in REGIONS:
        raise ValueError(f"région invalide : {value!r} ; QC-01 à QC-17, ou * (tout le Québec)")
    return code


Domain = Annotated[str, AfterValidator(_domain)]
Region = Annotated[str, AfterValidator(_region)]


class SubscribeRecord(BaseModel):
    """A participant's record, as sent to ``POST /subscribe``."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    subscriber_id: str
    url: str
    type: str
    domains: list[Domain] = Field(min_length=1, max_length=32)
    regions: list[Region] = Field(min_length=1, max_length=18)
    country: str = "CAN"
    key_id: str
    signing_public_key: str
    encr_public_key: str
    valid_from: datetime
    valid_until: datetime
    # How the registry encrypts this subscribe's challenge; unset: the network's setting.
    challenge_scheme: ChallengeScheme | None = None

    @model_validator(mode="before")
    @classmethod
    def _single_domain(cls, data: Any) -> Any:
        # Beckn's Subscriber has one `domain`; accept it as a one-element list.
        if isinstance(data, dict) and "domains" not in data and isinstance(data.get("domain"), str):
            data = {**data, "domains": [data["domain"]]}
        return data

    @field_validator("subscriber_id")
    @classmethod
    def _subscriber_id(cls, value: str) -> str:
        if not SUBSCRIBER_ID.match(value):
            raise ValueError(
                "doit être un nom d'hôte (lettres, chiffres, tirets, points), "
                "par ex. marche-quebec.example"
            )
        return value.lower()

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "doit être une URL http(s) absolue, par ex. https://noeud.example/beckn"
            )
        if parts.query or parts.fragment or " " in value:
            raise ValueError("ne doit contenir ni requête (?), ni fragment (#), ni espace")
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise ValueError("port invalide") from None
        return value.rstrip("/")

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        upper = value.upper()
        if upper not in TYPES:
            raise ValueError(f"doit valoir {', '.join(TYPES)}")
        return upper

    @field_validator("domains", "regions")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(values))

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        upper = value.upper()
        if not COUNTRY.match(upper):
            raise ValueError("code de pays ISO 3166-1 alpha-3 attendu, par ex. CAN")
        return upper

    @field_validator("key_id")
    @classmethod
    def _key_id(cls, value: str) -> str:
        if not KEY_ID.match(value):
            raise ValueError("identifiant de clé invalide (sans « | » ni espace, 255 car. max.)")
        return value

    @field_validator("signing_public_key")
    @classmethod
    def _signing_key(cls, value: str) -> str:
        try:
            return b64encode(decode_signing_public_key(value))
        except KeyFormatError as exc:
            raise ValueError(f"clé publique Ed25519 inutilisable : {exc}") from None

    @field_validator("encr_public_key")
    @classmethod
    def _encr_key(cls, value: str) -> str:
        try:
            return b64encode(decode_encryption_public_key(value))
        except KeyFormatError as exc:
            raise ValueError(f"clé publique X25519 inutilisable : {exc}") from None

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:00-05:00 is past the last representable moment
            raise ValueError("date hors des limites (an 1 à 9999, en UTC)") from None


def check_window(record: SubscribeRecord, now: datetime) -> None:
    """The validity window must be ordered and not already over."""
    if record.valid_until <= record.valid_from:
        raise ProtocolError(
            "valid_until doit être postérieur à valid_from",
            code=ErrorCode.REGISTRY_INVALID_REQUEST,
            path="valid_until",
        )
    if record.valid_until <= now:
        raise ProtocolError(
            "valid_until est déjà passé : cette clé ne serait jamais valide",
            code=ErrorCode.REGISTRY_INVALID_REQUEST,
            path="valid_until",
        )


# --- turning validation errors into NACKs -----------------------------------------------------


def validation_nack(
    exc: ValidationError | list[dict[str, Any]],
    *,
    code: ErrorCode = ErrorCode.REGISTRY_INVALID_REQUEST,
    strip: int = 0,
) -> ProtocolError:
    """The first validation error as a :class:`ProtocolError` (path + French message).

    ``strip`` drops leading ``loc`` parts (FastAPI's ``body`` / ``query``)."""
    errors = exc.errors() if isinstance(exc, ValidationError) else exc
    if not errors:
        return ProtocolError("requête invalide", code=code)
    first = errors[0]
    loc = tuple(first.get("loc", ()))[strip:]
    message = french_message(first)
    path = json_path(loc, style="indexed")  # ("regions", 1) → regions[1]; () → $
    more = f" (et {len(errors) - 1} autre(s) erreur(s))" if len(errors) > 1 else ""
    return ProtocolError(f"{path} : {message}{more}", code=code, path=path)


# --- lookup filters ---------------------------------------------------------------------------

KEY_ID_FIELDS = ("key_id", "ukId", "unique_key_id")


@dataclass(frozen=True, slots=True)
class LookupFilter:
    """Every filter is optional; text filters are compared case-insensitively."""

    subscriber_id: str | None = None
    key_id: str | None = None
    type: str | None = None
    domain: str | None = None
    region: str | None = None
    country: str | None = None
    # Also the participants suspended less than the grace period ago (only with subscriber_id).
    include_suspended: bool = False


def _bad(path: str, message: str) -> ProtocolError:
    return ProtocolError(f"{path} : {message}", code=ErrorCode.REGISTRY_INVALID_REQUEST, path=path)


def _string(data: dict[str, Any], name: str, path: str | None = None) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(path or name, "une chaîne de caractères est attendue")
    value = value.strip()
    return value or None


def _code(data: dict[str, Any], name: str) -> str | None:
    """``"QC-03"`` or ``{"code": "QC-03"}`` (Beckn's City / Country objects)."""
    value = data.get(name)
    if isinstance(value, dict):
        return _string(value, "code", f"{name}.code")
    return _string(data, name)


def parse_lookup(data: Any) -> LookupFilter:
    if not isinstance(data, dict):
        raise _bad("$", 'un objet JSON est attendu, par ex. {"subscriber_id": "…"}')
    key_id = None
    for name in KEY_ID_FIELDS:
        key_id = key_id or _string(data, name)
    region = _code(data, "city") or _string(data, "region")
    country = _code(data, "country")
    location = data.get("location")
    if location is not None:
        if not isinstance(location, dict):
            raise _bad("location", "un objet JSON est attendu")
        region = region or _code(location, "city")
        country = country or _code(location, "country")
    kind = _string(data, "type")
    if kind is not None:
        kind = kind.upper()
        if kind not in LOOKUP_TYPES:
            raise _bad("type", f"doit valoir {', '.join(LOOKUP_TYPES)}")
    if region is not None:
        region = region.upper()
        if region == ALL:
            region = None
    domain = _string(data, "domain")
    include_suspended = data.get("include_suspended", False)
    if not isinstance(include_suspended, bool):
        raise _bad("include_suspended", "true ou false est attendu")
    return LookupFilter(
        subscriber_id=(_string(data, "subscriber_id") or "").lower() or None,
        key_id=key_id,
        type=kind,
        domain=None if domain in (None, ALL) else domain.casefold(),
        region=region,
        country=country.upper() if country else None,
        include_suspended=include_suspended,
    )


# --- dates of the operator's filters -----------------------------------------------------------


def parse_moment(value: str, path: str) -> datetime:
    """``2026-05-01`` or ``2026-05-01T12:00:00-04:00`` (naive: UTC) as an aware UTC datetime;
    a refusal naming ``path`` for anything else, a date out of 1970…9999 included
    (:mod:`reseau_poles.protocol.moments`)."""
    try:
        return moments.parse_moment(value, naive_is_utc=True)
    except moments.MomentError as exc:
        raise _bad(path, str(exc)) from None


# --- operator bodies --------------------------------------------------------------------------


class AdminAction(BaseModel):
    """Body of an operator's POST: it names the action and its target, so that a signed body
    cannot be replayed against another subscriber or for another action."""

    model_config = ConfigDict(extra="forbid")

    action: str
    subscriber_id: str
    key_id: str | None = None
    reason: str | None = Field(default=None, max_length=2000)


class AdminKey(AdminAction):
    """Body of the operator's ``add_key`` / ``reset_key``: a participant's new public keys
    (its ``keys.json``), registered on the operator's word. ``reset_key`` also revokes every
    other key of the participant. The window: ``valid_from`` (default now) to ``valid_until``
    (default ``valid_days`` later)."""

    key_id: str
    signing_public_key: str
    encr_public_key: str
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int = Field(default=365, ge=1, le=3650)

    _key_id = field_validator("key_id")(SubscribeRecord._key_id.__func__)  # type: ignore[attr-defined]
    _signing = field_validator("signing_public_key")(
        SubscribeRecord._signing_key.__func__  # type: ignore[attr-defined]
    )
    _encr = field_validator("encr_public_key")(
        SubscribeRecord._encr_key.__func__  # type: ignore[attr-defined]
    )

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _utc_or_none(cls, value: datetime | None) -> datetime | None:
        return None if value is None else SubscribeRecord._utc(value)


class AdminRegister(AdminKey):
    """Body of the operator's ``register``: a whole participant, registered SUBSCRIBED on the
    operator's word without a challenge — for a third-party stack that cannot answer one
    (registry/README.md, "Piles tierces"). The reason is required: it stays in the audit log."""

    url: str
    type: str
    domains: list[Domain] = Field(min_length=1, max_length=32)
    regions: list[Region] = Field(min_length=1, max_length=18)
    country: str = "CAN"

    _sid = field_validator("subscriber_id")(
        SubscribeRecord._subscriber_id.__func__  # type: ignore[attr-defined]
    )
    _url = field_validator("url")(SubscribeRecord._url.__func__)  # type: ignore[attr-defined]
    _type = field_validator("type")(SubscribeRecord._type.__func__)  # type: ignore[attr-defined]
    _lists = field_validator("domains", "regions")(
        SubscribeRecord._unique.__func__  # type: ignore[attr-defined]
    )
    _country = field_validator("country")(
        SubscribeRecord._country.__func__  # type: ignore[attr-defined]
    )
