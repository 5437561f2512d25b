"""One bounds policy for the dates and times people and programs send us.

Every date or time a role reads from outside (a filter ``since=…``, a report's ``to=…``, an
operator's ``--since``, a delivery window, a key's validity) goes through here: read strictly,
converted to UTC, and kept between :data:`EARLIEST` and :data:`LATEST`. Outside that range a
date is a mistake or an attack, and arithmetic on it (the day after 9999-12-31, the UTC of
``0001-01-01T00:00:00+14:00``) would overflow Python's calendar: an error answer, not a 500.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final

EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(9999, 12, 30, tzinfo=UTC)
EARLIEST_DAY: Final = EARLIEST.date()
LATEST_DAY: Final = LATEST.date()
_MAX_TEXT: Final = 64
RANGE_TEXT: Final = "entre 1970-01-01 et 9999-12-30"


class MomentError(ValueError):
    """A date or time refused: the French message says why (no path: the caller knows it)."""


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"


def wire_time(moment: datetime) -> str:
    """How every time goes out in a message: RFC 3339 in UTC with exactly three fractional
    digits and ``Z`` (``2026-12-07T02:25:16.094Z``), what Beckn tools write and ONDC's log
    validator requires. Finer digits are cut, never rounded (a time never moves forward);
    a naive ``datetime`` is taken as UTC. Reading stays tolerant (:func:`parse_moment`,
    ``models.scalars.parse_rfc3339``): any RFC 3339 text is accepted."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def parse_moment(value: object, *, naive_is_utc: bool = False) -> datetime:
    """RFC 3339 / ISO 8601 text (``2026-12-09T13:00:00Z``, ``…-05:00``) or an aware
    ``datetime``, as an aware UTC datetime inside the bounds.

    ``naive_is_utc``: a time without zone (or a bare ``AAAA-MM-JJ``) is read as UTC, as an
    operator typing a date expects; otherwise it is refused, as RFC 3339 requires."""
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and len(value.strip()) <= _MAX_TEXT:
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            moment = None
    if moment is None:
        raise MomentError(
            f"date ou heure illisible « {_shown(str(value))} » : RFC 3339 attendu "
            "(2026-12-09T13:00:00Z ou 2026-12-09T08:00:00-05:00)"
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        if not naive_is_utc:
            raise MomentError(
                f"heure sans fuseau « {_shown(str(value))} » : ajoutez Z ou un décalage (-05:00)"
            )
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise MomentError(f"date hors limites : {RANGE_TEXT}") from None
    if not EARLIEST <= moment <= LATEST:
        raise MomentError(f"date hors limites : {RANGE_TEXT}")
    return moment


def parse_day(value: object) -> date:
    """``AAAA-MM-JJ`` (or a :class:`date`) inside the bounds."""
    day: date | None = None
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str) and len(value.strip()) == 10:
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            day = None
    if day is None:
        raise MomentError(f"date AAAA-MM-JJ attendue (2026-09-01), reçu « {_shown(str(value))} »")
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise MomentError(f"date hors limites : {RANGE_TEXT}")
    return day
