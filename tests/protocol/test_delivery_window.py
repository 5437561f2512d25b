"""Delivery windows against a pôle's declared rules (protocol.profile.delivery_window):
properties over any times, including the calendar's ends, and any declared rules."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.profile import (
    DeliveryRules,
    check_window,
    delivery_rules_from_tags,
    next_slot,
    parse_days,
    parse_hours,
    tag_group,
)
from reseau_poles.protocol.profile.delivery_window import QUEBEC

NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # a Monday, noon in Québec
REASONS = {"illisible", "inversee", "passee", "trop_loin", "trop_longue", "delai", "jour", "heures"}

offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda m: timezone(timedelta(minutes=m))
)
# Anywhere in the calendar, with any offset: year 1, year 9999, offsets that overflow in UTC.
anywhere = st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=offsets)
# Near now: where the interesting answers are.
near = st.integers(min_value=-3 * 24 * 60, max_value=30 * 24 * 60).map(
    lambda m: NOW + timedelta(minutes=m)
)
hours = st.tuples(st.integers(0, 22), st.integers(0, 59), st.integers(1, 24 * 60 - 1)).map(
    lambda t: (time(t[0], t[1]), min(t[0] * 60 + t[1] + t[2], 23 * 60 + 59))
)
rules = st.builds(
    DeliveryRules,
    lead_time_hours=st.integers(0, 24 * 14),
    days=st.none() | st.frozensets(st.integers(0, 6), min_size=1),
    hours=st.none()
    | hours.filter(lambda h: h[1] > h[0].hour * 60 + h[0].minute).map(
        lambda h: (h[0], time(h[1] // 60, h[1] % 60))
    ),
    max_window_hours=st.none() | st.integers(1, 24 * 30),
)


def _refusal(start: object, end: object, rule: DeliveryRules) -> ProtocolError | None:
    try:
        check_window(start, end, now=NOW, rules=rule)
    except ProtocolError as exc:
        return exc
    return None


@settings(max_examples=300)
@given(anywhere, anywhere, rules)
def test_any_times_are_answered_never_raised(
    start: datetime, end: datetime, rule: DeliveryRules
) -> None:
    for low, high in ((start, end), (start.isoformat(), end.isoformat())):
        refused = _refusal(low, high, rule)
        if refused is not None:
            assert refused.code is ErrorCode.INVALID_REQUEST
            assert refused.path in ("delivery_window.start", "delivery_window.end")
            assert refused.details["reason"] in REASONS or refused.details == {}
            assert refused.message


@settings(max_examples=400)
@given(near, st.integers(1, 10 * 24 * 60), rules)
def test_an_accepted_window_holds_a_true_delivery_slot(
    start: datetime, minutes: int, rule: DeliveryRules
) -> None:
    end = start + timedelta(minutes=minutes)
    try:
        found = check_window(start, end, now=NOW, rules=rule)
    except ProtocolError as exc:
        reason = exc.details["reason"]
        if start < NOW:
            assert reason == "passee"
        elif end - start > rule.max_window:
            assert reason == "trop_longue"
        return
    assert NOW <= found.start < found.end and found.end - found.start <= rule.max_window
    assert found.start <= found.earliest < found.end
    assert found.earliest >= NOW + timedelta(hours=rule.lead_time_hours)
    local = found.earliest.astimezone(QUEBEC)
    if rule.days is not None:
        assert local.weekday() in rule.days
    if rule.hours is not None:
        assert rule.hours[0] <= local.time() < rule.hours[1]


@settings(max_examples=300)
@given(rules, st.integers(0, 20), st.integers(0, 23 * 60), st.integers(1, 120), st.integers(0, 120))
def test_a_window_around_a_valid_slot_is_accepted(
    rule: DeliveryRules, day_offset: int, minute: int, before: int, after: int
) -> None:
    """Completeness: a window that contains an instant on a delivery day within the hours,
    after the lead time, is accepted."""
    ready = NOW + timedelta(hours=rule.lead_time_hours)
    day = ready.astimezone(QUEBEC).date() + timedelta(days=day_offset)
    if rule.days is not None and day.weekday() not in rule.days:
        return
    at = datetime.combine(day, time(minute // 60, minute % 60), QUEBEC).astimezone(UTC)
    if rule.hours is not None and not (
        rule.hours[0] <= at.astimezone(QUEBEC).time() < rule.hours[1]
    ):
        return
    if at < ready:
        return
    start = max(at - timedelta(minutes=before), NOW)
    end = at + timedelta(minutes=after + 1)
    if end - start > rule.max_window:
        return
    found = check_window(start, end, now=NOW, rules=rule)
    assert found.earliest <= at


@given(st.text(max_size=80), st.text(max_size=80))
def test_any_text_is_refused_with_its_path(start: str, end: str) -> None:
    refused = _refusal(start, end, DeliveryRules())
    if refused is not None:
        assert refused.path in ("delivery_window.start", "delivery_window.end")


@pytest.mark.parametrize(
    ("start", "end", "reason", "path"),
    [
        ("2020-03-02T13:00:00Z", "2020-03-02T16:00:00Z", "passee", "start"),
        ("2026-12-09T16:00:00Z", "2026-12-09T13:00:00Z", "inversee", "end"),
        ("2026-12-09T13:00:00Z", "2026-12-19T13:00:00Z", "trop_longue", "end"),
        ("2028-06-01T13:00:00Z", "2028-06-01T16:00:00Z", "trop_loin", "start"),
        ("9999-12-31T10:00:00Z", "9999-12-31T12:00:00Z", None, "start"),  # out of bounds
        ("0001-01-01T00:00:00+05:00", "2026-12-09T13:00:00Z", None, "start"),
        ("2026-12-09T13:00:00Z", "9999-12-31T23:59:59-05:00", None, "end"),
        ("2026-12-09T13:00:00", "2026-12-09T16:00:00Z", None, "start"),
        ("demain", "2026-12-09T16:00:00Z", None, "start"),
        ("2026-12-07T18:00:00Z", "2026-12-07T20:00:00Z", "delai", "end"),  # lead time 48 h
        ("2026-12-12T14:00:00Z", "2026-12-13T20:00:00Z", "jour", "start"),  # sat–sun
        ("2026-12-10T02:00:00Z", "2026-12-10T04:00:00Z", "heures", "start"),  # night
    ],
)
def test_refusals_say_why_and_where(start: str, end: str, reason: str | None, path: str) -> None:
    rule = DeliveryRules(
        lead_time_hours=48, days=parse_days("lun-ven"), hours=parse_hours("07:00-15:00")
    )
    refused = _refusal(start, end, rule)
    assert refused is not None
    assert refused.path == f"delivery_window.{path}"
    if reason is not None:
        assert refused.details["reason"] == reason


def test_declared_rules_read_from_tags_and_back() -> None:
    rule = DeliveryRules(
        lead_time_hours=48,
        days=parse_days("lun,mer,ven"),
        hours=parse_hours("07:00-15:00"),
        max_window_hours=72,
    )
    group = tag_group("modalites", [*rule.to_tags()])
    assert delivery_rules_from_tags([group]) == rule
    assert parse_days("sam-lun") == frozenset({5, 6, 0})
    assert parse_days("Lundi, Mardi") == frozenset({0, 1})
    for bad in ("", "lundo", "lun-mar-mer"):
        with pytest.raises(ValueError):
            parse_days(bad)
    for bad in ("7h-15h", "15:00-07:00", "25:00-26:00", None):
        with pytest.raises(ValueError):
            parse_hours(bad)
    broken = tag_group("modalites", [{"descriptor": {"code": "jours"}, "value": "lundo"}])
    with pytest.raises(ProtocolError) as caught:
        delivery_rules_from_tags([broken], path="message.order.fulfillments[0].tags")
    assert caught.value.path == "message.order.fulfillments[0].tags[0].list[0].value"
    # nothing declared: only the generic rules
    assert delivery_rules_from_tags([]) == DeliveryRules()


@settings(deadline=None)
@given(near, rules)
def test_the_next_slot_is_one_the_rules_accept(now: datetime, declared: DeliveryRules) -> None:
    """``next_slot``: the first instant an option can deliver, ordered at ``now`` — after its
    lead time, on a delivery day within its hours: a window from it is accepted."""
    slot = next_slot(declared, now)
    ready = now + timedelta(hours=declared.lead_time_hours)
    if slot is None:
        assert declared.days is not None or declared.hours is not None
        return
    assert slot >= ready
    local = slot.astimezone(QUEBEC)
    if declared.days is not None:
        assert local.weekday() in declared.days
    if declared.hours is not None:
        assert declared.hours[0] <= local.time() < declared.hours[1]
    accepted = check_window(slot, slot + timedelta(minutes=1), now=now, rules=declared).earliest
    assert accepted == slot


def test_the_next_slot_of_an_option_that_declares_nothing_is_now() -> None:
    assert next_slot(DeliveryRules(), NOW) == NOW
    thursday = next_slot(
        DeliveryRules(
            lead_time_hours=48, days=parse_days("mar,jeu"), hours=parse_hours("08:00-12:00")
        ),
        NOW,
    )
    assert thursday is not None and thursday.astimezone(QUEBEC) == datetime(
        2026, 12, 10, 8, 0, tzinfo=QUEBEC
    )
