"""Delivery windows against a pôle's declared delivery rules: a pure rule, no I/O.

A buyer asks for delivery between ``start`` and ``end`` (``stops[].time.range`` on the wire);
the pôle declares, on each fulfilment option, in its ``modalites`` tag group:

================== ==================== ================================================
tag code           example              meaning
================== ==================== ================================================
``delai_heures``   ``48``               lead time: hours of notice before a delivery
``jours``          ``lun,mar,jeu``      delivery days (``lun-ven`` for a range)
``heures``         ``07:00-15:00``      delivery hours, Québec local time
``plage_max_heures`` ``72``             longest window the pôle accepts (hours)
``minimum_commande`` ``150.00``         minimum order (CAD, items before taxes)
================== ==================== ================================================

Every tag is optional: what is not declared is not checked, except that a window is never
in the past, never inverted, never longer than :data:`DEFAULT_MAX_WINDOW_HOURS` (when the
pôle declares no ``plage_max_heures``) and never more than :data:`MAX_AHEAD_DAYS` ahead.

:func:`check_window` is what both nodes call: the buyer node when a window is set on a cart
or an order (a 4xx naming the field), the seller node in select, init and confirm (a NACK
with the JSON path). It accepts a window when at least one instant in it, after the lead
time, falls on a delivery day within the delivery hours; it returns that first instant.
Times at the extremes (year 1, year 9999, offsets that overflow) are refused, never raised
as anything but :class:`ProtocolError`.

    >>> from datetime import datetime, timezone
    >>> now = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)   # a Monday, 07:00 in Québec
    >>> rules = DeliveryRules(lead_time_hours=24, days=parse_days("lun-ven"))
    >>> check_window("2026-12-09T13:00:00Z", "2026-12-09T21:00:00Z", now=now, rules=rules).earliest
    datetime.datetime(2026, 12, 9, 13, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from zoneinfo import ZoneInfo

from .. import moments
from ..errors import ErrorCode, ProtocolError
from ._plain import shown
from .tags import collect, tag

QUEBEC: Final = ZoneInfo("America/Toronto")
# lun … dim, in the order of ``datetime.weekday()``.
DAY_CODES: Final = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")
DAY_NAMES: Final = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
DEFAULT_MAX_WINDOW_HOURS: Final = 7 * 24
MAX_WINDOW_HOURS: Final = 366 * 24
MAX_AHEAD_DAYS: Final = 366
MODALITES: Final = "modalites"

_HOURS = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


@dataclass(frozen=True, slots=True)
class DeliveryRules:
    """What a fulfilment option declares about when it delivers (``None``: not declared)."""

    lead_time_hours: int = 0
    days: frozenset[int] | None = None
    hours: tuple[time, time] | None = None
    max_window_hours: int | None = None
    minimum_order: Decimal | None = None

    @property
    def max_window(self) -> timedelta:
        return timedelta(hours=self.max_window_hours or DEFAULT_MAX_WINDOW_HOURS)

    def to_tags(self) -> list[dict[str, Any]]:
        """The ``modalites`` tags for what is declared (``delai_heures`` always)."""
        tags = [tag("delai_heures", str(self.lead_time_hours), name="Délai (heures)")]
        if self.days is not None:
            tags.append(tag("jours", format_days(self.days), name="Jours de livraison"))
        if self.hours is not None:
            tags.append(tag("heures", format_hours(self.hours), name="Heures de livraison"))
        if self.max_window_hours is not None:
            tags.append(
                tag("plage_max_heures", str(self.max_window_hours), name="Plage maximale (heures)")
            )
        if self.minimum_order is not None:
            tags.append(
                tag("minimum_commande", f"{self.minimum_order:.2f}", name="Commande minimale (CAD)")
            )
        return tags

    def describe(self) -> str:
        """In French, for messages: « lun, mer, ven, 07:00-15:00, 48 h de préavis »."""
        parts = []
        if self.days is not None:
            parts.append(", ".join(DAY_CODES[d] for d in sorted(self.days)))
        if self.hours is not None:
            parts.append(format_hours(self.hours))
        if self.lead_time_hours:
            parts.append(f"{self.lead_time_hours} h de préavis")
        return ", ".join(parts) or "en tout temps"


@dataclass(frozen=True, slots=True)
class WindowCheck:
    """An accepted window, in UTC, and the first instant the pôle can deliver in it."""

    start: datetime
    end: datetime
    earliest: datetime


# --- declared rules: text forms ---------------------------------------------------------------


def parse_days(text: object) -> frozenset[int]:
    """``"lun,mer,ven"``, ``"lun-ven"``, ``"sam-lun"`` (through Sunday) → weekday numbers.

    Raises :class:`ValueError` (French message) for anything else."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("jours de livraison attendus : lun,mar,… ou lun-ven")
    days: set[int] = set()
    for part in re.split(r"[\s,;|]+", text.strip().casefold()):
        if not part:
            continue
        ends = part.split("-")
        if len(ends) > 2 or any(e not in DAY_CODES and e not in DAY_NAMES for e in ends):
            raise ValueError(
                f"jour inconnu « {shown(part)} » : lun, mar, mer, jeu, ven, sam, dim (ou lun-ven)"
            )
        first, last = (DAY_CODES.index(e[:3]) for e in (ends[0], ends[-1]))
        day = first
        while True:
            days.add(day)
            if day == last:
                break
            day = (day + 1) % 7
    if not days:
        raise ValueError("au moins un jour de livraison")
    return frozenset(days)


def format_days(days: Iterable[int]) -> str:
    return ",".join(DAY_CODES[d] for d in sorted(set(days)))


def parse_hours(text: object) -> tuple[time, time]:
    """``"07:00-15:00"`` → the opening and closing times (closing after opening, same day)."""
    match = _HOURS.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"heures attendues HH:MM-HH:MM, reçu « {shown(text)} »")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"heure impossible dans « {shown(text)} »")
    opening, closing = time(h1, m1), time(h2, m2)
    if closing <= opening:
        raise ValueError("l'heure de fin doit suivre l'heure de début (HH:MM-HH:MM)")
    return opening, closing


def format_hours(hours: tuple[time, time]) -> str:
    return f"{hours[0]:%H:%M}-{hours[1]:%H:%M}"


def delivery_rules_from_tags(
    tags: Any, *, path: str = "tags", error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> DeliveryRules:
    """Read the ``modalites`` group of a fulfilment's ``tags`` (what is absent is not declared).

    Raises :class:`ProtocolError` at the value's path for a value it cannot read."""
    group = collect(tags, [MODALITES], path=path, error_code=error_code).get(MODALITES)
    if group is None:
        return DeliveryRules()
    values: dict[str, Any] = {}
    readers: dict[str, tuple[str, Callable[[object], object]]] = {
        "delai_heures": ("lead_time_hours", lambda v: _whole(v, 0, 24 * 365)),
        "jours": ("days", parse_days),
        "heures": ("hours", parse_hours),
        "plage_max_heures": ("max_window_hours", lambda v: _whole(v, 1, MAX_WINDOW_HOURS)),
        "minimum_commande": ("minimum_order", _amount),
    }
    for code, (field, read) in readers.items():
        found = group.single(code, error_code=error_code)
        if found is None:
            continue
        try:
            values[field] = read(found.value)
        except ValueError as exc:
            raise ProtocolError(
                f"Modalité « {code} » illisible : {exc}.", code=error_code, path=found.path
            ) from None
    return DeliveryRules(**values)


def _whole(value: object, low: int, high: int) -> int:
    text = value.strip() if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or not low <= int(text) <= high:
        raise ValueError(f"entier de {low} à {high} attendu, reçu « {shown(value)} »")
    return int(text)


def _amount(value: object) -> Decimal:
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) and len(value) < 20 else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise ValueError(f"montant attendu, reçu « {shown(value)} »")
    return amount


# --- the rule ---------------------------------------------------------------------------------


def parse_instant(
    value: object, *, path: str, error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> datetime:
    """An RFC 3339 time with its zone (text or ``datetime``), in UTC, inside the network's
    bounds (:mod:`reseau_poles.protocol.moments`).

    Raises :class:`ProtocolError` at ``path`` for text that is not one, a time without zone,
    or one out of bounds (``0001-01-01T00:00:00+05:00``, year 9999)."""
    try:
        return moments.parse_moment(value)
    except moments.MomentError as exc:
        raise ProtocolError(
            f"Heure refusée : {exc}.", code=error_code, path=path, details={"reason": "illisible"}
        ) from None


def _refuse(message: str, reason: str, path: str, code: ErrorCode) -> ProtocolError:
    return ProtocolError(message, code=code, path=path, details={"reason": reason})


def _local(instant: datetime) -> str:
    try:
        return f"{instant.astimezone(QUEBEC):%Y-%m-%d %H:%M}"
    except (OverflowError, ValueError):
        return instant.isoformat()


def check_window(
    start: object,
    end: object,
    *,
    now: datetime,
    rules: DeliveryRules | None = None,
    start_path: str = "delivery_window.start",
    end_path: str = "delivery_window.end",
    error_code: ErrorCode = ErrorCode.INVALID_REQUEST,
) -> WindowCheck:
    """Accept the window ``[start, end)`` at ``now`` under ``rules``, or refuse it.

    Refusals are :class:`ProtocolError` (``error_code``, the path of the bound at fault,
    ``details["reason"]``: ``illisible``, ``inversee``, ``passee``, ``trop_loin``,
    ``trop_longue``, ``delai``, ``jour``, ``heures``)."""
    rules = rules or DeliveryRules()
    low = parse_instant(start, path=start_path, error_code=error_code)
    high = parse_instant(end, path=end_path, error_code=error_code)
    now = now.astimezone(UTC)
    if high <= low:
        raise _refuse(
            "La fin de la plage de livraison doit suivre son début.",
            "inversee",
            end_path,
            error_code,
        )
    if low < now:
        raise _refuse(
            f"Plage de livraison dans le passé (début {_local(low)}, heure du Québec).",
            "passee",
            start_path,
            error_code,
        )
    if low - now > timedelta(days=MAX_AHEAD_DAYS):
        raise _refuse(
            f"Plage de livraison trop lointaine : au plus {MAX_AHEAD_DAYS} jours d'avance.",
            "trop_loin",
            start_path,
            error_code,
        )
    if high - low > rules.max_window:
        hours = int(rules.max_window.total_seconds() // 3600)
        raise _refuse(
            f"Plage de livraison trop longue : le pôle accepte au plus {hours} h.",
            "trop_longue",
            end_path,
            error_code,
        )
    ready = max(low, now + timedelta(hours=rules.lead_time_hours))
    if ready >= high:
        raise _refuse(
            f"Le pôle demande {rules.lead_time_hours} h de préavis : livraison possible à partir "
            f"du {_local(now + timedelta(hours=rules.lead_time_hours))} (heure du Québec).",
            "delai",
            end_path,
            error_code,
        )
    earliest = _first_slot(ready, high, rules)
    if earliest is None:
        reason = "heures"
        if rules.days is not None and not any(
            day.weekday() in rules.days for day in _local_days(ready, high)
        ):
            reason = "jour"
        raise _refuse(
            f"Aucun créneau de livraison du pôle dans cette plage ({rules.describe()}, heure du "
            "Québec).",
            reason,
            start_path,
            error_code,
        )
    return WindowCheck(low, high, earliest)


def next_slot(rules: DeliveryRules, now: datetime, horizon_days: int = 21) -> datetime | None:
    """The first instant the option can deliver, ordered at ``now``: after its lead time, on
    a delivery day within its hours (UTC); ``None`` when none falls in ``horizon_days``.

    >>> from datetime import datetime, timezone
    >>> now = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)   # Monday, 07:00 in Québec
    >>> rules = DeliveryRules(lead_time_hours=48, days=parse_days("mar,jeu"),
    ...                       hours=parse_hours("08:00-12:00"))
    >>> next_slot(rules, now)                                   # Thursday, 08:00 in Québec
    datetime.datetime(2026, 12, 10, 13, 0, tzinfo=datetime.timezone.utc)
    """
    moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    ready = moment.astimezone(UTC) + timedelta(hours=rules.lead_time_hours)
    return _first_slot(ready, ready + timedelta(days=horizon_days), rules)


def _local_days(low: datetime, high: datetime) -> Iterable[date]:
    day = low.astimezone(QUEBEC).date()
    last = high.astimezone(QUEBEC).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _first_slot(low: datetime, high: datetime, rules: DeliveryRules) -> datetime | None:
    """The first instant in ``[low, high)`` on a delivery day within the delivery hours."""
    for day in _local_days(low, high):
        if rules.days is not None and day.weekday() not in rules.days:
            continue
        opening, closing = rules.hours or (time(0), None)
        slot_open = datetime.combine(day, opening, QUEBEC).astimezone(UTC)
        if closing is None:
            slot_close = datetime.combine(day + timedelta(days=1), time(0), QUEBEC).astimezone(UTC)
        else:
            slot_close = datetime.combine(day, closing, QUEBEC).astimezone(UTC)
        candidate = max(low, slot_open)
        if candidate < min(high, slot_close):
            return candidate
    return None


__all__ = [
    "DAY_CODES",
    "DEFAULT_MAX_WINDOW_HOURS",
    "MAX_AHEAD_DAYS",
    "QUEBEC",
    "DeliveryRules",
    "WindowCheck",
    "check_window",
    "delivery_rules_from_tags",
    "format_days",
    "format_hours",
    "next_slot",
    "parse_days",
    "parse_hours",
    "parse_instant",
]
