"""The wire formats of Beckn 1.1 scalars, as annotated types for the models.

Beckn sends money, weights and times as *strings*, so that no JSON library on the way turns
``12.50`` into ``12.499999``. These types keep that promise in both directions:

- ``DecimalValue``: a :class:`~decimal.Decimal` in Python; on the wire a decimal string
  (``"12.50"``), never a JSON number. Building in Python also takes ``int`` and ``str``;
  a ``float`` is refused, because it has already lost the cents.
- ``DateTime``: an aware :class:`~datetime.datetime`; RFC 3339 in (any offset), always UTC
  with ``Z`` out (``2026-11-26T10:00:00.000Z``). A naive time is refused: a Go client of the
  network would drop the whole message for it.
- ``Duration``, ``Gps``, ``Uri``, ``Uuid``, ``Email``: strings checked on the way in and
  kept exactly as received, so a message from another implementation keeps its bytes' meaning.

A validator knows it reads the wire when the validation context carries ``{"wire": True}``
(:data:`WIRE`); :func:`reseau_poles.protocol.models.codec.parse_message` sets it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import (
    PlainSerializer,
    PlainValidator,
    Strict,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from ..moments import wire_time

WIRE: Final[Mapping[str, Any]] = {"wire": True}

DECIMAL_PATTERN: Final = r"^[+-]?([0-9]*[.])?[0-9]+$"
_DECIMAL = re.compile(r"[+-]?(?:[0-9]*[.])?[0-9]+")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_NUMBER = r"[0-9]+(?:[.,][0-9]+)?"
# The same grammar for JSON Schema (ECMA-262 regex: no named groups, no \Z).
DURATION_PATTERN: Final = (
    "^P(?!$)({n}Y)?({n}M)?({n}W)?({n}D)?(T(?=[0-9])({n}H)?({n}M)?({n}S)?)?$".format(
        n="[0-9]+([.,][0-9]+)?"
    )
)
_DURATION = re.compile(
    rf"P(?!\Z)(?:(?P<Y>{_NUMBER})Y)?(?:(?P<Mo>{_NUMBER})M)?(?:(?P<W>{_NUMBER})W)?"
    rf"(?:(?P<D>{_NUMBER})D)?(?:T(?=[0-9])(?:(?P<H>{_NUMBER})H)?(?:(?P<Mi>{_NUMBER})M)?"
    rf"(?:(?P<S>{_NUMBER})S)?)?"
)
# Latitude: 0-90 without a leading zero; longitude: 0-180; a space may follow the comma.
_GPS = re.compile(
    r"([+-]?(?:[0-9]|[1-9][0-9])(?:\.[0-9]+)?),[ \t]*([+-]?(?:[0-9]|[1-9][0-9]|1[0-7][0-9]|180)"
    r"(?:\.[0-9]+)?)"
)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]*")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def _is_wire(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("wire"))


def _show(value: object) -> str:
    """A received value as an error message quotes it: short, since NACKs echo it."""
    text = str(value)
    return f"« {text} »" if len(text) <= 40 else f"« {text[:37]}… »"


def _fail(kind: str, message: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, message, {k: _show(v) for k, v in ctx.items()} or None)


# --- decimals -------------------------------------------------------------------------------


def parse_decimal(value: object, info: ValidationInfo) -> Decimal:
    """A decimal string from the wire; str, int or Decimal when built in Python."""
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value):
            raise _fail(
                "decimal_format",
                "nombre décimal attendu sous forme de chaîne, comme « 12.50 » (reçu {value})",
                value=value,
            )
        return Decimal(value)
    if _is_wire(info):
        raise _fail(
            "decimal_type",
            "un nombre décimal voyage comme une chaîne (« 12.50 »), pas comme un nombre JSON",
        )
    if isinstance(value, bool | float):
        raise _fail(
            "decimal_type",
            "float ou bool refusé pour une valeur décimale : utiliser Decimal, int ou str",
        )
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _fail("decimal_format", "valeur décimale non finie refusée")
        return value
    raise _fail("decimal_type", "valeur décimale attendue (Decimal, int ou str)")


def format_decimal(value: Decimal) -> str:
    """Plain notation, never an exponent: ``Decimal("1E-7")`` goes out as ``"0.0000001"``."""
    return format(value, "f")


DecimalValue = Annotated[
    Decimal,
    PlainValidator(parse_decimal),
    PlainSerializer(format_decimal, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN}),
]


# --- times ----------------------------------------------------------------------------------


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 date-time with its offset, as an aware datetime.

    Fractions beyond microseconds (Go writes nanoseconds) are truncated, since Python's
    datetime stops there. Raises :class:`ValueError` with a French message otherwise.
    """
    match = _DATETIME.fullmatch(text)
    if match is None:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9:.]+", text):
            raise ValueError(
                "horodatage sans fuseau horaire : RFC 3339 exige « Z » ou un décalage (+hh:mm)"
            )
        raise ValueError("horodatage RFC 3339 attendu, comme « 2026-11-26T10:00:00.000Z »")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = (match.group(7) or "0")[:6].ljust(6, "0")
    if match.group(8):
        zone = UTC
    else:
        hours, minutes = int(match.group(10)), int(match.group(11))
        if hours > 23 or minutes > 59:
            raise ValueError(f"décalage horaire invalide dans {_show(text)}")
        sign = -1 if match.group(9) == "-" else 1
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    if second == 60:
        raise ValueError("seconde intercalaire (:60) non prise en charge")
    try:
        return datetime(year, month, day, hour, minute, second, int(fraction), tzinfo=zone)
    except ValueError as exc:
        raise ValueError(f"date ou heure impossible dans {_show(text)} ({exc})") from None


def parse_datetime(value: object, info: ValidationInfo) -> datetime:
    """RFC 3339 text from the wire; an aware datetime or RFC 3339 text in Python."""
    if isinstance(value, str):
        try:
            return parse_rfc3339(value)
        except ValueError as exc:
            raise _fail("datetime_format", str(exc)) from None
    if isinstance(value, datetime) and not _is_wire(info):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _fail(
                "datetime_naive",
                "horodatage sans fuseau horaire refusé : utiliser datetime.now(UTC)",
            )
        return value
    raise _fail("datetime_type", "horodatage RFC 3339 attendu (chaîne, ou datetime avec fuseau)")


def format_datetime(value: datetime) -> str:
    """UTC with ``Z`` and exactly milliseconds: :func:`reseau_poles.protocol.moments.wire_time`,
    the one way a time goes out."""
    return wire_time(value)


DateTime = Annotated[
    datetime,
    PlainValidator(parse_datetime),
    PlainSerializer(format_datetime, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def parse_date(value: object, info: ValidationInfo) -> date:
    """``YYYY-MM-DD`` (a birth date, for instance), or a :class:`date` in Python."""
    if isinstance(value, str):
        match = _DATE.fullmatch(value)
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                pass
        raise _fail("date_format", "date attendue au format AAAA-MM-JJ (reçu {value})", value=value)
    if isinstance(value, date) and not isinstance(value, datetime) and not _is_wire(info):
        return value
    raise _fail("date_type", "date attendue au format AAAA-MM-JJ")


Date = Annotated[
    date,
    PlainValidator(parse_date),
    PlainSerializer(date.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date"}),
]


# --- checked strings ------------------------------------------------------------------------


def duration_to_timedelta(text: str) -> timedelta:
    """An ISO 8601 duration as a timedelta; a year counts 365 days and a month 30.

    ``PT30S`` → 30 s. Raises :class:`ValueError` for anything that is not a duration.
    """
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"durée ISO 8601 attendue, comme « PT30S » (reçu {_show(text)})")
    parts = {k: float(v.replace(",", ".")) for k, v in match.groupdict().items() if v}
    days = parts.get("Y", 0) * 365 + parts.get("Mo", 0) * 30 + parts.get("W", 0) * 7
    return timedelta(
        days=days + parts.get("D", 0),
        hours=parts.get("H", 0),
        minutes=parts.get("Mi", 0),
        seconds=parts.get("S", 0),
    )


def parse_gps(text: str) -> tuple[float, float]:
    """``"46.8139,-71.2080"`` → (latitude, longitude); ranges checked."""
    match = _GPS.fullmatch(text)
    if match is None:
        raise ValueError(f"coordonnées « latitude,longitude » attendues (reçu {_show(text)})")
    latitude, longitude = float(match.group(1)), float(match.group(2))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError(
            f"latitude hors de [-90, 90] ou longitude hors de [-180, 180] : {_show(text)}"
        )
    return latitude, longitude


def format_gps(latitude: float, longitude: float, *, digits: int = 6) -> str:
    """The wire form of a point: ``"46.813900,-71.208000"``."""
    text = f"{latitude:.{digits}f},{longitude:.{digits}f}"
    parse_gps(text)
    return text


def _string_check(kind: str, check: Any, message: str) -> PlainValidator:
    def validate(value: object) -> str:
        if not isinstance(value, str):
            raise _fail(f"{kind}_type", message)
        try:
            ok = check(value)
        except ValueError as exc:
            raise _fail(f"{kind}_format", str(exc)) from None
        if ok is False:
            raise _fail(f"{kind}_format", message + " (reçu {value})", value=value)
        return value

    return PlainValidator(validate)


Duration = Annotated[
    str,
    _string_check("duration", duration_to_timedelta, "durée ISO 8601 attendue, comme « PT30S »"),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN}),
]
Gps = Annotated[
    str,
    _string_check("gps", parse_gps, "coordonnées « latitude,longitude » attendues"),
    WithJsonSchema({"type": "string", "pattern": f"^{_GPS.pattern}$"}),
]
Uri = Annotated[
    str,
    _string_check("uri", lambda v: bool(_URI.fullmatch(v)), "URI absolue attendue"),
    WithJsonSchema({"type": "string", "format": "uri"}),
]
Uuid = Annotated[
    str,
    _string_check("uuid", lambda v: bool(_UUID.fullmatch(v)), "UUID attendu"),
    WithJsonSchema({"type": "string", "format": "uuid"}),
]
Email = Annotated[
    str,
    _string_check("email", lambda v: bool(_EMAIL.fullmatch(v)), "adresse courriel attendue"),
    WithJsonSchema({"type": "string", "format": "email"}),
]

# JSON integers and booleans stay what they are: no "3" → 3 or 1 → True on the way in.
Count = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]
