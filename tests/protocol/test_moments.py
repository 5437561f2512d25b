"""protocol.moments: every date or time from outside is read strictly and kept in bounds;
anything else is a MomentError (an error answer), never another exception (a 500)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reseau_poles.protocol.moments import (
    EARLIEST,
    LATEST,
    MomentError,
    parse_day,
    parse_moment,
    wire_time,
)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+14:00",  # its UTC is before year 1
        "9999-12-31T23:59:59-14:00",  # its UTC is after year 9999
        "9999-12-31T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "2026-12-07T10:00:00",  # no zone
        "demain",
        "",
        "2026-02-30T10:00:00Z",
        "x" * 10_000,
    ],
)
def test_refused_moments(text: str) -> None:
    with pytest.raises(MomentError):
        parse_moment(text)


def test_accepted_moments_are_utc() -> None:
    assert parse_moment("2026-12-07T08:00:00-05:00") == datetime(2026, 12, 7, 13, tzinfo=UTC)
    assert parse_moment("2026-12-07T13:00:00z").tzinfo == UTC
    assert parse_moment("2026-12-07", naive_is_utc=True) == datetime(2026, 12, 7, tzinfo=UTC)


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "2026-13-01", "26-12-01", "x"])
def test_refused_days(text: str) -> None:
    with pytest.raises(MomentError):
        parse_day(text)


@given(st.text(max_size=80))
def test_any_text_is_a_bounded_moment_or_a_moment_error(text: str) -> None:
    for naive in (False, True):
        try:
            moment = parse_moment(text, naive_is_utc=naive)
        except MomentError:
            continue
        assert moment.tzinfo == UTC and EARLIEST <= moment <= LATEST


@given(st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=14))])))
def test_a_datetime_is_read_back_exactly_when_inside_the_bounds(moment: datetime) -> None:
    try:
        inside = EARLIEST <= moment.astimezone(UTC) <= LATEST
    except OverflowError:  # its UTC leaves the calendar
        inside = False
    if inside:
        assert parse_moment(moment.isoformat()) == moment
    else:
        with pytest.raises(MomentError):
            parse_moment(moment.isoformat())


@given(st.text(max_size=20) | st.dates().map(date.isoformat))
def test_any_day_text_is_a_bounded_day_or_a_moment_error(text: str) -> None:
    try:
        day = parse_day(text)
    except MomentError:
        return
    assert EARLIEST.date() <= day <= LATEST.date()


def test_wire_time_writes_exactly_milliseconds_in_utc() -> None:
    montreal = timezone(timedelta(hours=-5))
    assert wire_time(datetime(2026, 12, 6, 21, 25, 16, 94_999, tzinfo=montreal)) == (
        "2026-12-07T02:25:16.094Z"  # cut, not rounded
    )
    assert wire_time(datetime(2026, 12, 7, 2, 25, 16)) == "2026-12-07T02:25:16.000Z"  # naive: UTC
    assert wire_time(datetime(1970, 1, 1, tzinfo=UTC)) == "1970-01-01T00:00:00.000Z"
    # Reading stays tolerant: whatever RFC 3339 precision comes in.
    for text in (
        "2026-12-07T02:25:16Z",
        "2026-12-07T02:25:16.094123456Z",
        "2026-12-06T21:25:16.0-05:00",
    ):
        assert wire_time(parse_moment(text)).startswith("2026-12-07T02:25:16.")
