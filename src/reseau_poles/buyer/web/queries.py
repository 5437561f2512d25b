"""What the follow-up pages read from their address (no I/O): the orders' filters and the
report's period. A value that cannot be read is never an exception: it is left out and named
in ``errors`` (field → catalogue key), so the page shows the form again with the message
beside the field (and answers 400).

Orders (``/portail/commandes``): ``pole`` (a pôle's id), ``etat`` (the order's phase:
new, selected, initialized, confirmed, completed, cancelled), ``bc`` (a purchase-order
number), ``du`` and ``au`` (``AAAA-MM-JJ``, both included, Québec's days), ``page``.

Report (``/portail/rapport``): ``du`` and ``au`` (``AAAA-MM-JJ``, both included); absent,
the year so far.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from reseau_poles.protocol.lifecycle import Phase
from reseau_poles.protocol.moments import MomentError, parse_day

from ..services.reports import TIME_ZONE

ORDER_STATES = tuple(phase.value for phase in Phase if phase is not Phase.SEARCHING)
MAX_TEXT = 64
MAX_PAGE = 10_000
PAGE_SIZE = 20


def _text(params: Mapping[str, str], name: str, errors: dict[str, str]) -> str | None:
    value = " ".join((params.get(name) or "").split())
    if not value:
        return None
    if len(value) > MAX_TEXT or "\x00" in value:
        errors[name] = "champ.trop_long"
        return None
    return value


def _day(params: Mapping[str, str], name: str, errors: dict[str, str]) -> date | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        return parse_day(value)
    except MomentError:
        errors[name] = "orders.filtre.date_invalide"
        return None


@dataclass(frozen=True)
class OrderFilters:
    """The list's filters as read; ``errors``: the fields refused (left out)."""

    pole: str | None = None
    state: str | None = None
    purchase_order: str | None = None
    start: date | None = None
    end: date | None = None
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def since(self) -> datetime | None:
        """The first moment of ``start`` in Québec."""
        return datetime.combine(self.start, time(0), TIME_ZONE) if self.start else None

    @property
    def until(self) -> datetime | None:
        """The first moment after ``end`` in Québec (``end`` included)."""
        if self.end is None:
            return None
        return datetime.combine(self.end + timedelta(days=1), time(0), TIME_ZONE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    @property
    def active(self) -> bool:
        return any((self.pole, self.state, self.purchase_order, self.start, self.end))

    def params(self) -> dict[str, str]:
        """The filters as the address writes them (without the page)."""
        values = {
            "pole": self.pole,
            "etat": self.state,
            "bc": self.purchase_order,
            "du": self.start.isoformat() if self.start else None,
            "au": self.end.isoformat() if self.end else None,
        }
        return {k: v for k, v in values.items() if v}

    def query(self) -> str:
        """``?pole=…&`` (ending in ``?`` or ``&``: the pagination adds ``page=``)."""
        encoded = urlencode(self.params())
        return f"?{encoded}&" if encoded else "?"


def parse_order_filters(params: Mapping[str, str]) -> OrderFilters:
    """The filters of ``params`` (a query string's values); never raises."""
    errors: dict[str, str] = {}
    pole = _text(params, "pole", errors)
    state = (params.get("etat") or "").strip() or None
    if state is not None and state not in ORDER_STATES:
        errors["etat"] = "champ.choix_invalide"
        state = None
    purchase_order = _text(params, "bc", errors)
    start = _day(params, "du", errors)
    end = _day(params, "au", errors)
    if start and end and end < start:
        errors["au"] = "orders.filtre.periode_inversee"
        end = None
    raw_page = (params.get("page") or "").strip()
    page = int(raw_page) if raw_page.isdigit() and len(raw_page) <= 6 else 1
    page = min(max(page, 1), MAX_PAGE)
    return OrderFilters(pole, state, purchase_order, start, end, page, errors)


@dataclass(frozen=True)
class Period:
    """The report's period (both days included) and the fields refused."""

    start: date
    end: date
    errors: dict[str, str] = field(default_factory=dict)

    def params(self) -> dict[str, str]:
        return {"du": self.start.isoformat(), "au": self.end.isoformat()}


def year_so_far(today: date) -> Period:
    return Period(date(today.year, 1, 1), today)


def parse_period(params: Mapping[str, str], today: date) -> Period:
    """The period of ``params`` (``du``, ``au``); a day absent or refused takes the year so
    far's (1 January, ``today``); an end before the start is refused. Never raises."""
    errors: dict[str, str] = {}
    default = year_so_far(today)
    start = _day(params, "du", errors)
    end = _day(params, "au", errors)
    errors = {k: "report.periode.date_invalide" for k in errors}
    if start and end and end < start:
        errors["au"] = "report.periode.inversee"
        end = None
    if start is None and end is not None and end < default.start:
        start = date(end.year, 1, 1)
    start = start or default.start
    end = end or max(default.end, start)
    if end < start:
        end = start
    return Period(start, end, errors)
