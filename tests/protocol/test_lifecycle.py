"""Each rule of the order and fulfilment life cycle, as an example."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reseau_poles.protocol.errors import ErrorCode, LifecycleError, ProtocolError
from reseau_poles.protocol.lifecycle import (
    Action,
    ActionAccepted,
    CancellationPolicy,
    Canceller,
    FulfillmentAdvanced,
    FulfillmentProgress,
    FulfillmentRemoved,
    FulfillmentSet,
    OrderCancelled,
    OrderLifecycle,
    OrderStatus,
    OrderStatusChanged,
    Phase,
    allowed_actions,
    cancellation_policy,
    cancellation_terms,
    check_action,
    check_fulfillment_transition,
    completion_state,
    fulfillment_states,
    is_terminal,
    next_fulfillment_states,
    order_status,
    parse_action,
    phase_after,
)
from reseau_poles.protocol.profile import FulfillmentState as S
from reseau_poles.protocol.profile import FulfillmentType as T

LIV, CUE, PDC = T.LIVRAISON, T.CUEILLETTE, T.POINT_DE_CHUTE


def refusal(call: Any, *args: Any, **kwargs: Any) -> LifecycleError:
    with pytest.raises(LifecycleError) as caught:
        call(*args, **kwargs)
    error = caught.value
    assert isinstance(error.code, ErrorCode)
    assert error.message
    return error


def confirmed(**fulfillments: T) -> OrderLifecycle:
    order = OrderLifecycle()
    for action in ("search", "select", "init"):
        order.receive(action)
    for key, kind in fulfillments.items():
        order.set_fulfillment(key, kind)
    order.receive("confirm")
    return order


# --- actions -----------------------------------------------------------------------------


def test_the_happy_path() -> None:
    assert phase_after(["search", "select", "init", "confirm"]) is Phase.CONFIRMED


@pytest.mark.parametrize(
    "actions",
    [
        ["select", "init", "confirm"],  # a catalog known from before: no search
        ["search", "search", "select", "select", "init", "init", "confirm"],
        ["search", "select", "init", "select", "init", "confirm"],  # cart changed after init
        ["search", "select", "search", "init", "confirm"],  # looking around keeps the quote
        ["support", "search", "support", "select", "init", "support", "confirm", "support"],
        ["select", "init", "confirm", "status", "track", "update", "status"],
    ],
)
def test_accepted_sequences(actions: list[str]) -> None:
    phase_after(actions)


@pytest.mark.parametrize(
    ("actions", "code"),
    [
        (["init"], ErrorCode.ACTION_NOT_APPLICABLE),
        (["search", "init"], ErrorCode.ACTION_NOT_APPLICABLE),
        (["search", "confirm"], ErrorCode.ACTION_NOT_APPLICABLE),
        (["select", "confirm"], ErrorCode.ACTION_NOT_APPLICABLE),
        (["status"], ErrorCode.ORDER_NOT_FOUND),
        (["select", "track"], ErrorCode.ORDER_NOT_FOUND),
        (["select", "init", "cancel"], ErrorCode.ORDER_NOT_FOUND),
        (["select", "init", "update"], ErrorCode.ORDER_NOT_FOUND),
        (["search", "rating"], ErrorCode.ORDER_NOT_FOUND),
        (["select", "init", "confirm", "confirm"], ErrorCode.ACTION_NOT_APPLICABLE),
        (["select", "init", "confirm", "select"], ErrorCode.ACTION_NOT_APPLICABLE),
        (["select", "init", "confirm", "search"], ErrorCode.ACTION_NOT_APPLICABLE),
        (["select", "init", "confirm", "rating"], ErrorCode.ACTION_NOT_APPLICABLE),
        (["select", "init", "confirm", "cancel", "cancel"], ErrorCode.CANCELLATION_NOT_POSSIBLE),
        (["select", "init", "confirm", "cancel", "update"], ErrorCode.UPDATE_NOT_POSSIBLE),
        (["select", "init", "confirm", "cancel", "rating"], ErrorCode.ACTION_NOT_APPLICABLE),
        (["select", "init", "confirm", "cancel", "init"], ErrorCode.ACTION_NOT_APPLICABLE),
    ],
)
def test_refused_sequences(actions: list[str], code: ErrorCode) -> None:
    error = refusal(phase_after, actions)
    assert error.code is code
    assert error.path == "context.action"


def test_refusals_explain_in_french() -> None:
    error = refusal(check_action, Phase.SEARCHING, "init")
    assert "« select »" in error.message
    error = refusal(check_action, Phase.SELECTED, "confirm")
    assert "« init »" in error.message
    error = refusal(check_action, Phase.CONFIRMED, "select")
    assert "nouvelle transaction" in error.message
    error = refusal(check_action, Phase.CANCELLED, "init")
    assert "nouvelle transaction" in error.message
    assert error.to_nack()["error"]["code"] == "40001"


def test_check_action_returns_the_next_phase() -> None:
    assert check_action(Phase.NEW, Action.SELECT) is Phase.SELECTED
    assert check_action(Phase.INITIALIZED, "select") is Phase.SELECTED
    assert check_action(["select", "init"], "confirm") is Phase.CONFIRMED
    assert check_action(Phase.CONFIRMED, "cancel") is Phase.CANCELLED
    for phase in Phase:
        assert check_action(phase, "support") is phase


def test_unknown_actions() -> None:
    with pytest.raises(ProtocolError) as caught:
        check_action(Phase.NEW, "purchase")
    assert caught.value.path == "context.action"
    assert parse_action("on_status") == (Action.STATUS, True)
    assert parse_action("select") == (Action.SELECT, False)
    with pytest.raises(ProtocolError):
        parse_action("on_purchase")
    with pytest.raises(ProtocolError):
        parse_action(None)


def test_allowed_actions_by_phase() -> None:
    A = Action
    assert allowed_actions(Phase.NEW) == {A.SEARCH, A.SELECT, A.SUPPORT}
    assert allowed_actions(Phase.INITIALIZED) == {A.SEARCH, A.SELECT, A.INIT, A.CONFIRM, A.SUPPORT}
    assert allowed_actions(Phase.CONFIRMED) == {A.STATUS, A.TRACK, A.UPDATE, A.CANCEL, A.SUPPORT}
    delivered = {"f": FulfillmentProgress(LIV, S.ORDER_DELIVERED)}
    assert allowed_actions(Phase.COMPLETED, delivered) == {
        A.STATUS,
        A.TRACK,
        A.UPDATE,
        A.RATING,
        A.SUPPORT,
    }
    assert allowed_actions(Phase.CANCELLED) == {A.STATUS, A.TRACK, A.SUPPORT}


# --- rating, update, cancel against fulfilments ------------------------------------------


def test_rating_only_after_a_delivery() -> None:
    assert (
        refusal(
            check_action, Phase.CONFIRMED, "rating", fulfillments=[(LIV, S.OUT_FOR_DELIVERY)]
        ).code
        is ErrorCode.ACTION_NOT_APPLICABLE
    )
    # Part of the order delivered: the buyer may already rate.
    partly = [(LIV, S.ORDER_DELIVERED), (CUE, S.PACKED)]
    assert check_action(Phase.CONFIRMED, "rating", fulfillments=partly) is Phase.CONFIRMED
    assert check_action(Phase.COMPLETED, "rating") is Phase.COMPLETED


@pytest.mark.parametrize(
    ("phase", "fulfillments", "target", "code"),
    [
        (Phase.CONFIRMED, [(LIV, S.PACKED)], "order.items", None),
        (
            Phase.CONFIRMED,
            [(LIV, S.OUT_FOR_DELIVERY)],
            "order.items",
            ErrorCode.UPDATE_NOT_POSSIBLE,
        ),
        (Phase.CONFIRMED, [(LIV, S.OUT_FOR_DELIVERY), (CUE, S.PENDING)], "order.items", None),
        (Phase.CONFIRMED, [(PDC, S.READY_FOR_PICKUP)], None, ErrorCode.UPDATE_NOT_POSSIBLE),
        (Phase.CONFIRMED, [(LIV, S.OUT_FOR_DELIVERY)], "order.payments", None),
        (Phase.COMPLETED, [(LIV, S.ORDER_DELIVERED)], "order.payments[0]", None),
        (Phase.COMPLETED, [(LIV, S.ORDER_DELIVERED)], "order.billing", None),
        (Phase.COMPLETED, [(LIV, S.ORDER_DELIVERED)], "order.items", ErrorCode.UPDATE_NOT_POSSIBLE),
        (Phase.COMPLETED, [(LIV, S.ORDER_DELIVERED)], None, ErrorCode.UPDATE_NOT_POSSIBLE),
        (Phase.CANCELLED, [(LIV, S.CANCELLED)], "order.payments", ErrorCode.UPDATE_NOT_POSSIBLE),
    ],
)
def test_update_rules(
    phase: Phase, fulfillments: list[Any], target: str | None, code: ErrorCode | None
) -> None:
    if code is None:
        assert check_action(phase, "update", fulfillments=fulfillments, update_target=target)
    else:
        error = refusal(
            check_action, phase, "update", fulfillments=fulfillments, update_target=target
        )
        assert error.code is code


@pytest.mark.parametrize(
    ("kind", "state", "policy"),
    [
        (LIV, S.PENDING, CancellationPolicy.FREE),
        (LIV, S.PACKED, CancellationPolicy.WITH_FEE),
        (LIV, S.AGENT_ASSIGNED, CancellationPolicy.WITH_FEE),
        (LIV, S.ORDER_PICKED_UP, CancellationPolicy.WITH_FEE),
        (LIV, S.OUT_FOR_DELIVERY, CancellationPolicy.REFUSED),
        (LIV, S.ORDER_DELIVERED, CancellationPolicy.REFUSED),
        (LIV, S.CANCELLED, CancellationPolicy.REFUSED),
        (CUE, S.PENDING, CancellationPolicy.FREE),
        (CUE, S.READY_FOR_PICKUP, CancellationPolicy.WITH_FEE),
        (CUE, S.ORDER_PICKED_UP, CancellationPolicy.REFUSED),
        (PDC, S.AGENT_ASSIGNED, CancellationPolicy.WITH_FEE),
        (PDC, S.OUT_FOR_DELIVERY, CancellationPolicy.REFUSED),
        (PDC, S.READY_FOR_PICKUP, CancellationPolicy.REFUSED),  # already at the drop point
    ],
)
def test_cancellation_policy(kind: T, state: S, policy: CancellationPolicy) -> None:
    assert cancellation_policy(kind, state) is policy


def test_cancel_refused_once_out_for_delivery() -> None:
    error = refusal(
        check_action,
        Phase.CONFIRMED,
        "cancel",
        fulfillments={"a": FulfillmentProgress(LIV, S.OUT_FOR_DELIVERY)},
    )
    assert error.code is ErrorCode.CANCELLATION_NOT_POSSIBLE
    assert error.code.value == "50001"
    assert "En cours de livraison" in error.message


def test_cancellation_terms_for_beckn() -> None:
    terms = cancellation_terms(LIV, fee_percentage="15")
    assert [t["fulfillment_state"]["descriptor"]["code"] for t in terms] == [
        "Pending",
        "Packed",
        "Agent-assigned",
        "Order-picked-up",
    ]
    assert [t["cancellation_fee"]["percentage"] for t in terms] == ["0", "15", "15", "15"]
    assert terms[3]["fulfillment_state"]["descriptor"]["name"] == "Ramassée par le livreur"
    assert all(t["reason_required"] is False for t in terms)
    json.dumps(terms)
    with pytest.raises(ValueError):
        cancellation_terms(CUE, fee_percentage="150")


# --- fulfilment states -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        (
            LIV,
            [S.PACKED, S.AGENT_ASSIGNED, S.ORDER_PICKED_UP, S.OUT_FOR_DELIVERY, S.ORDER_DELIVERED],
        ),
        (LIV, [S.PACKED, S.OUT_FOR_DELIVERY, S.ORDER_DELIVERED]),  # the pôle drives itself
        (LIV, [S.PACKED, S.AGENT_ASSIGNED, S.OUT_FOR_DELIVERY, S.ORDER_DELIVERED]),
        (LIV, [S.PACKED, S.ORDER_PICKED_UP, S.ORDER_DELIVERED]),
        (CUE, [S.PACKED, S.READY_FOR_PICKUP, S.ORDER_PICKED_UP]),
        (CUE, [S.PACKED, S.ORDER_PICKED_UP]),
        (
            PDC,
            [S.PACKED, S.AGENT_ASSIGNED, S.OUT_FOR_DELIVERY, S.READY_FOR_PICKUP, S.ORDER_PICKED_UP],
        ),
        (PDC, [S.PACKED, S.OUT_FOR_DELIVERY, S.READY_FOR_PICKUP, S.ORDER_PICKED_UP]),
        (PDC, [S.PACKED, S.READY_FOR_PICKUP, S.ORDER_PICKED_UP]),
        (LIV, [S.CANCELLED]),
        (LIV, [S.PACKED, S.OUT_FOR_DELIVERY, S.CANCELLED]),  # failed delivery
        (CUE, [S.PACKED, S.READY_FOR_PICKUP, S.CANCELLED]),  # no-show
    ],
)
def test_allowed_fulfillment_paths(kind: T, path: list[S]) -> None:
    order = confirmed(f=kind)
    for state in path:
        assert order.advance("f", state)
    final = path[-1]
    assert order.order_status is (
        OrderStatus.COMPLETE if final is completion_state(kind) else OrderStatus.CANCELLED
    )


@pytest.mark.parametrize(
    ("kind", "previous", "state", "code"),
    [
        (LIV, S.PENDING, S.OUT_FOR_DELIVERY, ErrorCode.ACTION_NOT_APPLICABLE),  # must pack
        (LIV, S.PENDING, S.ORDER_DELIVERED, ErrorCode.ACTION_NOT_APPLICABLE),
        (LIV, S.OUT_FOR_DELIVERY, S.PACKED, ErrorCode.ACTION_NOT_APPLICABLE),  # backwards
        (LIV, S.PACKED, S.READY_FOR_PICKUP, ErrorCode.ACTION_NOT_APPLICABLE),  # not a pickup
        (CUE, S.PACKED, S.OUT_FOR_DELIVERY, ErrorCode.ACTION_NOT_APPLICABLE),
        (CUE, S.READY_FOR_PICKUP, S.ORDER_DELIVERED, ErrorCode.ACTION_NOT_APPLICABLE),
        (PDC, S.PACKED, S.ORDER_PICKED_UP, ErrorCode.ACTION_NOT_APPLICABLE),
        (PDC, S.OUT_FOR_DELIVERY, S.ORDER_DELIVERED, ErrorCode.ACTION_NOT_APPLICABLE),
        (LIV, S.ORDER_DELIVERED, S.CANCELLED, ErrorCode.UPDATE_NOT_POSSIBLE),  # terminal
        (LIV, S.CANCELLED, S.PACKED, ErrorCode.UPDATE_NOT_POSSIBLE),
        (CUE, S.ORDER_PICKED_UP, S.READY_FOR_PICKUP, ErrorCode.UPDATE_NOT_POSSIBLE),
    ],
)
def test_refused_fulfillment_moves(kind: T, previous: S, state: S, code: ErrorCode) -> None:
    error = refusal(
        check_fulfillment_transition,
        kind,
        previous,
        state,
        path="message.order.fulfillments[0].state.descriptor.code",
    )
    assert error.code is code
    assert error.path == "message.order.fulfillments[0].state.descriptor.code"


def test_repeating_a_state_changes_nothing() -> None:
    assert check_fulfillment_transition(LIV, S.PACKED, S.PACKED) is False
    assert check_fulfillment_transition(LIV, S.ORDER_DELIVERED, S.ORDER_DELIVERED) is False
    order = confirmed(f=LIV)
    order.advance("f", "Packed")
    assert order.advance("f", "Packed") == []


def test_graph_helpers() -> None:
    assert next_fulfillment_states(LIV, S.PACKED) == {
        S.AGENT_ASSIGNED,
        S.ORDER_PICKED_UP,
        S.OUT_FOR_DELIVERY,
        S.CANCELLED,
    }
    assert next_fulfillment_states(LIV, S.ORDER_DELIVERED) == frozenset()
    assert S.READY_FOR_PICKUP not in fulfillment_states(LIV)
    assert S.ORDER_DELIVERED not in fulfillment_states(CUE)
    assert completion_state(CUE) is S.ORDER_PICKED_UP
    assert is_terminal(PDC, S.ORDER_PICKED_UP) and not is_terminal(LIV, S.ORDER_PICKED_UP)


def _reachable(kind: T, start: S) -> set[S]:
    seen, todo = {start}, [start]
    while todo:
        for following in next_fulfillment_states(kind, todo.pop()):
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return seen


@pytest.mark.parametrize("kind", list(T))
def test_every_flow_is_acyclic_and_can_always_finish(kind: T) -> None:
    for state in fulfillment_states(kind):
        assert state not in {
            s for nxt in next_fulfillment_states(kind, state) for s in _reachable(kind, nxt)
        }, f"cycle through {state}"
        if not is_terminal(kind, state):
            assert completion_state(kind) in _reachable(kind, state)
            assert S.CANCELLED in next_fulfillment_states(kind, state)


@pytest.mark.parametrize(
    ("states", "status"),
    [
        ([], OrderStatus.ACTIVE),
        ([(LIV, S.PACKED)], OrderStatus.ACTIVE),
        ([(LIV, S.ORDER_DELIVERED), (CUE, S.READY_FOR_PICKUP)], OrderStatus.ACTIVE),
        ([(LIV, S.ORDER_DELIVERED)], OrderStatus.COMPLETE),
        ([(LIV, S.ORDER_DELIVERED), (CUE, S.CANCELLED)], OrderStatus.COMPLETE),
        ([(CUE, S.ORDER_PICKED_UP)], OrderStatus.COMPLETE),
        ([(LIV, S.ORDER_PICKED_UP)], OrderStatus.ACTIVE),  # picked up by the carrier only
        ([(LIV, S.CANCELLED), (PDC, S.CANCELLED)], OrderStatus.CANCELLED),
    ],
)
def test_order_status_from_fulfillments(states: list[Any], status: OrderStatus) -> None:
    assert order_status(states) is status


# --- the OrderLifecycle object -----------------------------------------------------------


def test_events_along_an_order() -> None:
    order = OrderLifecycle()
    assert order.order_status is None
    assert order.receive("select") == [ActionAccepted(Action.SELECT, Phase.NEW, Phase.SELECTED)]
    assert order.set_fulfillment("f1", "livraison") == [FulfillmentSet("f1", LIV)]
    assert order.set_fulfillment("f1", "livraison") == []
    assert order.set_fulfillment("f1", "Self-Pickup") == [FulfillmentSet("f1", CUE)]
    order.receive("init")
    assert order.receive("confirm") == [
        ActionAccepted(Action.CONFIRM, Phase.INITIALIZED, Phase.CONFIRMED),
        OrderStatusChanged(None, OrderStatus.ACTIVE),
    ]
    assert order.receive("status") == [
        ActionAccepted(Action.STATUS, Phase.CONFIRMED, Phase.CONFIRMED)
    ]
    order.advance("f1", S.PACKED)
    order.advance("f1", "Ready-for-pickup")
    assert order.advance("f1", "Order-picked-up") == [
        FulfillmentAdvanced("f1", S.READY_FOR_PICKUP, S.ORDER_PICKED_UP),
        OrderStatusChanged(OrderStatus.ACTIVE, OrderStatus.COMPLETE),
    ]
    assert order.phase is Phase.COMPLETED
    assert order.receive("rating")[0].phase is Phase.COMPLETED


def test_buyer_cancellation_with_fee() -> None:
    order = confirmed(a=LIV, b=CUE)
    order.advance("a", "Packed")
    events = order.receive("cancel")
    assert events == [
        ActionAccepted(Action.CANCEL, Phase.CONFIRMED, Phase.CANCELLED),
        FulfillmentAdvanced("a", S.PACKED, S.CANCELLED),
        FulfillmentAdvanced("b", S.PENDING, S.CANCELLED),
        OrderCancelled(Canceller.BUYER, fee_applies=True),
        OrderStatusChanged(OrderStatus.ACTIVE, OrderStatus.CANCELLED),
    ]
    assert order.order_status is OrderStatus.CANCELLED
    assert order.cancelled_by is Canceller.BUYER and order.cancellation_fee_applies
    assert refusal(order.advance, "a", "Packed").code is ErrorCode.UPDATE_NOT_POSSIBLE
    assert refusal(order.receive, "cancel").code is ErrorCode.CANCELLATION_NOT_POSSIBLE


def test_free_cancellation_while_pending() -> None:
    order = confirmed(a=LIV)
    assert OrderCancelled(Canceller.BUYER, fee_applies=False) in order.receive("cancel")


def test_buyer_cannot_cancel_out_for_delivery_but_seller_can() -> None:
    order = confirmed(a=LIV)
    order.advance("a", "Packed")
    order.advance("a", "Out-for-delivery")
    before = order.to_dict()
    error = refusal(order.receive, "cancel")
    assert error.code is ErrorCode.CANCELLATION_NOT_POSSIBLE
    assert order.to_dict() == before  # a refusal changes nothing
    assert refusal(order.cancel, by=Canceller.BUYER).code is ErrorCode.CANCELLATION_NOT_POSSIBLE
    events = order.cancel(by=Canceller.SELLER)
    assert OrderCancelled(Canceller.SELLER, fee_applies=False) in events
    assert order.phase is Phase.CANCELLED


def test_nobody_cancels_what_was_delivered() -> None:
    order = confirmed(a=LIV, b=CUE)
    for state in ("Packed", "Out-for-delivery", "Order-delivered"):
        order.advance("a", state)
    error = refusal(order.cancel, by=Canceller.SELLER)
    assert error.code is ErrorCode.CANCELLATION_NOT_POSSIBLE
    # The rest is cancelled fulfilment by fulfilment; the order is then COMPLETE.
    events = order.advance("b", "Cancelled")
    assert events[-1] == OrderStatusChanged(OrderStatus.ACTIVE, OrderStatus.COMPLETE)


def test_buyer_cancels_the_rest_of_a_partly_cancelled_order() -> None:
    order = confirmed(a=LIV, b=CUE)
    order.advance("a", "Cancelled")  # the seller ran out of strawberries
    events = order.receive("cancel")
    assert FulfillmentAdvanced("b", S.PENDING, S.CANCELLED) in events
    assert OrderCancelled(Canceller.BUYER, fee_applies=False) in events
    assert order.order_status is OrderStatus.CANCELLED


def test_seller_cancelling_every_fulfillment_cancels_the_order() -> None:
    order = confirmed(a=LIV)
    order.advance("a", "Cancelled")
    assert order.phase is Phase.CANCELLED
    assert order.cancelled_by is Canceller.SELLER


def test_seller_cancel_before_confirm_or_after_completion() -> None:
    assert refusal(OrderLifecycle().cancel).code is ErrorCode.ORDER_NOT_FOUND
    order = confirmed(a=CUE)
    order.advance("a", "Packed")
    order.advance("a", "Order-picked-up")
    assert refusal(order.cancel).code is ErrorCode.CANCELLATION_NOT_POSSIBLE


def test_fulfillments_before_and_after_confirm() -> None:
    order = OrderLifecycle()
    order.receive("select")
    order.set_fulfillment("a", LIV)
    order.set_fulfillment("b", PDC)
    assert order.remove_fulfillment("b") == [FulfillmentRemoved("b")]
    assert order.remove_fulfillment("b") == []
    error = refusal(order.advance, "a", "Packed")
    assert error.code is ErrorCode.ORDER_NOT_FOUND
    order.receive("init")
    order.receive("confirm")
    assert refusal(order.remove_fulfillment, "a").code is ErrorCode.UPDATE_NOT_POSSIBLE
    assert order.set_fulfillment("a", CUE) == [FulfillmentSet("a", CUE)]  # still Pending
    order.advance("a", "Packed")
    assert refusal(order.set_fulfillment, "a", LIV).code is ErrorCode.UPDATE_NOT_POSSIBLE
    assert order.set_fulfillment("c", LIV) == [FulfillmentSet("c", LIV)]  # added by an update
    assert refusal(order.advance, "zz", "Packed").code is ErrorCode.INVALID_REQUEST
    with pytest.raises(ProtocolError):
        order.advance("a", "Lost-in-space")


def test_refused_moves_leave_the_object_untouched() -> None:
    order = confirmed(a=LIV)
    before = order.to_dict()
    refusal(order.advance, "a", "Order-delivered")
    refusal(order.receive, "rating")
    refusal(order.receive, "confirm")
    assert order.to_dict() == before


def test_round_trip_through_a_plain_dict() -> None:
    order = confirmed(a=LIV, b=PDC)
    order.advance("a", "Packed")
    data = json.loads(json.dumps(order.to_dict()))
    assert data == {
        "version": 1,
        "phase": "confirmed",
        "fulfillments": {
            "a": {"type": "livraison", "state": "Packed"},
            "b": {"type": "point_de_chute", "state": "Pending"},
        },
        "cancelled_by": None,
        "cancellation_fee_applies": False,
    }
    again = OrderLifecycle.from_dict(data)
    assert again == order
    assert again.fulfillments == order.fulfillments
    assert "phase=confirmed" in repr(again)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"version": 2, "phase": "new"},
        {"version": 1, "phase": "ailleurs"},
        {"version": 1, "phase": "confirmed", "fulfillments": {"a": {"type": "velo"}}},
        {
            "version": 1,
            "phase": "confirmed",
            "fulfillments": {"a": {"type": "cueillette", "state": "Out-for-delivery"}},
        },
        {
            "version": 1,
            "phase": "selected",
            "fulfillments": {"a": {"type": "livraison", "state": "Packed"}},
        },
        {
            "version": 1,
            "phase": "completed",
            "fulfillments": {"a": {"type": "livraison", "state": "Cancelled"}},
        },
        {
            "version": 1,
            "phase": "confirmed",
            "fulfillments": {"a": {"type": "livraison", "state": "Order-delivered"}},
        },
        {
            "version": 1,
            "phase": "cancelled",
            "fulfillments": {"a": {"type": "livraison", "state": "Packed"}},
        },
        {"version": 1, "phase": "new", "cancelled_by": "someone"},
    ],
)
def test_from_dict_refuses_broken_state(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        OrderLifecycle.from_dict(data)
