"""After confirm, the pôle's side (its management API): the fulfilment moved to its next
state, or the order cancelled by the pôle; each change an event row, an unsolicited
``on_status`` (same transaction id, new message id) and a webhook event, in one transaction.
Every life-cycle rule is the protocol core's
:class:`~reseau_poles.protocol.lifecycle.OrderLifecycle`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reseau_poles.protocol.lifecycle import (
    Canceller,
)
from reseau_poles.protocol.profile import (
    FulfillmentState,
)
from reseau_poles.storage import utcnow, write_session

from ..repositories import orders as order_repo
from .callbacks import Row
from .order_changes import OrderChanges
from .order_view import current_document, set_state


class PoleActions(OrderChanges):
    """What the pôle does to its orders: :meth:`advance_fulfillment`, :meth:`seller_cancel`."""

    def advance_fulfillment(
        self,
        provider_id: str,
        order_id: str,
        state: str,
        *,
        tracking_url: str | None = None,
        reason: str | None = None,
    ) -> Row | None:
        """Move the order's fulfilment to ``state`` (the protocol core's rules); ``None`` if
        the pôle has no such order. Raises :class:`LifecycleError` for an illegal move."""
        target = FulfillmentState.parse(state, path="state")
        with self.network.outgoing() as out, write_session(self.factory) as session:
            row = order_repo.lock_order(session, order_id)
            if row is None or row["provider_id"] != provider_id:
                return None
            if target is FulfillmentState.CANCELLED:
                order_repo.lifecycle_of(row).cancel(by=Canceller.SELLER, path="state")
                order = self._cancel(
                    out, session, row, Canceller.SELLER, reason or "pole", Decimal(0)
                )
                self.notify(out, session, order, "on_status", {"order": current_document(order)})
                return order
            lifecycle = order_repo.lifecycle_of(row)
            events = lifecycle.advance(row["fulfillment_id"], target, path="state")
            if not events and (tracking_url is None or tracking_url == row["tracking_url"]):
                return row  # the same state again: nothing changes, nothing is sent
            now = utcnow()
            status = lifecycle.order_status.value if lifecycle.order_status else row["status"]
            document = current_document(row)
            document["status"] = status
            set_state(document, row["fulfillment_id"], target.value, now, self)
            order_repo.update_order(
                session,
                order_id,
                status=status,
                fulfillment_state=target.value,
                tracking_url=tracking_url or row["tracking_url"],
                document=document,
                updated_at=now,
            )
            detail: dict[str, Any] = {"from": row["fulfillment_state"], "to": target.value}
            if tracking_url:
                detail["tracking_url"] = tracking_url
            order_repo.add_event(session, order_id, "fulfillment", detail)
            if status != row["status"]:
                order_repo.add_event(session, order_id, "status", {"status": status})
            changed = order_repo.lock_order(session, order_id)
            assert changed is not None
            document = current_document(changed)
            message_id = self.notify(out, session, changed, "on_status", {"order": document})
            self.emit(
                out,
                session,
                changed,
                "fulfillment.changed",
                previous_state=row["fulfillment_state"],
                state=target.value,
                status=status,
                on_status_message_id=message_id,
                order=document,
            )
            return changed

    def seller_cancel(
        self, provider_id: str, order_id: str, reason: str, note: str = ""
    ) -> Row | None:
        """The pôle cancels (stock lost, truck broken down …): no fee, stock restored, an
        unsolicited on_status. ``None`` if the pôle has no such order."""
        with self.network.outgoing() as out, write_session(self.factory) as session:
            row = order_repo.lock_order(session, order_id)
            if row is None or row["provider_id"] != provider_id:
                return None
            order_repo.lifecycle_of(row).cancel(by=Canceller.SELLER, path="reason_code")
            order = self._cancel(out, session, row, Canceller.SELLER, reason, Decimal(0), note)
            self.notify(out, session, order, "on_status", {"order": current_document(order)})
            return order
