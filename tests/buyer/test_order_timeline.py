"""An order's steps for people and what cancelling costs (no I/O), on order documents as the
buyer's API gives them: each fulfilment type, skipped and optional states, cancellation; the
fee from the pôle's terms (a percentage rounded half up like the seller's, an amount, a state
the terms do not list, no terms). Properties (hypothesis): one current step, the others done
before it and to come after it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reseau_poles.buyer.services.order_timeline import (
    cancellation_quote,
    cancellation_terms,
    step_code,
    timeline,
)
from reseau_poles.protocol.lifecycle import cancellation_terms as pole_terms
from reseau_poles.protocol.profile.vocabulary import FulfillmentType

T0 = "2026-12-08T14:00:00.000Z"


def event(kind: str, to: str, at: str = T0, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "to": to, "at": at, **more}


def order(
    state: str = "confirmed",
    kind: str = "livraison",
    fulfillment: str | None = "Pending",
    events: list[dict[str, Any]] | None = None,
    **more: Any,
) -> dict[str, Any]:
    base: list[dict[str, Any]] = [event("state_changed", "confirmed", "2026-12-08T13:00:00Z")]
    return {
        "state": state,
        "created_at": "2026-12-08T12:00:00Z",
        "confirmed_at": "2026-12-08T13:00:00Z",
        "updated_at": T0,
        "fulfillment": {"type": kind, "state": fulfillment},
        "events": base + list(events or []),
        "total": {"currency": "CAD", "value": "123.45"},
        "allowed_actions": ["cancel", "status", "support", "track", "update"],
        "pending": None,
        "seller_document": {
            "cancellation_terms": pole_terms(
                FulfillmentType(kind if kind in STATES else "livraison")
            )
        },
        **more,
    }


def shown(steps: list[Any]) -> list[tuple[str, str]]:
    return [(step.code, step.status) for step in steps]


def test_a_delivery_from_confirmation_to_its_end() -> None:
    assert shown(timeline(order())) == [
        ("created", "done"),
        ("accepted", "current"),
        ("Packed", "todo"),
        ("Out-for-delivery", "todo"),
        ("delivered", "todo"),
    ]
    packed = timeline(order(fulfillment="Packed", events=[event("fulfillment_changed", "Packed")]))
    assert shown(packed)[2] == ("Packed", "current") and packed[2].at == T0
    assert packed[0].at == "2026-12-08T12:00:00Z" and packed[1].at == "2026-12-08T13:00:00Z"
    # The pôle skipped Out-for-delivery, and said Agent-assigned once (an optional step).
    done = order(
        "completed",
        fulfillment="Order-delivered",
        events=[
            event("fulfillment_changed", "Packed"),
            event("fulfillment_changed", "Agent-assigned"),
            event("fulfillment_changed", "Order-delivered", "2026-12-09T10:00:00Z"),
        ],
    )
    assert shown(timeline(done)) == [
        ("created", "done"),
        ("accepted", "done"),
        ("Packed", "done"),
        ("Agent-assigned", "done"),
        ("Out-for-delivery", "done"),
        ("delivered", "current"),
    ]
    assert timeline(done)[4].at is None and timeline(done)[5].at == "2026-12-09T10:00:00Z"


def test_pickup_and_drop_point_have_their_own_steps_and_words() -> None:
    assert [s.code for s in timeline(order(kind="cueillette"))][2:] == [
        "Packed",
        "Ready-for-pickup",
        "collected",
    ]
    assert [s.code for s in timeline(order(kind="point_de_chute"))][2:] == [
        "Packed",
        "Out-for-delivery",
        "at-drop-point",
        "collected",
    ]
    assert step_code("Order-picked-up", "livraison") == "Order-picked-up"
    assert step_code("Order-picked-up", "cueillette") == "collected"
    assert step_code("Ready-for-pickup", "point_de_chute") == "at-drop-point"
    assert step_code("Order-delivered", None) == "delivered"


def test_a_cancelled_order_ends_with_its_cancellation() -> None:
    cancelled = order(
        "cancelled",
        fulfillment="Cancelled",
        events=[
            event("fulfillment_changed", "Packed"),
            event("fulfillment_changed", "Cancelled", "2026-12-08T15:00:00Z"),
            event("state_changed", "cancelled", "2026-12-08T15:00:00Z"),
        ],
    )
    assert shown(timeline(cancelled)) == [
        ("created", "done"),
        ("accepted", "done"),
        ("Packed", "done"),
        ("cancelled", "current"),
    ]
    assert timeline(cancelled)[-1].at == "2026-12-08T15:00:00Z"


def test_before_confirmation_only_the_creation_is_done() -> None:
    quoted = order("selected", fulfillment=None, events=[], confirmed_at=None)
    quoted["events"] = []
    assert shown(timeline(quoted))[:2] == [("created", "current"), ("accepted", "todo")]


def test_the_fee_follows_the_poles_terms_and_the_fulfilments_state() -> None:
    free = cancellation_quote(order())
    assert (free.allowed, free.fee, free.free, free.percentage) == (True, Decimal("0.00"), True, 0)
    packed = cancellation_quote(order(fulfillment="Packed"))
    # 10 % of 123.45 = 12.345, rounded half up as the seller node does: 12.35
    assert (packed.allowed, packed.fee, packed.percentage) == (True, Decimal("12.35"), 10)
    assert packed.total == Decimal("123.45") and not packed.free
    amount = order(fulfillment="Packed")
    amount["seller_document"]["cancellation_terms"][1]["cancellation_fee"] = {
        "amount": {"currency": "CAD", "value": "25"}
    }
    assert cancellation_quote(amount).fee == Decimal("25.00")
    assert cancellation_quote(amount).percentage is None


def test_when_cancelling_is_not_offered_the_quote_says_why() -> None:
    gone = order(fulfillment="Out-for-delivery", allowed_actions=["status", "support"])
    assert (cancellation_quote(gone).allowed, cancellation_quote(gone).reason) == (False, "etat")
    quoted = order("selected", fulfillment=None, allowed_actions=["init", "select"])
    assert cancellation_quote(quoted).reason == "non_confirmee"
    unlisted = order(fulfillment="Agent-assigned")
    unlisted["seller_document"]["cancellation_terms"] = unlisted["seller_document"][
        "cancellation_terms"
    ][:2]
    assert cancellation_quote(unlisted).reason == "hors_conditions"
    waiting = cancellation_quote(order(fulfillment="Packed", pending={"action": "status"}))
    assert (waiting.allowed, waiting.reason, waiting.fee) == (
        False,
        "demande_en_cours",
        Decimal("12.35"),
    )
    silent = order(seller_document={})
    assert (cancellation_quote(silent).allowed, cancellation_quote(silent).fee) == (True, None)
    assert cancellation_terms(silent) == []
    assert [row[0] for row in cancellation_terms(order())] == [
        "Pending",
        "Packed",
        "Agent-assigned",
        "Order-picked-up",
    ]


STATES = {
    "livraison": [
        "Pending",
        "Packed",
        "Agent-assigned",
        "Order-picked-up",
        "Out-for-delivery",
        "Order-delivered",
        "Cancelled",
    ],
    "cueillette": ["Pending", "Packed", "Ready-for-pickup", "Order-picked-up", "Cancelled"],
    "point_de_chute": [
        "Pending",
        "Packed",
        "Agent-assigned",
        "Out-for-delivery",
        "Ready-for-pickup",
        "Order-picked-up",
        "Cancelled",
    ],
}


@st.composite
def any_order(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from([*STATES, "inconnu"]))
    states = STATES.get(kind, STATES["livraison"])
    reached = draw(st.lists(st.sampled_from(states), max_size=6))
    current = draw(st.one_of(st.none(), st.sampled_from(states)))
    phase = draw(
        st.sampled_from(["new", "selected", "initialized", "confirmed", "completed", "cancelled"])
    )
    return order(
        phase,
        kind,
        current,
        [event("fulfillment_changed", state) for state in reached],
        allowed_actions=draw(st.lists(st.sampled_from(["cancel", "status"]), max_size=2)),
    )


@given(any_order())
def test_one_current_step_done_before_it_to_come_after(document: dict[str, Any]) -> None:
    statuses = [step.status for step in timeline(document)]
    assert statuses.count("current") == 1
    at = statuses.index("current")
    assert set(statuses[:at]) <= {"done"} and set(statuses[at + 1 :]) <= {"todo"}
    assert statuses[0] in ("done", "current")
    codes = [step.code for step in timeline(document)]
    assert len(codes) == len(set(codes))
    if document["state"] == "cancelled":
        assert codes[-1] == "cancelled" and statuses[-1] == "current"


@given(any_order())
def test_a_quote_is_allowed_only_with_a_known_fee_or_no_terms(document: dict[str, Any]) -> None:
    quote = cancellation_quote(document)
    if quote.allowed:
        assert "cancel" in document["allowed_actions"]
        assert quote.fee is not None and Decimal(0) <= quote.fee <= quote.total  # type: ignore[operator]
    else:
        assert quote.reason in ("non_confirmee", "etat", "hors_conditions", "demande_en_cours")
