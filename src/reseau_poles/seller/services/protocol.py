"""What the seller node does with each Beckn action: the logic between routes and SQL.

Each ``handle_*`` method reads the verified request, checks it against the catalog and
stock, and writes the callback into the outbox in the same transaction as any state change
(``NodeNetwork.outgoing``), with the pôle's webhook events (:mod:`reseau_poles.participant.webhooks`).
It raises :class:`ProtocolError` (code and JSON path) for a request it refuses.

Refusals reach the buyer in one of two ways (:meth:`SellerService.answering`, see
seller_node/README.md): a request that is malformed, unsigned or stale (30000, 30016, 30022)
or that skips a step of its transaction (40001, :class:`OutOfSequence`: init without select,
confirm without init) gets a NACK and no callback; a well-formed request the pôle cannot satisfy (unknown item or
order, no stock, minimum, illegal life-cycle step …) gets an ACK, then its ``on_<action>``
carrying ``error`` (code, paths, message), as ONDC does for 40002.

After confirm, the pôle moves the fulfilment through the management API
(:meth:`SellerService.advance_fulfillment`, :meth:`SellerService.seller_cancel`): each change
is an event row, an unsolicited ``on_status`` (same transaction id, new message id) and a
webhook event, in one transaction. Every life-cycle rule is the protocol core's
:class:`~reseau_poles.protocol.lifecycle.OrderLifecycle`.

Methods are synchronous (SQLAlchemy sessions); routes run them in a worker thread and wake
the outbox worker afterwards.
"""

from __future__ import annotations

from .checkout import Checkout
from .fulfillment import PoleActions
from .search import Searching


class SellerService(Searching, Checkout, PoleActions):
    """The seller node's protocol service: ``handle_<action>`` for each Beckn action
    (:mod:`.search`, :mod:`.checkout`, :mod:`.order_changes`), the pôle's moves
    (:mod:`.fulfillment`), on what they share (:mod:`.callbacks`)."""
