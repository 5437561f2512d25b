"""Random walks through the life cycle (hypothesis stateful testing).

Whatever the sequence of actions, declarations, moves and cancellations:

* a refusal always carries an ErrorCode and a message, and changes nothing;
* a terminal fulfilment state is never left, a terminal phase never left;
* COMPLETE only once something was delivered or collected, and every fulfilment has ended;
* a cancelled order never progresses, and every one of its fulfilments is Cancelled;
* ratings are accepted only after a delivery;
* the state survives a trip through a plain JSON dict.
"""

from __future__ import annotations

import json

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from reseau_poles.protocol.errors import ErrorCode, LifecycleError
from reseau_poles.protocol.lifecycle import (
    Action,
    CancellationPolicy,
    Canceller,
    OrderLifecycle,
    OrderStatus,
    Phase,
    cancellation_policy,
    is_terminal,
    next_fulfillment_states,
)
from reseau_poles.protocol.profile import FulfillmentState, FulfillmentType

IDS = st.sampled_from(["f1", "f2", "f3"])
CANCELLED = FulfillmentState.CANCELLED
REFUSED = CancellationPolicy.REFUSED
TERMINAL_PHASES = (Phase.COMPLETED, Phase.CANCELLED)
UPDATE_TARGETS = st.sampled_from([None, "order.items", "order.fulfillments", "order.payments"])


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.order = OrderLifecycle()
        self.refusals = 0

    def _attempt(self, call, *args, **kwargs) -> list | None:  # type: ignore[no-untyped-def]
        before = self.order.to_dict()
        phase = self.order.phase
        states = self.order.fulfillments
        try:
            events = call(*args, **kwargs)
        except LifecycleError as error:
            assert isinstance(error.code, ErrorCode)
            assert error.message.strip()
            assert error.to_nack()["error"]["code"] == error.code.value
            assert self.order.to_dict() == before, "a refusal must change nothing"
            self.refusals += 1
            return None
        # Terminal things stay terminal.
        if phase in TERMINAL_PHASES:
            assert self.order.phase is phase
        for key, progress in states.items():
            if progress.is_terminal:
                assert self.order.fulfillments[key] == progress
        if phase is Phase.CANCELLED:
            assert self.order.to_dict() == before, "a cancelled order never progresses"
        return events

    @rule(action=st.sampled_from(list(Action)), update_target=UPDATE_TARGETS)
    def receive(self, action: Action, update_target: str | None) -> None:
        delivered_before = any(p.is_completed for p in self.order.fulfillments.values())
        cancel_expected = self._cancel_expected(Canceller.BUYER)
        events = self._attempt(self.order.receive, action, update_target=update_target)
        if events is not None and action is Action.RATING:
            assert delivered_before or self.order.phase is Phase.COMPLETED
        if action is Action.CANCEL:
            assert (events is not None) is cancel_expected

    @rule(key=IDS, kind=st.sampled_from(list(FulfillmentType)))
    def set_fulfillment(self, key: str, kind: FulfillmentType) -> None:
        self._attempt(self.order.set_fulfillment, key, kind)

    @rule(key=IDS)
    def remove_fulfillment(self, key: str) -> None:
        self._attempt(self.order.remove_fulfillment, key)

    @rule(key=IDS, state=st.sampled_from(list(FulfillmentState)))
    def advance(self, key: str, state: FulfillmentState) -> None:
        self._attempt(self.order.advance, key, state)

    @precondition(lambda self: self.order.phase is Phase.CONFIRMED)
    @rule(key=IDS, data=st.data())
    def advance_legally(self, key: str, data: st.DataObject) -> None:
        """Push a fulfilment forward along its own flow, so that walks often reach the end."""
        progress = self.order.fulfillments.get(key)
        if progress is None:
            return
        following = sorted(next_fulfillment_states(progress.type, progress.state) - {CANCELLED})
        if not following:
            return
        events = self._attempt(self.order.advance, key, data.draw(st.sampled_from(following)))
        assert events, "a move the flow allows must be accepted"

    def _finish(self, key: str) -> None:
        progress = self.order.fulfillments[key]
        state = progress.state
        while not is_terminal(progress.type, state):
            state = min(next_fulfillment_states(progress.type, state) - {CANCELLED})
            assert self._attempt(self.order.advance, key, state)

    @precondition(lambda self: self.order.phase is Phase.CONFIRMED)
    @rule(key=IDS)
    def deliver_one(self, key: str) -> None:
        """Complete one fulfilment while the others wait: partly delivered orders."""
        if key in self.order.fulfillments:
            self._finish(key)

    @precondition(lambda self: self.order.phase is Phase.CONFIRMED)
    @rule()
    def deliver_everything(self) -> None:
        for key in self.order.fulfillments:
            self._finish(key)
        if self.order.fulfillments:
            assert self.order.phase in TERMINAL_PHASES

    @precondition(lambda self: self.order.phase in (Phase.NEW, Phase.SEARCHING))
    @rule()
    def go_to_confirm(self) -> None:
        for action in ("select", "init"):
            self.order.receive(action)
        for key in ("f1", "f2"):
            if key not in self.order.fulfillments:
                self.order.set_fulfillment(key, FulfillmentType.LIVRAISON)
        self.order.receive("confirm")

    def _cancel_expected(self, by: Canceller) -> bool:
        """What the rules say about cancelling the whole order now (a reference model)."""
        remaining = [p for p in self.order.fulfillments.values() if p.state is not CANCELLED]
        if self.order.phase is not Phase.CONFIRMED:
            return False
        if by is Canceller.BUYER:
            return all(cancellation_policy(p.type, p.state) is not REFUSED for p in remaining)
        return not any(p.is_completed for p in remaining)

    @rule(by=st.sampled_from(list(Canceller)))
    def cancel(self, by: Canceller) -> None:
        expected = self._cancel_expected(by)
        assert (self._attempt(self.order.cancel, by=by) is not None) is expected

    @precondition(lambda self: self.order.phase is Phase.CONFIRMED)
    @rule(key=IDS)
    def seller_cancels_one(self, key: str) -> None:
        """The seller drops one fulfilment (out of stock): partly cancelled orders."""
        if key in self.order.fulfillments:
            self._attempt(self.order.advance, key, CANCELLED)

    @invariant()
    def status_matches_the_fulfillments(self) -> None:
        order = self.order
        progress = list(order.fulfillments.values())
        if order.phase is Phase.COMPLETED:
            assert order.order_status is OrderStatus.COMPLETE
            assert any(p.is_completed for p in progress)
            assert all(is_terminal(p.type, p.state) for p in progress)
        if order.phase is Phase.CANCELLED:
            assert order.order_status is OrderStatus.CANCELLED
            assert all(p.state is FulfillmentState.CANCELLED for p in progress)
            assert order.cancelled_by is not None
        if order.phase is Phase.CONFIRMED:
            assert order.order_status is OrderStatus.ACTIVE
        if order.phase not in (Phase.CONFIRMED, *TERMINAL_PHASES):
            assert order.order_status is None
            assert all(p.state is FulfillmentState.PENDING for p in progress)
        if order.cancellation_fee_applies:
            assert order.cancelled_by is Canceller.BUYER

    def teardown(self) -> None:
        # Shown by ``pytest --hypothesis-show-statistics``: do the walks reach every phase?
        event(f"phase finale : {self.order.phase}")

    @invariant()
    def survives_a_plain_dict(self) -> None:
        data = json.loads(json.dumps(self.order.to_dict()))
        assert OrderLifecycle.from_dict(data) == self.order

    @invariant()
    def allowed_actions_are_accepted(self) -> None:
        for action in self.order.allowed_actions():
            self.order.check(action, update_target="order.payments")


LifecycleMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=30, deadline=None
)
TestLifecycleMachine = LifecycleMachine.TestCase
