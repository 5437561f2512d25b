"""What the follow-up pages read from their address: the orders' filters and the report's
period. Examples, and properties (hypothesis): whatever the address holds, reading it never
raises, what is kept is valid, and what is written back reads the same."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from reseau_poles.buyer.services.reports import TIME_ZONE
from reseau_poles.buyer.web.queries import (
    MAX_PAGE,
    ORDER_STATES,
    PAGE_SIZE,
    parse_order_filters,
    parse_period,
)

TODAY = date(2026, 12, 8)


def test_filters_read_from_an_address() -> None:
    read = parse_order_filters(
        {
            "pole": " pole-capitale ",
            "etat": "confirmed",
            "bc": "BC-42",
            "du": "2026-09-01",
            "au": "2026-09-30",
            "page": "3",
        }
    )
    assert read.errors == {}
    assert (read.pole, read.state, read.purchase_order) == ("pole-capitale", "confirmed", "BC-42")
    assert read.since is not None and read.since.isoformat() == "2026-09-01T00:00:00-04:00"
    assert read.until is not None and read.until.isoformat() == "2026-10-01T00:00:00-04:00"
    assert read.offset == 2 * PAGE_SIZE
    assert (
        read.query() == "?pole=pole-capitale&etat=confirmed&bc=BC-42&du=2026-09-01&au=2026-09-30&"
    )
    assert parse_order_filters({}).query() == "?" and not parse_order_filters({}).active


def test_filters_that_cannot_be_read_are_left_out_and_named() -> None:
    read = parse_order_filters(
        {"etat": "perdue", "du": "2026-02-30", "au": "x", "bc": "y" * 65, "page": "-4"}
    )
    assert read.errors == {
        "etat": "champ.choix_invalide",
        "du": "orders.filtre.date_invalide",
        "au": "orders.filtre.date_invalide",
        "bc": "champ.trop_long",
    }
    assert (read.state, read.start, read.end, read.purchase_order, read.page) == (
        None,
        None,
        None,
        None,
        1,
    )
    inverted = parse_order_filters({"du": "2026-05-02", "au": "2026-05-01"})
    assert inverted.errors == {"au": "orders.filtre.periode_inversee"} and inverted.end is None


@given(st.dictionaries(st.sampled_from(["pole", "etat", "bc", "du", "au", "page", "x"]), st.text()))
def test_reading_filters_never_raises_and_keeps_only_valid_values(params: dict[str, str]) -> None:
    read = parse_order_filters(params)
    assert read.state is None or read.state in ORDER_STATES
    assert 1 <= read.page <= MAX_PAGE
    assert read.purchase_order is None or 1 <= len(read.purchase_order) <= 64
    if read.start and read.end:
        assert read.start <= read.end
    assert set(read.errors) <= {"pole", "etat", "bc", "du", "au"}
    # What the pagination writes back reads the same (the errors left out).
    again = parse_order_filters(dict(parse_qsl(read.query()[1:])))
    assert again.params() == read.params() and again.errors == {}


@given(
    st.one_of(st.none(), st.dates(min_value=date(1970, 1, 1), max_value=date(9998, 12, 1))),
    st.one_of(st.none(), st.dates(min_value=date(1970, 1, 1), max_value=date(9998, 12, 1))),
)
def test_filters_days_round_trip(start: date | None, end: date | None) -> None:
    params = {k: v.isoformat() for k, v in (("du", start), ("au", end)) if v}
    read = parse_order_filters(params)
    assert read.start == start
    assert read.end == (end if not (start and end and end < start) else None)
    if read.since and read.until:
        assert read.since < read.until
        assert read.since.tzinfo is not None and read.until.tzinfo == TIME_ZONE


def test_the_report_period() -> None:
    assert parse_period({}, TODAY).params() == {"du": "2026-01-01", "au": "2026-12-08"}
    assert parse_period({"du": "2025-07-01", "au": "2026-06-30"}, TODAY).errors == {}
    last_year = parse_period({"au": "2025-03-31"}, TODAY)
    assert (last_year.start, last_year.end) == (date(2025, 1, 1), date(2025, 3, 31))
    future = parse_period({"du": "2027-02-01"}, TODAY)
    assert future.start == future.end == date(2027, 2, 1)
    bad = parse_period({"du": "2026-13-01", "au": "2026-01-01"}, TODAY)
    assert bad.errors == {"du": "report.periode.date_invalide"}
    inverted = parse_period({"du": "2026-05-02", "au": "2026-05-01"}, TODAY)
    assert inverted.errors == {"au": "report.periode.inversee"}
    assert inverted.start <= inverted.end


@given(
    st.dictionaries(st.sampled_from(["du", "au", "y"]), st.text(max_size=12)),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
)
def test_reading_a_period_never_raises_and_gives_an_ordered_period(
    params: dict[str, str], today: date
) -> None:
    period = parse_period(params, today)
    assert period.start <= period.end
    assert set(period.errors) <= {"du", "au"}
    if not period.errors:
        assert parse_period(period.params(), today) == period


@given(st.dates(min_value=date(1971, 1, 1), max_value=date(9990, 1, 1)), st.integers(0, 4000))
def test_a_valid_period_reads_as_written(start: date, days: int) -> None:
    end = start + timedelta(days=days)
    period = parse_period({"du": start.isoformat(), "au": end.isoformat()}, TODAY)
    assert (period.start, period.end, period.errors) == (start, end, {})
