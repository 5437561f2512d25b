"""Which action may follow which in a transaction, and the refusal (with its Beckn/ONDC code)
when it may not (the table: the notes of :mod:`reseau_poles.protocol.lifecycle`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from ..errors import ErrorCode, LifecycleError
from ..profile.vocabulary import FulfillmentState
from .fulfillments import (
    FulfillmentProgress,
    FulfillmentsLike,
    _progress_list,
    _still_at_pole,
    cancellation_policy,
)
from .vocabulary import Action, CancellationPolicy, Phase

S = FulfillmentState

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
