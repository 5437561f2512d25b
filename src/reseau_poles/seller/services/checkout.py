"""select, init, confirm and status: the transaction's steps in the life cycle's order
(:mod:`..repositories.transactions`), the order created and its stock taken in the confirm's one
transaction."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reseau_poles.protocol.errors import ErrorCode, LifecycleError
from reseau_poles.protocol.lifecycle import (
    Action,
    Phase,
    check_action,
)
from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.profile import (
    FulfillmentState,
)
from reseau_poles.storage import read_session, utcnow, write_session

from ..repositories import orders as order_repo
from ..repositories import stock as stock_repo
from ..repositories import transactions
from .callbacks import OutOfSequence, dig, refuse
from .order_view import current_document, order_columns
from .quotes import Line, Quoting, quantity_unavailable


class _OutOfStock(Exception):
    def __init__(self, line: Line) -> None:
        super().__init__(line.item["sku"])
        self.line = line


def new_order_id(now: datetime) -> str:
    """``CMD-20261126-3F9A1C07B2D4``: the day, then 48 random bits (unique by primary key)."""
    return f"CMD-{now:%Y%m%d}-{secrets.token_hex(6).upper()}"


class Checkout(Quoting):
    """select → on_select (a quote), init → on_init (the terms), confirm → on_confirm (the
    order, its stock taken), status → on_status."""

    def in_sequence(self, session: Session, payload: Mapping[str, Any], action: Action) -> Phase:
        """The phase ``action`` leads the transaction to, from the one select and init
        recorded (:mod:`..repositories.transactions`); :class:`OutOfSequence` (a NACK naming the missing
        step) when the life cycle does not allow it: init without a quote, confirm without
        terms. Checked once the request's content passed (its own refusals come first)."""
        context = payload["context"]
        bap_id, transaction_id = context.get("bap_id"), context.get("transaction_id")
        if not isinstance(transaction_id, str) or not transaction_id:
            raise refuse(
                "Indiquez la transaction (context.transaction_id) : un devis, ses conditions "
                "et la commande la partagent.",
                ErrorCode.INVALID_REQUEST,
                "context.transaction_id",
            )
        phase = transactions.phase_of(session, str(bap_id), transaction_id)
        try:
            return check_action(phase, action, path="context.action")
        except LifecycleError as exc:
            raise OutOfSequence(
                f"{exc.message.rstrip('.')} (transaction « {transaction_id[:64]} »).",
                code=exc.code,
                path="context.action",
            ) from None

    def _record(self, session: Session, payload: Mapping[str, Any], phase: Phase) -> None:
        context = payload["context"]
        transactions.record(session, context["bap_id"], context["transaction_id"], phase)

    def handle_select(self, payload: Mapping[str, Any]) -> None:
        with read_session(self.factory) as session:
            selection = self.read_order(session, payload)
            quote = self.quote(selection)
            order = self.order_document(selection, quote)
            phase = self.in_sequence(session, payload, Action.SELECT)
        with self.network.outgoing() as out, write_session(self.factory) as session:
            self._record(session, payload, phase)
            self.send(out, session, payload, "on_select", {"order": order})

    def handle_init(self, payload: Mapping[str, Any]) -> None:
        with read_session(self.factory) as session:
            _selection, _quote, order = self.initialized_order(session, payload)
            phase = self.in_sequence(session, payload, Action.INIT)
        with self.network.outgoing() as out, write_session(self.factory) as session:
            self._record(session, payload, phase)
            self.send(out, session, payload, "on_init", {"order": order})

    def handle_confirm(self, payload: Mapping[str, Any]) -> str:
        """Create the order, take its stock, send on_confirm: one transaction. Returns the
        order id; a second confirm of the same transaction gets the same order again."""
        try:
            return self._confirm(payload)
        except IntegrityError:
            # A concurrent confirm of the same transaction won the unique (bap_id,
            # transaction_id): ours rolled back, and now finds that order.
            return self._confirm(payload)

    def _confirm(self, payload: Mapping[str, Any]) -> str:
        context = payload["context"]
        try:
            with self.network.outgoing() as out, write_session(self.factory) as session:
                existing = order_repo.find_order_by_transaction(
                    session, context["bap_id"], context["transaction_id"]
                )
                if existing is not None:
                    self.send(out, session, payload, "on_confirm", {"order": existing["document"]})
                    return str(existing["id"])
                selection, quote, order = self.initialized_order(session, payload)
                self.in_sequence(session, payload, Action.CONFIRM)
                now = utcnow()
                order_id = new_order_id(now)
                for line in sorted(selection.lines, key=lambda line: line.item["id"]):
                    if not stock_repo.take_stock(
                        session, line.item["id"], line.count, reference=order_id
                    ):
                        raise _OutOfStock(line)
                assert selection.fulfillment is not None
                state = FulfillmentState.PENDING.value
                order = {"id": order_id, "status": "ACTIVE", **order}
                order["fulfillments"][0]["state"] = {
                    "descriptor": {"code": state},
                    "updated_at": format_datetime(now),
                    "updated_by": self.settings.subscriber_id,
                }
                order["created_at"] = order["updated_at"] = format_datetime(now)
                order_repo.insert_order(
                    session,
                    {
                        "id": order_id,
                        "provider_id": selection.provider["id"],
                        "bap_id": context["bap_id"],
                        "bap_uri": context["bap_uri"],
                        "transaction_id": context["transaction_id"],
                        "status": "ACTIVE",
                        "fulfillment_id": selection.fulfillment["id"],
                        "fulfillment_type": selection.fulfillment["type"],
                        "fulfillment_state": state,
                        "payment_type": order["payments"][0]["type"],
                        "total": quote.total,
                        "document": order,
                        **order_columns(order),
                        "context": {
                            key: context[key]
                            for key in ("domain", "location", "version", "ttl")
                            if key in context
                        },
                    },
                    quote.lines,
                    now,
                )
                order_repo.add_event(
                    session, order_id, "confirmed", {"message_id": context["message_id"]}
                )
                transactions.forget(session, context["bap_id"], context["transaction_id"])
                self.send(out, session, payload, "on_confirm", {"order": order})
                self.emit(
                    out,
                    session,
                    {"id": order_id, "provider_id": selection.provider["id"], **context},
                    "order.confirmed",
                    order=order,
                )
                return order_id
        except _OutOfStock as exc:
            # Rolled back: nothing was taken. Tell the buyer what is left now.
            with read_session(self.factory) as session:
                left = stock_repo.available(session, exc.line.item["id"])
            row = dict(exc.line.item, available=left)
            raise quantity_unavailable(row, exc.line.count, exc.line.index) from None

    def handle_status(self, payload: Mapping[str, Any]) -> None:
        order_id = dig(payload, "message", "order_id")
        with read_session(self.factory) as session:
            row = order_repo.find_order(session, order_id) if isinstance(order_id, str) else None
        if row is None or row["bap_id"] != payload["context"].get("bap_id"):
            raise refuse(
                f"Commande inconnue : « {str(order_id)[:40]} ».",
                ErrorCode.ORDER_NOT_FOUND,
                "message.order_id",
            )
        with self.network.outgoing() as out, write_session(self.factory) as session:
            self.send(out, session, payload, "on_status", {"order": current_document(row)})
