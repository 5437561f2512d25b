"""The fulfilment states of each fulfilment type, the moves allowed between them, what the
buyer's cancellation costs in each, and the ``Order.status`` they add up to (the rules: the
notes of :mod:`reseau_poles.protocol.lifecycle`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from ..errors import ErrorCode, LifecycleError
from ..profile.money import DecimalLike, to_decimal
from ..profile.vocabulary import FulfillmentState, FulfillmentType
from .vocabulary import CancellationPolicy, OrderStatus

S = FulfillmentState
T = FulfillmentType


@dataclass(frozen=True, slots=True)
class FulfillmentProgress:
    """One fulfilment of an order: its type and current state."""

    type: FulfillmentType
    state: FulfillmentState = FulfillmentState.PENDING

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.type, self.state)

    @property
    def is_completed(self) -> bool:
        return self.state is completion_state(self.type)


FulfillmentsLike = (
    Mapping[str, FulfillmentProgress]
    | Iterable[FulfillmentProgress | tuple[FulfillmentType, FulfillmentState]]
)


def _progress_list(fulfillments: FulfillmentsLike | None) -> list[FulfillmentProgress] | None:
    if fulfillments is None:
        return None
    values = fulfillments.values() if isinstance(fulfillments, Mapping) else fulfillments
    return [
        value if isinstance(value, FulfillmentProgress) else FulfillmentProgress(*value)
        for value in values
    ]


_FLOWS: Final[dict[FulfillmentType, dict[FulfillmentState, frozenset[FulfillmentState]]]] = {
    T.LIVRAISON: {
        S.PENDING: frozenset({S.PACKED}),
        S.PACKED: frozenset({S.AGENT_ASSIGNED, S.ORDER_PICKED_UP, S.OUT_FOR_DELIVERY}),
        S.AGENT_ASSIGNED: frozenset({S.ORDER_PICKED_UP, S.OUT_FOR_DELIVERY}),
        S.ORDER_PICKED_UP: frozenset({S.OUT_FOR_DELIVERY, S.ORDER_DELIVERED}),
        S.OUT_FOR_DELIVERY: frozenset({S.ORDER_DELIVERED}),
        S.ORDER_DELIVERED: frozenset(),
    },
    T.CUEILLETTE: {
        S.PENDING: frozenset({S.PACKED}),
        S.PACKED: frozenset({S.READY_FOR_PICKUP, S.ORDER_PICKED_UP}),
        S.READY_FOR_PICKUP: frozenset({S.ORDER_PICKED_UP}),
        S.ORDER_PICKED_UP: frozenset(),
    },
    T.POINT_DE_CHUTE: {
        S.PENDING: frozenset({S.PACKED}),
        S.PACKED: frozenset({S.AGENT_ASSIGNED, S.OUT_FOR_DELIVERY, S.READY_FOR_PICKUP}),
        S.AGENT_ASSIGNED: frozenset({S.OUT_FOR_DELIVERY, S.READY_FOR_PICKUP}),
        S.OUT_FOR_DELIVERY: frozenset({S.READY_FOR_PICKUP}),
        S.READY_FOR_PICKUP: frozenset({S.ORDER_PICKED_UP}),
        S.ORDER_PICKED_UP: frozenset(),
    },
}
# The seller may cancel any fulfilment that has not reached its end.
for _flow in _FLOWS.values():
    for _state, _following in list(_flow.items()):
        if _following:
            _flow[_state] = _following | {S.CANCELLED}
    _flow[S.CANCELLED] = frozenset()

_COMPLETION: Final = {
    T.LIVRAISON: S.ORDER_DELIVERED,
    T.CUEILLETTE: S.ORDER_PICKED_UP,
    T.POINT_DE_CHUTE: S.ORDER_PICKED_UP,
}

_CANCELLATION: Final[dict[FulfillmentType, dict[FulfillmentState, CancellationPolicy]]] = {
    T.LIVRAISON: {
        S.PENDING: CancellationPolicy.FREE,
        S.PACKED: CancellationPolicy.WITH_FEE,
        S.AGENT_ASSIGNED: CancellationPolicy.WITH_FEE,
        S.ORDER_PICKED_UP: CancellationPolicy.WITH_FEE,
    },
    T.CUEILLETTE: {
        S.PENDING: CancellationPolicy.FREE,
        S.PACKED: CancellationPolicy.WITH_FEE,
        S.READY_FOR_PICKUP: CancellationPolicy.WITH_FEE,
    },
    T.POINT_DE_CHUTE: {
        S.PENDING: CancellationPolicy.FREE,
        S.PACKED: CancellationPolicy.WITH_FEE,
        S.AGENT_ASSIGNED: CancellationPolicy.WITH_FEE,
    },
}
# Goods still at the pôle: what an update of items or fulfilments can still change.
_AT_POLE: Final = {
    T.LIVRAISON: frozenset({S.PENDING, S.PACKED, S.AGENT_ASSIGNED}),
    T.CUEILLETTE: frozenset({S.PENDING, S.PACKED, S.READY_FOR_PICKUP}),
    T.POINT_DE_CHUTE: frozenset({S.PENDING, S.PACKED, S.AGENT_ASSIGNED}),
}


def fulfillment_states(fulfillment_type: FulfillmentType) -> frozenset[FulfillmentState]:
    """The states a fulfilment of this type goes through."""
    return frozenset(_FLOWS[fulfillment_type])


def next_fulfillment_states(
    fulfillment_type: FulfillmentType, state: FulfillmentState
) -> frozenset[FulfillmentState]:
    """The states that may follow ``state`` (not counting ``state`` itself, always allowed)."""
    return _FLOWS[fulfillment_type].get(state, frozenset())


def completion_state(fulfillment_type: FulfillmentType) -> FulfillmentState:
    """The state that means "the customer has the goods"."""
    return _COMPLETION[fulfillment_type]


def is_terminal(fulfillment_type: FulfillmentType, state: FulfillmentState) -> bool:
    return state is S.CANCELLED or state is _COMPLETION[fulfillment_type]


def _still_at_pole(progress: FulfillmentProgress) -> bool:
    return progress.state in _AT_POLE[progress.type]


def check_fulfillment_transition(
    fulfillment_type: FulfillmentType,
    previous: FulfillmentState,
    state: FulfillmentState,
    *,
    path: str | None = None,
) -> bool:
    """Whether the move changes anything (``False`` for a repeated state); raises
    :class:`LifecycleError` (40001, or 50002 out of a terminal state) when it is illegal."""
    flow = _FLOWS[fulfillment_type]
    if state not in flow:
        raise LifecycleError(
            f"L'état « {state} » n'existe pas pour une exécution de type "
            f"« {fulfillment_type} » ({fulfillment_type.label.lower()}).",
            code=ErrorCode.ACTION_NOT_APPLICABLE,
            path=path,
        )
    if previous is state:
        return False
    if is_terminal(fulfillment_type, previous):
        raise LifecycleError(
            f"Exécution déjà terminée (« {previous.label_for(fulfillment_type)} ») : "
            f"elle ne peut passer à « {state.label_for(fulfillment_type)} ».",
            code=ErrorCode.UPDATE_NOT_POSSIBLE,
            path=path,
        )
    if state not in flow.get(previous, frozenset()):
        allowed = ", ".join(sorted(s.value for s in flow.get(previous, ())))
        raise LifecycleError(
            f"Passage de « {previous} » à « {state} » non permis pour le type "
            f"« {fulfillment_type} » ; états suivants possibles : {allowed}.",
            code=ErrorCode.ACTION_NOT_APPLICABLE,
            path=path,
        )
    return True


def cancellation_policy(
    fulfillment_type: FulfillmentType, state: FulfillmentState
) -> CancellationPolicy:
    """What cancelling costs the buyer in this state (see the module notes)."""
    return _CANCELLATION[fulfillment_type].get(state, CancellationPolicy.REFUSED)


def cancellation_terms(
    fulfillment_type: FulfillmentType,
    *,
    fee_percentage: DecimalLike = "10",
    reason_required: bool = False,
) -> list[dict[str, Any]]:
    """Beckn 1.1 ``cancellation_terms`` for an order: one term per state where the buyer may
    cancel, with its fee (0 % while Pending). A state not listed may not be cancelled.

    ``fee_percentage`` is the pôle's own fee for goods already prepared; 10 % is only a default.
    """
    fee = to_decimal(fee_percentage)
    if not 0 <= fee <= 100:
        raise ValueError("Les frais d'annulation sont un pourcentage de 0 à 100.")
    terms = []
    for state, policy in _CANCELLATION[fulfillment_type].items():
        percentage = fee if policy is CancellationPolicy.WITH_FEE else Decimal(0)
        terms.append(
            {
                "fulfillment_state": {
                    "descriptor": {"code": state.value, "name": state.label_for(fulfillment_type)}
                },
                "reason_required": reason_required,
                "cancellation_fee": {"percentage": format(percentage.normalize(), "f")},
            }
        )
    return terms


def order_status(fulfillments: FulfillmentsLike) -> OrderStatus:
    """``Order.status`` from the fulfilments' states (ACTIVE when there are none yet)."""
    progress = _progress_list(fulfillments) or []
    if not progress or not all(p.is_terminal for p in progress):
        return OrderStatus.ACTIVE
    if any(p.is_completed for p in progress):
        return OrderStatus.COMPLETE
    return OrderStatus.CANCELLED
