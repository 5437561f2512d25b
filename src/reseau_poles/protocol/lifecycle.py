"""The order and fulfilment life cycle: which action may follow which, which fulfilment state
may follow which, and what the buyer may still cancel, change or rate. No I/O.

In the spirit of h11: pure rules as functions and tables, plus :class:`OrderLifecycle`, a
small object holding explicit state whose methods either return typed events or raise
:class:`LifecycleError` carrying the Beckn/ONDC error code and a French message. A refused
call leaves the object untouched. The state is a plain dict away (:meth:`OrderLifecycle.to_dict`)
so that nodes can keep it in a database.

**Actions of a transaction** (``context.action``; callbacks are matched to their request by
message id in the network layer, not here):

==============  ==========================================  =====================================
phase           allowed (→ next phase)                      refused with
==============  ==========================================  =====================================
new             search (→ searching), select (→ selected)   init/confirm 40001; post-order
                                                            actions 30018 (no order yet)
searching       search, select (→ selected)                 same
selected        search, select, init (→ initialized)        confirm 40001
initialized     search, select (→ selected), init,          —
                confirm (→ confirmed)
confirmed       status, track, update, cancel (→ cancelled  search/select/init/confirm 40001;
(ACTIVE)        if the cancellation terms allow), rating    cancel 50001 per the terms; update
                once something was delivered                50002 once nothing can change;
                                                            rating 40001 before any delivery
completed       status, track, rating, update of the        update 50002, cancel 50001,
(COMPLETE)      payment or billing only (net-30 invoices    others 40001
                are settled after delivery)
cancelled       status, track                               update 50002, cancel 50001,
(CANCELLED)                                                 rating 40001, others 40001
==============  ==========================================  =====================================

``support`` is allowed in every phase. ``search`` after a ``select`` keeps the quote (a buyer
may look around); a new ``select`` after ``init`` starts the terms over.

**Fulfilment states**, per fulfilment type. Forward moves only; ``Cancelled`` may follow any
state that is not terminal (the seller's decision: stock lost, truck broken down, failed
delivery, no-show at pickup); repeating the current state is accepted and changes nothing
(an ``on_status`` sent twice).

* ``livraison``: Pending → Packed → Agent-assigned → Order-picked-up → Out-for-delivery →
  **Order-delivered**. Skips: Packed → Order-picked-up or Out-for-delivery (the pôle drives
  its own truck: no agent to assign), Agent-assigned → Out-for-delivery (the carrier does not
  report the pickup), Order-picked-up → Order-delivered (a short hop).
* ``cueillette`` (the customer comes to the pôle): Pending → Packed → Ready-for-pickup →
  **Order-picked-up** (collected by the customer). Skip: Packed → Order-picked-up (the
  customer waited at the counter).
* ``point_de_chute`` (delivery to a drop point, then collection): Pending → Packed →
  Agent-assigned → Out-for-delivery → Ready-for-pickup (arrived at the drop point) →
  **Order-picked-up**. Skips: Packed → Out-for-delivery (own truck), Packed or Agent-assigned →
  Ready-for-pickup (only the arrival is reported).

Terminal states are the completion (bold) and Cancelled. Leaving one is refused with 50002;
any other illegal move with 40001.

**Order.status**: ACTIVE while any fulfilment is not terminal; once all are terminal,
COMPLETE if at least one completed, else CANCELLED.

**Cancellation by the buyer**, per fulfilment state: free while Pending; with the seller's fee
while the goods are still at the pôle or with the carrier before the last mile (Packed,
Agent-assigned, Order-picked-up of a livraison, Ready-for-pickup of a cueillette); refused
(50001) once out for delivery, at the drop point, delivered or collected. The order can be
cancelled as a whole only if every fulfilment allows it; the fee applies if any asks for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from .errors import ErrorCode, LifecycleError, ProtocolError
from .profile.money import DecimalLike, to_decimal
from .profile.vocabulary import FulfillmentState, FulfillmentType, LabelledCode, describe

S = FulfillmentState
T = FulfillmentType


class Action(LabelledCode):
    """The request actions of Beckn 1.1 (``context.action``)."""

    SEARCH = "search", "recherche"
    SELECT = "select", "sélection"
    INIT = "init", "initialisation"
    CONFIRM = "confirm", "confirmation"
    STATUS = "status", "demande d'état"
    TRACK = "track", "suivi de livraison"
    UPDATE = "update", "modification"
    CANCEL = "cancel", "annulation"
    RATING = "rating", "évaluation"
    SUPPORT = "support", "demande de soutien"


class Phase(LabelledCode):
    """Where a transaction stands."""

    NEW = "new", "Nouvelle transaction"
    SEARCHING = "searching", "Recherche"
    SELECTED = "selected", "Sélection (devis)"
    INITIALIZED = "initialized", "Initialisation (conditions)"
    CONFIRMED = "confirmed", "Commande confirmée"
    COMPLETED = "completed", "Commande terminée"
    CANCELLED = "cancelled", "Commande annulée"


class OrderStatus(LabelledCode):
    """``Order.status`` of Beckn 1.1."""

    ACTIVE = "ACTIVE", "En cours"
    COMPLETE = "COMPLETE", "Terminée"
    CANCELLED = "CANCELLED", "Annulée"


describe(Action, noun="action")
describe(Phase, noun="étape")
describe(OrderStatus, noun="statut de commande")


class Canceller(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"


class CancellationPolicy(StrEnum):
    """What cancelling a fulfilment in a given state costs the buyer."""

    FREE = "free"
    WITH_FEE = "with_fee"
    REFUSED = "refused"


def parse_action(name: object, *, path: str = "context.action") -> tuple[Action, bool]:
    """``(action, is_callback)`` from ``"select"`` or ``"on_select"``."""
    text = name.strip() if isinstance(name, str) else ""
    callback = text.startswith("on_")
    try:
        return Action.parse(text[3:] if callback else text, path=path), callback
    except ProtocolError:
        raise ProtocolError(f"Action inconnue « {name} ».", path=path) from None


# --- actions -----------------------------------------------------------------------------

_PRE_ORDER: Final = (Phase.NEW, Phase.SEARCHING, Phase.SELECTED, Phase.INITIALIZED)
_ORDER_PHASES: Final = (Phase.CONFIRMED, Phase.COMPLETED, Phase.CANCELLED)
_POST_ORDER_ACTIONS: Final = frozenset(
    {Action.STATUS, Action.TRACK, Action.UPDATE, Action.CANCEL, Action.RATING}
)

# phase → action → next phase, before any condition on fulfilments is checked.
_ACTION_TABLE: Final[dict[Phase, dict[Action, Phase]]] = {
    Phase.NEW: {Action.SEARCH: Phase.SEARCHING, Action.SELECT: Phase.SELECTED},
    Phase.SEARCHING: {Action.SEARCH: Phase.SEARCHING, Action.SELECT: Phase.SELECTED},
    Phase.SELECTED: {
        Action.SEARCH: Phase.SELECTED,
        Action.SELECT: Phase.SELECTED,
        Action.INIT: Phase.INITIALIZED,
    },
    Phase.INITIALIZED: {
        Action.SEARCH: Phase.INITIALIZED,
        Action.SELECT: Phase.SELECTED,
        Action.INIT: Phase.INITIALIZED,
        Action.CONFIRM: Phase.CONFIRMED,
    },
    Phase.CONFIRMED: {
        Action.STATUS: Phase.CONFIRMED,
        Action.TRACK: Phase.CONFIRMED,
        Action.UPDATE: Phase.CONFIRMED,
        Action.CANCEL: Phase.CANCELLED,
        Action.RATING: Phase.CONFIRMED,
    },
    Phase.COMPLETED: {
        Action.STATUS: Phase.COMPLETED,
        Action.TRACK: Phase.COMPLETED,
        Action.UPDATE: Phase.COMPLETED,
        Action.RATING: Phase.COMPLETED,
    },
    Phase.CANCELLED: {
        Action.STATUS: Phase.CANCELLED,
        Action.TRACK: Phase.CANCELLED,
        Action.RATING: Phase.CANCELLED,
    },
}
for _phase, _rules in _ACTION_TABLE.items():
    _rules[Action.SUPPORT] = _phase  # support never moves the transaction


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


_PAYMENT_TARGETS: Final = ("payment", "billing")


def _is_payment_update(target: str | None) -> bool:
    return target is not None and any(word in target.casefold() for word in _PAYMENT_TARGETS)


def allowed_actions(
    phase: Phase, fulfillments: FulfillmentsLike | None = None
) -> frozenset[Action]:
    """The actions :func:`check_action` would accept now; ``update`` counts when at least the
    payment may still change."""
    allowed = set()
    for action in Action:
        try:
            check_action(phase, action, fulfillments=fulfillments, update_target="payments")
        except LifecycleError:
            continue
        allowed.add(action)
    return frozenset(allowed)


def phase_after(actions: Iterable[Action | str]) -> Phase:
    """The phase a transaction reaches through ``actions`` from the start, every step checked.

    Post-order conditions on fulfilments cannot be known from actions alone: they are checked
    as if no fulfilment were known.
    """
    phase = Phase.NEW
    for action in actions:
        phase = check_action(phase, action)
    return phase


def check_action(
    state: Phase | Iterable[Action | str],
    action: Action | str,
    *,
    fulfillments: FulfillmentsLike | None = None,
    update_target: str | None = None,
    path: str | None = "context.action",
) -> Phase:
    """The phase after ``action``, or :class:`LifecycleError` if it may not follow ``state``.

    ``state`` is the current :class:`Phase`, or the actions already accepted in the
    transaction (replayed with :func:`phase_after`). ``fulfillments``, when known, decide
    cancellation, update and rating (see the module notes); ``update_target`` is Beckn's
    ``message.update_target`` (``"order.payments"`` …).
    """
    phase = state if isinstance(state, Phase) else phase_after(state)
    act = Action.parse(action, path=path)
    progress = _progress_list(fulfillments)
    rules = _ACTION_TABLE[phase]
    if act not in rules:
        raise _refusal(phase, act, path)
    if act is Action.CANCEL:
        _check_cancellation(progress, path)
    elif act is Action.UPDATE:
        _check_update(phase, progress, update_target, path)
    elif act is Action.RATING and not (
        phase is Phase.COMPLETED or any(p.is_completed for p in progress or ())
    ):
        raise LifecycleError(
            "Une commande ne peut être évaluée qu'après une livraison ou une cueillette.",
            code=ErrorCode.ACTION_NOT_APPLICABLE,
            path=path,
        )
    return rules[act]


def _refusal(phase: Phase, action: Action, path: str | None) -> LifecycleError:
    where = f"impossible à l'étape « {phase.label} »"
    if phase in _PRE_ORDER and action in _POST_ORDER_ACTIONS:
        return LifecycleError(
            f"Action « {action} » {where} : aucune commande n'est encore confirmée.",
            code=ErrorCode.ORDER_NOT_FOUND,
            path=path,
        )
    if action is Action.CANCEL:
        return LifecycleError(
            f"Annulation {where} : la commande est déjà "
            + ("annulée." if phase is Phase.CANCELLED else "livrée."),
            code=ErrorCode.CANCELLATION_NOT_POSSIBLE,
            path=path,
        )
    if action is Action.UPDATE:
        return LifecycleError(
            f"Modification {where}.", code=ErrorCode.UPDATE_NOT_POSSIBLE, path=path
        )
    if phase in _ORDER_PHASES:
        hint = " : la commande est déjà confirmée ; une nouvelle commande demande une "
        hint += "nouvelle transaction."
    elif action is Action.INIT:
        hint = " : demandez d'abord un devis (« select »)."
    elif action is Action.CONFIRM and phase in (Phase.NEW, Phase.SEARCHING):
        hint = " : demandez d'abord un devis (« select »), puis les conditions (« init »)."
    elif action is Action.CONFIRM:
        hint = " : initialisez d'abord la commande (« init »)."
    else:
        hint = "."
    return LifecycleError(
        f"Action « {action} » {where}{hint}", code=ErrorCode.ACTION_NOT_APPLICABLE, path=path
    )


def _check_update(
    phase: Phase,
    progress: list[FulfillmentProgress] | None,
    target: str | None,
    path: str | None,
) -> None:
    if _is_payment_update(target):
        return  # payment and billing may change until the order is settled
    if phase is Phase.COMPLETED:
        raise LifecycleError(
            "Commande terminée : seuls le paiement et la facturation peuvent encore changer.",
            code=ErrorCode.UPDATE_NOT_POSSIBLE,
            path=path,
        )
    if progress and not any(_still_at_pole(p) for p in progress):
        raise LifecycleError(
            "Modification impossible : les marchandises ont quitté le pôle.",
            code=ErrorCode.UPDATE_NOT_POSSIBLE,
            path=path,
        )


def _check_cancellation(progress: list[FulfillmentProgress] | None, path: str | None) -> bool:
    """Whether a fee applies; :class:`LifecycleError` when the order may not be cancelled."""
    fee = False
    for item in progress or ():
        if item.state is S.CANCELLED:
            continue  # already cancelled by the seller: nothing left to cancel there
        policy = cancellation_policy(item.type, item.state)
        if policy is CancellationPolicy.REFUSED:
            raise LifecycleError(
                f"Annulation impossible : une exécution ({item.type.label.lower()}) est à "
                f"l'étape « {item.state.label_for(item.type)} ».",
                code=ErrorCode.CANCELLATION_NOT_POSSIBLE,
                path=path,
            )
        fee = fee or policy is CancellationPolicy.WITH_FEE
    return fee


# --- fulfilment states -------------------------------------------------------------------

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


# --- the order object --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionAccepted:
    """An action was accepted; ``phase`` is where the transaction now stands."""

    action: Action
    previous: Phase
    phase: Phase


@dataclass(frozen=True, slots=True)
class FulfillmentSet:
    """A fulfilment was declared (or its type changed before any progress)."""

    fulfillment_id: str
    type: FulfillmentType


@dataclass(frozen=True, slots=True)
class FulfillmentRemoved:
    fulfillment_id: str


@dataclass(frozen=True, slots=True)
class FulfillmentAdvanced:
    fulfillment_id: str
    previous: FulfillmentState
    state: FulfillmentState


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    """The whole order was cancelled; ``fee_applies`` per the cancellation terms."""

    by: Canceller
    fee_applies: bool


@dataclass(frozen=True, slots=True)
class OrderStatusChanged:
    previous: OrderStatus | None
    status: OrderStatus


Event = (
    ActionAccepted
    | FulfillmentSet
    | FulfillmentRemoved
    | FulfillmentAdvanced
    | OrderCancelled
    | OrderStatusChanged
)

_FORMAT_VERSION: Final = 1


class OrderLifecycle:
    """The life cycle of one transaction and its order, for either side of it.

    The seller node calls :meth:`receive` for each request it accepts and :meth:`advance` as
    goods move; the buyer node calls :meth:`receive` for each request it sends and
    :meth:`advance` for each state an ``on_status`` reports. Every method returns the events
    it caused (empty when nothing changed) or raises :class:`LifecycleError` and changes
    nothing.
    """

    __slots__ = ("_cancelled_by", "_fee_applies", "_fulfillments", "_phase")

    def __init__(self) -> None:
        self._phase = Phase.NEW
        self._fulfillments: dict[str, FulfillmentProgress] = {}
        self._cancelled_by: Canceller | None = None
        self._fee_applies = False

    # -- reading --

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def fulfillments(self) -> dict[str, FulfillmentProgress]:
        """A copy: change them through the methods."""
        return dict(self._fulfillments)

    @property
    def order_status(self) -> OrderStatus | None:
        """``Order.status`` once the order is confirmed, ``None`` before."""
        return {
            Phase.CONFIRMED: OrderStatus.ACTIVE,
            Phase.COMPLETED: OrderStatus.COMPLETE,
            Phase.CANCELLED: OrderStatus.CANCELLED,
        }.get(self._phase)

    @property
    def cancelled_by(self) -> Canceller | None:
        return self._cancelled_by

    @property
    def cancellation_fee_applies(self) -> bool:
        return self._fee_applies

    def allowed_actions(self) -> frozenset[Action]:
        return allowed_actions(self._phase, self._fulfillments)

    def check(
        self, action: Action | str, *, update_target: str | None = None, path: str | None = None
    ) -> Phase:
        """The phase ``action`` would lead to; raises like :func:`check_action`."""
        return check_action(
            self._phase,
            action,
            fulfillments=self._fulfillments,
            update_target=update_target,
            path=path or "context.action",
        )

    # -- changing --

    def receive(
        self, action: Action | str, *, update_target: str | None = None, path: str | None = None
    ) -> list[Event]:
        """Record an accepted request. A buyer's ``cancel`` cancels every fulfilment."""
        act = Action.parse(action, path=path or "context.action")
        phase = self.check(act, update_target=update_target, path=path)
        if act is Action.CANCEL:
            return self._cancel(Canceller.BUYER, path)
        previous, self._phase = self._phase, phase
        events: list[Event] = [ActionAccepted(act, previous, phase)]
        if phase is Phase.CONFIRMED and previous is not Phase.CONFIRMED:
            events.append(OrderStatusChanged(None, OrderStatus.ACTIVE))
        return events

    def cancel(self, *, by: Canceller = Canceller.SELLER, path: str | None = None) -> list[Event]:
        """Cancel the whole order. The seller (an unsolicited ``on_cancel``) is not bound by
        the buyer's cancellation terms, but nobody cancels what was already delivered:
        cancel the remaining fulfilments one by one with :meth:`advance` instead."""
        if by is Canceller.BUYER:
            return self.receive(Action.CANCEL, path=path)
        if self._phase is not Phase.CONFIRMED:
            self.check(Action.CANCEL, path=path)  # raises the right refusal
        return self._cancel(Canceller.SELLER, path)

    def _cancel(self, by: Canceller, path: str | None) -> list[Event]:
        delivered = [key for key, p in self._fulfillments.items() if p.is_completed]
        if delivered:
            raise LifecycleError(
                "Annulation impossible : une partie de la commande est déjà livrée "
                f"({', '.join(delivered)}).",
                code=ErrorCode.CANCELLATION_NOT_POSSIBLE,
                path=path,
            )
        # The buyer is bound by the cancellation terms; the seller answers for its own reasons
        # (a failed delivery may be cancelled out for delivery) and charges no fee.
        fee = by is Canceller.BUYER and _check_cancellation(
            _progress_list(self._fulfillments), path
        )
        events: list[Event] = [ActionAccepted(Action.CANCEL, self._phase, Phase.CANCELLED)]
        for key, progress in self._fulfillments.items():
            if progress.state is not S.CANCELLED:
                self._fulfillments[key] = FulfillmentProgress(progress.type, S.CANCELLED)
                events.append(FulfillmentAdvanced(key, progress.state, S.CANCELLED))
        self._phase = Phase.CANCELLED
        self._cancelled_by = by
        self._fee_applies = fee
        events.append(OrderCancelled(by, self._fee_applies))
        events.append(OrderStatusChanged(OrderStatus.ACTIVE, OrderStatus.CANCELLED))
        return events

    def set_fulfillment(
        self,
        fulfillment_id: str,
        fulfillment_type: FulfillmentType | str,
        *,
        path: str | None = None,
    ) -> list[Event]:
        """Declare a fulfilment, or change its type. Before ``confirm``, freely; after, a new
        fulfilment may be added and a type changed while nothing has moved (Pending)."""
        kind = FulfillmentType.parse(fulfillment_type, path=path)
        current = self._fulfillments.get(fulfillment_id)
        if current is not None and current.type is kind:
            return []
        if self._phase in (Phase.COMPLETED, Phase.CANCELLED):
            raise LifecycleError(
                f"{self._phase.label} : ses exécutions ne changent plus.",
                code=ErrorCode.UPDATE_NOT_POSSIBLE,
                path=path,
            )
        if current is not None and current.state is not S.PENDING:
            raise LifecycleError(
                f"L'exécution « {fulfillment_id} » est déjà à l'étape "
                f"« {current.state.label_for(current.type)} » : son type ne change plus.",
                code=ErrorCode.UPDATE_NOT_POSSIBLE,
                path=path,
            )
        self._fulfillments[fulfillment_id] = FulfillmentProgress(kind)
        return [FulfillmentSet(fulfillment_id, kind)]

    def remove_fulfillment(self, fulfillment_id: str, *, path: str | None = None) -> list[Event]:
        """Forget a fulfilment the buyer dropped before confirming."""
        if fulfillment_id not in self._fulfillments:
            return []
        if self._phase not in _PRE_ORDER:
            raise LifecycleError(
                "Une exécution d'une commande confirmée ne se retire pas : annulez-la.",
                code=ErrorCode.UPDATE_NOT_POSSIBLE,
                path=path,
            )
        del self._fulfillments[fulfillment_id]
        return [FulfillmentRemoved(fulfillment_id)]

    def advance(
        self,
        fulfillment_id: str,
        state: FulfillmentState | str,
        *,
        path: str | None = None,
    ) -> list[Event]:
        """Move a fulfilment to ``state`` (see the module notes for the allowed moves).

        When the last fulfilment reaches its end the order becomes COMPLETE (or CANCELLED if
        none was completed) and the events say so.
        """
        target = FulfillmentState.parse(state, path=path)
        current = self._fulfillments.get(fulfillment_id)
        if current is None:
            raise LifecycleError(
                f"Exécution inconnue « {fulfillment_id} » dans cette commande.",
                code=ErrorCode.INVALID_REQUEST,
                path=path,
            )
        if self._phase in _PRE_ORDER:
            raise LifecycleError(
                "Une exécution ne progresse qu'une fois la commande confirmée.",
                code=ErrorCode.ORDER_NOT_FOUND,
                path=path,
            )
        if not check_fulfillment_transition(current.type, current.state, target, path=path):
            return []
        self._fulfillments[fulfillment_id] = FulfillmentProgress(current.type, target)
        events: list[Event] = [FulfillmentAdvanced(fulfillment_id, current.state, target)]
        status = order_status(self._fulfillments)
        if status is not OrderStatus.ACTIVE:
            self._phase = Phase.COMPLETED if status is OrderStatus.COMPLETE else Phase.CANCELLED
            if status is OrderStatus.CANCELLED:
                self._cancelled_by = Canceller.SELLER
            events.append(OrderStatusChanged(OrderStatus.ACTIVE, status))
        return events

    # -- persistence --

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready state, for a database column."""
        return {
            "version": _FORMAT_VERSION,
            "phase": self._phase.value,
            "fulfillments": {
                key: {"type": p.type.value, "state": p.state.value}
                for key, p in self._fulfillments.items()
            },
            "cancelled_by": self._cancelled_by.value if self._cancelled_by else None,
            "cancellation_fee_applies": self._fee_applies,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OrderLifecycle:
        """Rebuild from :meth:`to_dict`. Stored data that breaks the rules is a local bug:
        :class:`ValueError`, not a NACK."""
        try:
            if data.get("version") != _FORMAT_VERSION:
                raise ValueError(f"version de format inconnue : {data.get('version')!r}")
            lifecycle = cls()
            lifecycle._phase = Phase(data["phase"])
            for key, value in dict(data.get("fulfillments") or {}).items():
                kind = FulfillmentType(value["type"])
                state = FulfillmentState(value["state"])
                if state not in _FLOWS[kind]:
                    raise ValueError(f"état {state} impossible pour {kind}")
                lifecycle._fulfillments[str(key)] = FulfillmentProgress(kind, state)
            by = data.get("cancelled_by")
            lifecycle._cancelled_by = Canceller(by) if by else None
            lifecycle._fee_applies = bool(data.get("cancellation_fee_applies", False))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"Cycle de vie enregistré illisible : {exc}") from None
        lifecycle._check_consistency()
        return lifecycle

    def _check_consistency(self) -> None:
        progress = list(self._fulfillments.values())
        moved = any(p.state is not S.PENDING for p in progress)
        if self._phase in _PRE_ORDER and moved:
            raise ValueError("Cycle de vie incohérent : exécution en cours avant confirmation.")
        if (
            self._phase is Phase.CONFIRMED
            and progress
            and order_status(progress) is not OrderStatus.ACTIVE
        ):
            raise ValueError("Cycle de vie incohérent : commande active mais tout est terminé.")
        if self._phase is Phase.COMPLETED and order_status(progress) is not OrderStatus.COMPLETE:
            raise ValueError("Cycle de vie incohérent : commande terminée sans livraison.")
        if self._phase is Phase.CANCELLED and any(p.state is not S.CANCELLED for p in progress):
            raise ValueError("Cycle de vie incohérent : commande annulée non annulée partout.")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OrderLifecycle):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        states = ", ".join(f"{k}={p.type}:{p.state}" for k, p in self._fulfillments.items())
        return f"OrderLifecycle(phase={self._phase.value}, {states or 'aucune exécution'})"
