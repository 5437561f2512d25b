"""Wire formats of the Beckn models: times, decimals, points, durations, ``None`` as absent."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from reseau_poles.protocol.models import (
    Context,
    Item,
    Location,
    Order,
    Price,
    Provider,
    duration_to_timedelta,
    format_gps,
    parse_gps,
    to_bytes,
    to_dict,
)

WIRE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
BAP = {"bap_id": "acheteur.example", "bap_uri": "https://acheteur.example/beckn"}


def test_price_values_are_decimals_in_python_and_strings_on_the_wire() -> None:
    price = Price(currency="CAD", value=Decimal("12.50"), listed_value=15, offered_value="9.99")
    assert price.value == Decimal("12.50")
    assert price.listed_value == Decimal(15)
    assert to_dict(price) == {
        "currency": "CAD",
        "value": "12.50",
        "listed_value": "15",
        "offered_value": "9.99",
    }


def test_small_decimals_never_use_an_exponent() -> None:
    assert to_dict(Price(value=Decimal("1E-7"))) == {"value": "0.0000001"}
    assert to_dict(Price(value=Decimal("1E+3"))) == {"value": "1000"}


@pytest.mark.parametrize("bad", [12.5, True, Decimal("NaN"), "12,50", "1e3", "", "12."])
def test_floats_and_malformed_decimals_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Price(value=bad)
    assert caught.value.errors()[0]["loc"] == ("value",)


def test_timestamps_go_out_in_utc_with_z() -> None:
    montreal = timezone(timedelta(hours=-5))
    order = Order(created_at=datetime(2026, 11, 26, 5, 0, tzinfo=montreal))
    assert to_dict(order) == {"created_at": "2026-11-26T10:00:00.000Z"}
    order = Order(created_at="2026-11-26T06:00:00.123456-04:00")
    assert to_dict(order) == {"created_at": "2026-11-26T10:00:00.123Z"}


def test_go_nanoseconds_are_read_and_written_as_milliseconds() -> None:
    order = Order(created_at="2026-11-26T10:00:00.123456789Z")
    assert order.created_at.microsecond == 123456  # read to the microsecond
    assert to_dict(order)["created_at"] == "2026-11-26T10:00:00.123Z"  # written to the ms


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5)), UTC]),
    )
)
def test_every_time_goes_out_with_exactly_milliseconds(moment: datetime) -> None:
    text = to_dict(Order(created_at=moment))["created_at"]
    assert WIRE_TIME.fullmatch(text), text
    back = Order(created_at=text).created_at
    # Cut, never rounded: the written time is at most a millisecond before the real one.
    assert timedelta(0) <= moment - back < timedelta(milliseconds=1)


@pytest.mark.parametrize(
    "bad",
    [
        datetime(2026, 11, 26, 10, 0),
        "2026-11-26T10:00:00",
        "2026-11-26",
        "2026-02-30T10:00:00Z",
        "2026-11-26T10:00:60Z",
        "2026-11-26T10:00:00+25:00",
        1764151200,
    ],
)
def test_naive_or_malformed_timestamps_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Order(created_at=bad)
    assert caught.value.errors()[0]["loc"] == ("created_at",)


def test_naive_timestamp_error_says_what_is_missing() -> None:
    with pytest.raises(ValidationError) as caught:
        Order(created_at="2026-11-26T10:00:00")
    assert "fuseau horaire" in caught.value.errors()[0]["msg"]


@pytest.mark.parametrize("text", ["46.8139,-71.2080", "46.8139, -71.2080", "-90,180", "0,0"])
def test_gps_accepts_lat_lon_with_optional_space(text: str) -> None:
    assert Location(gps=text).gps == text


@pytest.mark.parametrize("text", ["91,0", "46.8", "46.8;-71.2", "09.5,10", "45,181", "a,b"])
def test_gps_refuses_out_of_range_or_malformed_points(text: str) -> None:
    with pytest.raises(ValidationError):
        Location(gps=text)


def test_gps_helpers() -> None:
    assert parse_gps("46.8139, -71.2080") == (46.8139, -71.208)
    assert format_gps(46.8139, -71.208, digits=4) == "46.8139,-71.2080"


def test_durations() -> None:
    assert duration_to_timedelta("PT30S") == timedelta(seconds=30)
    assert duration_to_timedelta("P1DT2H") == timedelta(days=1, hours=2)
    assert duration_to_timedelta("P2W") == timedelta(days=14)
    for bad in ["30S", "P", "PT", "P1H", "PT1.5"]:
        with pytest.raises(ValueError):
            duration_to_timedelta(bad)


def test_counts_stay_integers() -> None:
    with pytest.raises(ValidationError):
        Item.model_validate({"quantity": {"selected": {"count": "2"}}})
    with pytest.raises(ValidationError):
        Item.model_validate({"quantity": {"selected": {"count": -1}}})
    with pytest.raises(ValidationError):
        Item.model_validate({"quantity": {"maximum": {"count": 0}}})
    with pytest.raises(ValidationError):
        Provider.model_validate({"ttl": -2})


def test_none_means_absent_but_unknown_nulls_survive() -> None:
    item = Item.model_validate({"id": "sirop-500ml", "descriptor": None, "x_vendor": None})
    assert to_dict(item) == {"id": "sirop-500ml", "x_vendor": None}
    item.descriptor = None
    item.id = None
    assert to_dict(item) == {"x_vendor": None}


def test_assignment_is_validated() -> None:
    price = Price(currency="CAD")
    price.value = 7
    assert to_dict(price) == {"currency": "CAD", "value": "7"}
    with pytest.raises(ValidationError):
        price.value = 7.5


def test_three_d_space_keeps_its_wire_name() -> None:
    location = Location.model_validate({"3dspace": "cube"})
    assert location.space_3d == "cube"
    assert to_dict(location) == {"3dspace": "cube"}


def test_context_built_in_python_carries_version_and_ttl() -> None:
    context = Context.new("search", domain="PLA:ALIMENTS", city_code="QC-03", **BAP)
    data = json.loads(to_bytes(context))
    assert data["version"] == "1.1.0"
    assert data["ttl"] == "PT30S"
    assert data["location"] == {"city": {"code": "QC-03"}, "country": {"code": "CAN"}}
    assert data["timestamp"].endswith("Z")
    assert context.timestamp.microsecond % 1000 == 0


def test_callback_context_echoes_the_ids() -> None:
    request = Context.new("select", domain="PLA:ALIMENTS", city_code="QC-03", **BAP)
    answer = request.for_callback(bpp_id="marche.example", bpp_uri="https://marche.example/b")
    assert answer.action == "on_select"
    assert (answer.transaction_id, answer.message_id) == (
        request.transaction_id,
        request.message_id,
    )
    assert answer.bpp_id == "marche.example"
    with pytest.raises(ValueError):
        answer.for_callback()


def test_timestamp_now_is_utc() -> None:
    context = Context.new("search", domain="PLA:ALIMENTS", city_code="QC-03", **BAP)
    assert context.timestamp.tzinfo is UTC


def test_copy_with_none_removes_the_field() -> None:
    order = Order(id="CMD-1", status="ACTIVE")
    assert to_dict(order.model_copy(update={"status": None})) == {"id": "CMD-1"}
    assert to_dict(order) == {"id": "CMD-1", "status": "ACTIVE"}


def test_repr_shows_only_what_was_given() -> None:
    assert repr(Price(currency="CAD", value="1.50")) == (
        "Price(currency='CAD', value=Decimal('1.50'))"
    )
