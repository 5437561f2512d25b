"""The seller's protocol rules under hostile or careless buyers, on the real node (issue 14):
one quantity rule for select, init, confirm and update (minimum, maximum, integer, stock);
integers beyond any column answered with a NACK and a path, never a 500; ``context.timestamp``
inside the signature's window, year 1 and 9999 included (the delivery windows' extreme dates:
test_delivery_windows.py); the steps of a transaction in order
(no confirm without a quote and terms, no init without a quote)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update

from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.profile import MAX_COUNT, QuantityRules, check_count
from reseau_poles.seller.tables import items
from reseau_poles.storage import make_session_factory, utcnow, write_session

from .conftest import Network
from .support import SYRUP
from .test_lifecycle import confirm, order, stock_of

COUNT = "message.order.items[0].quantity.selected.count"


def post(network: Network, action: str, message: Any, transaction: str, **context: Any):
    """``network.post`` with some context fields replaced (a timestamp, for instance)."""
    body = {"context": {**network.context(action, transaction), **context}, "message": message}
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Authorization": network.buyer.signer.sign(raw), "Content-Type": "application/json"}
    return network.http.post(f"{network.seller_url}/{action}", content=raw, headers=headers), body


def nack(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (400, 401), response.text
    assert response.json()["message"]["ack"]["status"] == "NACK"
    return response.json()["error"]


def set_maximum(network: Network, sku: str, maximum: int | None) -> None:
    engine = network.seller_app.state.service.engine
    with write_session(make_session_factory(engine)) as session:
        session.execute(
            update(items).where(items.c.id == network.items[sku]).values(maximum_quantity=maximum)
        )


def update_items(network: Network, transaction: str, order_id: str, count: Any) -> dict[str, Any]:
    lines = [{"id": SYRUP, "quantity": {"selected": {"count": count}}}]
    return network.call(
        "update",
        {"update_target": "order.items", "order": {"id": order_id, "items": lines}},
        transaction,
    )


# --- 9: one quantity rule -------------------------------------------------------------------


def test_update_applies_the_maximum_like_confirm(network: Network) -> None:
    set_maximum(network, SYRUP, 40)
    transaction, confirmed = confirm(network, (SYRUP, 6))
    # confirm refuses 50 …
    refused = network.call("select", {"order": order((SYRUP, 50))})
    assert (refused["error"]["code"], refused["error"]["paths"]) == ("40002", COUNT)
    # … and so does update (it used to accept 6 → 50)
    refused = update_items(network, transaction, confirmed["id"], 50)
    assert (refused["error"]["code"], refused["error"]["paths"]) == ("40002", COUNT)
    assert "maximale" in refused["error"]["message"] and "40" in refused["error"]["message"]
    assert stock_of(network, SYRUP) == 234  # nothing taken
    # up to the maximum is fine; the minimum holds in an update too
    assert "error" not in update_items(network, transaction, confirmed["id"], 40)
    assert stock_of(network, SYRUP) == 200
    assert update_items(network, transaction, confirmed["id"], 3)["error"]["code"] == "40010"


@given(
    count=st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70), st.booleans(), st.none(), st.text()
    ),
    minimum=st.integers(min_value=1, max_value=50),
    maximum=st.one_of(st.none(), st.integers(min_value=1, max_value=500)),
    available=st.integers(min_value=-5, max_value=1000),
    held=st.integers(min_value=0, max_value=300),
    removable=st.booleans(),
)
def test_quantity_rule_property(
    count: Any, minimum: int, maximum: int | None, available: int, held: int, removable: bool
) -> None:
    """Accepted exactly when every rule holds; refused with the code of the first rule
    broken, at the path given, whatever the input."""
    rules = QuantityRules("Sirop", minimum=minimum, maximum=maximum, available=available)
    least = 0 if removable else 1
    is_int = isinstance(count, int) and not isinstance(count, bool)
    if not (is_int and least <= count <= MAX_COUNT):
        expected: ErrorCode | None = ErrorCode.INVALID_REQUEST
    elif count == 0:
        expected = None
    elif count < minimum:
        expected = ErrorCode.BELOW_MINIMUM_ORDER
    elif (maximum and count > maximum) or count > held + max(available, 0):
        expected = ErrorCode.QUANTITY_UNAVAILABLE
    else:
        expected = None
    try:
        result = check_count(count, rules, path="p", held=held, removable=removable)
    except ProtocolError as exc:
        assert (exc.code, exc.path) == (expected, "p")
    else:
        assert expected is None and result == count
        # never oversold: what the line holds stays within the stock it may use
        assert result <= held + max(available, 0) or result == 0


# --- 10: integers beyond the columns ------------------------------------------


def test_huge_integers_are_nacks_with_a_path(network: Network) -> None:
    transaction, confirmed = confirm(network, (SYRUP, 6))
    for count in (2**64, 2**200, MAX_COUNT + 1):
        for action in ("select", "init", "confirm"):
            error = network.refused(action, {"order": order((SYRUP, count))})
            assert (error["code"], error["paths"]) == ("30000", COUNT), (action, count)
        lines = [{"id": SYRUP, "quantity": {"selected": {"count": count}}}]
        response, _ = post(
            network,
            "update",
            {"update_target": "order.items", "order": {"id": confirmed["id"], "items": lines}},
            transaction,
        )
        error = nack(response)  # was a 500 (OverflowError) for 2**64
        assert (error["code"], error["paths"]) == ("30000", COUNT)
    assert stock_of(network, SYRUP) == 234
    # elsewhere a huge number gets an answer too, never a 500: an ACK and its refusal, or a
    # NACK with the path
    for action, message in (
        ("rating", {"ratings": [{"id": confirmed["id"], "value": 2**70}]}),
        ("rating", {"ratings": [{"id": 2**70, "value": "4"}]}),
        ("status", {"order_id": 2**70}),
        ("cancel", {"order_id": confirmed["id"], "cancellation_reason_id": 2**70}),
        ("cancel", {"order_id": 2**70}),
    ):
        response, body = post(network, action, message, transaction)
        if response.status_code == 200:
            callback = network.buyer.wait(body["context"]["message_id"]).payload
            assert callback["error"]["code"] in ("30012", "30015", "30018"), callback
        else:
            assert nack(response)["paths"].startswith("message."), response.text
    assert stock_of(network, SYRUP) == 234


# --- 14: the timestamp inside the signature's window ----------------------------------------


def test_timestamp_outside_the_signature_window_is_refused(network: Network) -> None:
    wanted = {"order": order((SYRUP, 6))}
    now = utcnow()
    for stamp in (
        "0001-01-01T00:00:00.000Z",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-05:00",
        format_datetime(now + timedelta(minutes=5)),
        format_datetime(now - timedelta(days=2)),
    ):
        for action in ("select", "confirm", "status"):
            response, _ = post(network, action, wanted, str(uuid.uuid4()), timestamp=stamp)
            error = nack(response)
            assert (error["code"], error["paths"]) == ("30022", "context.timestamp"), stamp
    # an outbox re-sending a message an hour later keeps its first timestamp: accepted
    response, body = post(
        network,
        "select",
        wanted,
        str(uuid.uuid4()),
        timestamp=format_datetime(now - timedelta(hours=1)),
    )
    assert response.status_code == 200, response.text
    assert "error" not in network.buyer.wait(body["context"]["message_id"]).payload


# --- 14: the steps of a transaction in order ------------------------------------------------


def test_confirm_and_init_need_the_earlier_steps(network: Network) -> None:
    wanted = {"order": order((SYRUP, 6))}
    before = stock_of(network, SYRUP)
    # confirm out of the blue: a NACK naming the missing steps, no order, no stock taken
    error = network.refused("confirm", wanted)
    assert (error["code"], error["paths"]) == ("40001", "context.action")
    assert "« select »" in error["message"] and "« init »" in error["message"]
    # init without a quote
    error = network.refused("init", wanted)
    assert (error["code"], error["paths"]) == ("40001", "context.action")
    assert "« select »" in error["message"]
    # select, then confirm without init
    transaction = str(uuid.uuid4())
    assert "error" not in network.call("select", wanted, transaction)
    response, _ = post(network, "confirm", wanted, transaction)
    error = nack(response)
    assert (error["code"], error["paths"]) == ("40001", "context.action")
    assert "« init »" in error["message"] and transaction in error["message"]
    # a refused init does not count as terms given
    cash = {"order": {**order((SYRUP, 6)), "payments": [{"type": "PRE-ORDER"}]}}
    assert network.call("init", cash, transaction)["error"]["code"] == "40004"
    assert nack(post(network, "confirm", wanted, transaction)[0])["code"] == "40001"
    assert stock_of(network, SYRUP) == before
    # the legitimate flow on one transaction, then the same confirm again (same order)
    assert "error" not in network.call("init", wanted, transaction)
    confirmed = network.call("confirm", wanted, transaction)["message"]["order"]
    again = network.call("confirm", wanted, transaction)["message"]["order"]
    assert again["id"] == confirmed["id"] and stock_of(network, SYRUP) == before - 6
    # another buyer's transaction id is not this buyer's: the steps are per buyer
    assert network.refused("confirm", wanted)["code"] == "40001"
