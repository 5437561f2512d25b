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

The rules live in four modules: :mod:`.vocabulary` (actions, phases, statuses),
:mod:`.actions` (the table above), :mod:`.fulfillments` (the states, cancellation and
``Order.status``) and :mod:`.order` (:class:`OrderLifecycle` and its events); this package
gives them all.
"""

from .actions import allowed_actions, check_action, phase_after
from .fulfillments import (
    FulfillmentProgress,
    FulfillmentsLike,
    cancellation_policy,
    cancellation_terms,
    check_fulfillment_transition,
    completion_state,
    fulfillment_states,
    is_terminal,
    next_fulfillment_states,
    order_status,
)
from .order import (
    ActionAccepted,
    Event,
    FulfillmentAdvanced,
    FulfillmentRemoved,
    FulfillmentSet,
    OrderCancelled,
    OrderLifecycle,
    OrderStatusChanged,
)
from .vocabulary import Action, CancellationPolicy, Canceller, OrderStatus, Phase, parse_action

__all__ = [
    "Action",
    "ActionAccepted",
    "CancellationPolicy",
    "Canceller",
    "Event",
    "FulfillmentAdvanced",
    "FulfillmentProgress",
    "FulfillmentRemoved",
    "FulfillmentSet",
    "FulfillmentsLike",
    "OrderCancelled",
    "OrderLifecycle",
    "OrderStatus",
    "OrderStatusChanged",
    "Phase",
    "allowed_actions",
    "cancellation_policy",
    "cancellation_terms",
    "check_action",
    "check_fulfillment_transition",
    "completion_state",
    "fulfillment_states",
    "is_terminal",
    "next_fulfillment_states",
    "order_status",
    "parse_action",
    "phase_after",
]
