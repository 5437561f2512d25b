"""The seller node is the authority on delivery windows: whatever the buyer's app checked, a
select, init or confirm whose window is past, inverted, too long, out of the calendar, or
outside the pôle's declared days, hours and lead time is a NACK with code 30000 and the JSON
path of the bound at fault. The declared rules travel in the catalog's ``modalites`` tags.
Real seller node and registry on loopback, real signatures."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from reseau_poles.protocol.profile import delivery_rules_from_tags
from reseau_poles.protocol.profile.delivery_window import QUEBEC
from reseau_poles.seller.repositories import places as place_repo
from reseau_poles.seller.requests import FulfillmentOptionIn
from reseau_poles.storage import make_session_factory, utcnow, write_session

from .conftest import Network
from .support import CAPITALE, SYRUP
from .test_flow import BILLING, order

RANGE = "message.order.fulfillments[0].stops[0].time.range"


def with_window(start: str, end: str, *, sku: str = SYRUP, count: int = 6) -> dict[str, Any]:
    body = order((sku, count))
    body["fulfillments"][0]["stops"][0]["time"] = {"range": {"start": start, "end": end}}
    return body


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def next_weekday_at(weekday: int, hour: int, *, after: timedelta) -> datetime:
    """The next ``weekday`` at ``hour`` (Québec time) at least ``after`` from now."""
    day = (utcnow() + after).astimezone(QUEBEC).date()
    while True:
        moment = datetime.combine(day, time(hour), QUEBEC)
        if day.weekday() == weekday and moment.astimezone(UTC) >= utcnow() + after:
            return moment.astimezone(UTC)
        day += timedelta(days=1)


def declare(network: Network, **rules: Any) -> None:
    option = FulfillmentOptionIn(
        id="livraison-froid",
        type="livraison",
        name="Livraison réfrigérée",
        regions=["QC-03", "QC-12"],
        fee=Decimal("25.00"),
        cold_chain=["refrigere", "congele"],
        **rules,
    )
    factory = make_session_factory(network.seller_app.state.service.engine)
    with write_session(factory) as session:
        place_repo.put_fulfillment_option(session, CAPITALE, option)


def test_past_and_impossible_windows_are_nacked_with_their_path(network: Network) -> None:
    soon = utcnow() + timedelta(days=3)
    good = (stamp(soon), stamp(soon + timedelta(hours=3)))
    quoted = network.call("select", {"order": with_window(*good)})
    assert "error" not in quoted, quoted

    cases = [
        (("2020-03-02T13:00:00Z", "2020-03-02T16:00:00Z"), "start"),  # the defect: 2020
        ((good[1], good[0]), "end"),  # inverted
        ((good[0], stamp(soon + timedelta(days=9))), "end"),  # longer than 7 days
        (("9999-12-31T10:00:00Z", "9999-12-31T12:00:00Z"), "start"),  # too far ahead
        (("0001-01-01T00:00:00+05:00", good[1]), "start"),  # leaves the calendar in UTC
        ((good[0], "9999-12-31T23:59:59-05:00"), "end"),
        (("demain matin", good[1]), "start"),
        ((good[0][:-1], good[1]), "start"),  # no zone
    ]
    for window, bound in cases:
        for action in ("select", "init", "confirm"):
            message = {"order": {**with_window(*window), "billing": BILLING}}
            error = network.refused(action, message)
            assert (error["code"], error["paths"]) == ("30000", f"{RANGE}.{bound}"), (
                action,
                window,
                error,
            )
            assert error["message"]
    # a window that is not an object
    broken = order((SYRUP, 6))
    broken["fulfillments"][0]["stops"][0]["time"] = {"range": "demain"}
    assert network.refused("select", {"order": broken})["paths"] == RANGE


def test_the_poles_declared_days_hours_and_lead_time(network: Network) -> None:
    declare(
        network,
        lead_time_hours=48,
        delivery_days="lun-ven",
        delivery_hours="07:00-15:00",
        max_window_hours=24,
        minimum_order=Decimal("100.00"),
    )
    # the catalog says so, in the fulfilment's modalites
    payload = network.call("search", {"intent": {"item": {"descriptor": {"name": "erable"}}}})
    (provider,) = payload["message"]["catalog"]["providers"]
    froid = next(f for f in provider["fulfillments"] if f["id"] == "livraison-froid")
    rules = delivery_rules_from_tags(froid["tags"])
    assert rules.lead_time_hours == 48 and rules.days == frozenset(range(5))
    assert (rules.hours[0].hour, rules.hours[1].hour) == (7, 15) if rules.hours else False
    assert rules.max_window_hours == 24 and rules.minimum_order == Decimal("100.00")

    wednesday = next_weekday_at(2, 9, after=timedelta(hours=49))
    ok = network.call(
        "select", {"order": with_window(stamp(wednesday), stamp(wednesday + timedelta(hours=2)))}
    )
    assert "error" not in ok, ok
    saturday = next_weekday_at(5, 9, after=timedelta(hours=49))
    night = next_weekday_at(2, 20, after=timedelta(hours=49))
    tomorrow = utcnow() + timedelta(hours=20)
    for start, hours, bound in (
        (saturday, 3, "start"),  # not a delivery day
        (night, 3, "start"),  # after 15:00
        (tomorrow, 2, "end"),  # inside the 48 h of notice
        (wednesday, 30, "end"),  # longer than the 24 h the pôle accepts
    ):
        window = (stamp(start), stamp(start + timedelta(hours=hours)))
        error = network.refused("select", {"order": with_window(*window)})
        assert (error["code"], error["paths"]) == ("30000", f"{RANGE}.{bound}"), (start, error)

    # the minimum order: quoted at select, refused at init (40010) below 100 $ of items
    window = (stamp(wednesday), stamp(wednesday + timedelta(hours=2)))
    small = {**with_window(*window), "billing": BILLING, "payments": [{"type": "POST-FULFILLMENT"}]}
    transaction = str(uuid.uuid4())  # init follows the select on its transaction
    assert "error" not in network.call("select", {"order": copy.deepcopy(small)}, transaction)
    error = network.call("init", {"order": small}, transaction)["error"]
    assert (error["code"], error["paths"]) == ("40010", "message.order.items")
    enough = {**with_window(*window, count=8), "billing": BILLING}
    initialized = network.call(
        "init", {"order": {**enough, "payments": [{"type": "POST-FULFILLMENT"}]}}, transaction
    )
    assert "error" not in initialized, initialized
