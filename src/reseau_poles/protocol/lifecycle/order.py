"""The life cycle of one transaction and its order as a small object: explicit state, methods
that return typed events or raise :class:`~reseau_poles.protocol.errors.LifecycleError` and
change nothing, and a plain dict for the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..errors import ErrorCode, LifecycleError
from ..profile.vocabulary import FulfillmentState, FulfillmentType
from .actions import _PRE_ORDER, _check_cancellation, allowed_actions, check_action
from .fulfillments import (
    _FLOWS,
    FulfillmentProgress,
    _progress_list,
    check_fulfillment_transition,
    order_status,
)
from .vocabulary import Action, Canceller, OrderStatus, Phase

S = FulfillmentState


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
