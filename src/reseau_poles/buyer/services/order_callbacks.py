"""Order callbacks (``on_select`` … ``on_support``): a verified callback of a known
transaction from the order's seller is stored (the callback, the order's new state, its lines
and events, the webhook events) in one transaction *before* the ACK.

The duplicate question: for the order callbacks the database is the replay guard (one row per
action, seller and message id, kept for good), so an exact copy of a stored callback is ACKed
again instead of refused: create_app passes ORDER_CALLBACKS as the network's
``replay_exempt_actions``.

Why: an ACK promises the callback is kept. A seller that resends after losing our ACK (its
outbox retrying, or any Beckn tool) must hear ACK again, or it never knows the callback
arrived; answering 401/20002 to a message we do hold is a false refusal. The copy changes
nothing (it is compared byte for byte with the stored one; a different body under the same
message id is refused, 20002), so an attacker replaying a captured callback inside its
signature window gains nothing either: no state moves twice. Every other action keeps the
in-memory/Redis window guard.

The seller is authoritative for the order's state: a callback the buyer's life cycle would not
have predicted (an ``on_status`` arriving after a newer one, a state skipped) is stored and
ACKed, and the order keeps its most advanced state; the event says it was ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.network import NodeNetwork
from reseau_poles.network.inbound import InboundMessage
from reseau_poles.network.outgoing import Outgoing
from reseau_poles.participant.webhooks import Webhooks
from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.lifecycle import Canceller, OrderLifecycle, Phase
from reseau_poles.protocol.profile import parse_payment_terms
from reseau_poles.storage import read_session, utcnow, write_session

from ..repositories import catalog
from ..repositories import orders as repo
from ..repositories import searches as core_repo
from ..settings import BuyerSettings
from .order_documents import decimal_of, get_path, order_summary, snapshot

ORDER_CALLBACKS = frozenset(
    f"on_{action}"
    for action in (
        *("select", "init", "confirm", "status", "track"),
        *("cancel", "update", "rating", "support"),
    )
)

# What the organisations' webhooks receive (reseau_poles.participant.webhooks).
EVENT_BY_CALLBACK = {
    "on_select": "order.quoted",
    "on_init": "order.initialized",
    "on_confirm": "order.confirmed",
    "on_status": "order.status",
    "on_track": "order.tracking",
    "on_cancel": "order.cancelled",
    "on_update": "order.updated",
    "on_rating": "order.rated",
    "on_support": "order.support",
}
BUYER_EVENTS = (
    *EVENT_BY_CALLBACK.values(),
    "order.state_changed",
    "order.fulfillment_changed",
    "order.error",
)


class OrderCallbacks:
    """Stores and applies the order callbacks (:meth:`receive`), and says when an order was
    begun (:meth:`began`); emits the organisations' webhook events."""

    def __init__(
        self,
        settings: BuyerSettings,
        factory: sessionmaker[Session],
        network: NodeNetwork,
        webhooks: Webhooks,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.network = network
        self.webhooks = webhooks

    def receive(self, message: InboundMessage) -> bool:
        """Store a verified order callback and apply it; ``False`` when it is an exact copy
        of one already stored (ACK again, nothing changes).

        Raises :class:`ProtocolError`: 20006 for a transaction this node never started (or
        another seller's), 20002 for a known message id with a different body."""
        transaction_id = message.transaction_id
        received_at = utcnow()
        bpp_id = message.signer.subscriber_id
        with self.network.outgoing() as out, write_session(self.factory) as session:
            order = (
                repo.get_order(session, transaction_id, for_update=True)
                if isinstance(transaction_id, str)
                else None
            )
            if order is None or message.bap_id != self.settings.subscriber_id:
                raise ProtocolError(
                    f"Transaction inconnue de ce nœud acheteur : « {str(transaction_id)[:64]} ».",
                    code=ErrorCode.BUYER_UNKNOWN_TRANSACTION,
                    path="context.transaction_id",
                )
            if bpp_id != order["bpp_id"]:
                raise ProtocolError(
                    f"Cette transaction n'a pas été ouverte avec « {bpp_id[:80]} ».",
                    code=ErrorCode.BUYER_UNKNOWN_TRANSACTION,
                    path="context.bpp_id",
                )
            callback_id = core_repo.insert_callback(
                session,
                action=message.action,
                transaction_id=order["id"],
                message_id=message.message_id,
                bpp_id=bpp_id,
                bpp_uri=message.bpp_uri,
                body=message.body,
                received_at=received_at,
            )
            if callback_id is None:
                stored = repo.stored_callback(session, message.action, bpp_id, message.message_id)
                if stored is not None and stored["body"] == message.body.decode("utf-8"):
                    return False
                raise ProtocolError(
                    "Identifiant de message déjà reçu avec un autre contenu.",
                    code=ErrorCode.BUYER_STALE_REQUEST,
                    path="context.message_id",
                )
            self._apply(out, session, order, message, callback_id, received_at)
        return True

    def began(self, message: InboundMessage) -> datetime | None:
        """When this node began the message's order with its sender (the seller): the
        order's creation, ``None`` for another's or an unknown one. A suspended seller's
        callbacks are taken for the orders begun before its suspension (``create_node_app``)."""
        transaction_id = message.transaction_id
        if not isinstance(transaction_id, str):
            return None
        with read_session(self.factory) as session:
            order = repo.get_order(session, transaction_id)
        if order is None or order["bpp_id"] != message.signer.subscriber_id:
            return None
        return order["created_at"]

    def _apply(
        self,
        out: Outgoing,
        session: Session,
        order: Mapping[str, Any],
        message: InboundMessage,
        callback_id: int,
        now: datetime,
    ) -> None:
        action = message.action
        request_action = action.removeprefix("on_")
        payload = message.payload
        body = payload.get("message") if isinstance(payload.get("message"), Mapping) else {}
        document = get_path(body, "order")
        lifecycle = OrderLifecycle.from_dict(order["lifecycle"])
        before = lifecycle.phase
        fulfillment_before = order["fulfillment_state"]
        solicited = order["pending_message_id"] == message.message_id
        values: dict[str, Any] = {}
        notes: list[dict[str, Any]] = []
        if solicited:
            values.update(
                pending_action=None, pending_message_id=None, pending_since=None, dispatch=None
            )
        error = payload.get("error")
        repo.add_event(
            session,
            order["id"],
            "callback_error" if error else "callback",
            action=action,
            message_id=message.message_id,
            callback_id=callback_id,
            detail={"solicited": solicited, **({"error": error} if error else {})},
            at=now,
        )
        if error:
            refusal = {
                "action": request_action,
                "code": str(error.get("code") or ""),
                "message": str(error.get("message") or ""),
                "path": error.get("paths"),
                "source": "callback",
            }
            values["last_error"] = refusal
            self.emit(out, session, order, "order.error", {"error": refusal})
        elif solicited:
            values["last_error"] = None

        if isinstance(document, Mapping) and not error:
            self._take_document(session, order, action, document, values, lifecycle, notes)
        if not error and action in ("on_select", "on_init", "on_confirm"):
            _lenient(notes, lifecycle.receive, request_action, path="context.action")
            if action == "on_confirm" and lifecycle.phase is Phase.CONFIRMED:
                values.setdefault("confirmed_at", now)
                values.setdefault("status", "ACTIVE")
                if isinstance(document, Mapping):
                    self._take_progress(document, values, lifecycle, notes)
        if action == "on_track" and not error:
            values["tracking"] = get_path(body, "tracking")
        if action == "on_support" and not error:
            values["support"] = get_path(body, "support")
        values["state"] = lifecycle.phase.value
        values["lifecycle"] = lifecycle.to_dict()
        if lifecycle.order_status is not None:
            values["status"] = lifecycle.order_status.value
        for note in notes:
            repo.add_event(
                session,
                order["id"],
                "state_ignored",
                action=action,
                message_id=message.message_id,
                callback_id=callback_id,
                detail=note,
                at=now,
            )
        if lifecycle.phase is not before:
            repo.add_event(
                session,
                order["id"],
                "state_changed",
                action=action,
                message_id=message.message_id,
                callback_id=callback_id,
                state_from=before.value,
                state_to=lifecycle.phase.value,
                at=now,
            )
        fulfillment_after = values.get("fulfillment_state", fulfillment_before)
        if fulfillment_after != fulfillment_before:
            repo.add_event(
                session,
                order["id"],
                "fulfillment_changed",
                action=action,
                message_id=message.message_id,
                callback_id=callback_id,
                state_from=fulfillment_before,
                state_to=fulfillment_after,
                at=now,
            )
        repo.update_order(session, order["id"], values)
        updated = {**order, **values}
        if not error:
            self.emit(out, session, updated, EVENT_BY_CALLBACK[action], {"solicited": solicited})
        if lifecycle.phase is not before:
            self.emit(
                out,
                session,
                updated,
                "order.state_changed",
                {"from": before.value, "to": lifecycle.phase.value},
            )
        if fulfillment_after != fulfillment_before:
            self.emit(
                out,
                session,
                updated,
                "order.fulfillment_changed",
                {"from": fulfillment_before, "to": fulfillment_after},
            )

    def _take_document(
        self,
        session: Session,
        order: Mapping[str, Any],
        action: str,
        document: Mapping[str, Any],
        values: dict[str, Any],
        lifecycle: OrderLifecycle,
        notes: list[dict[str, Any]],
    ) -> None:
        """What the seller's order document says: quote, lines, terms, ids, progress."""
        values["document"] = dict(document)
        name = get_path(document, "provider", "descriptor", "name")
        if isinstance(name, str) and name:
            values["provider_name"] = name[:255]
        if isinstance(document.get("id"), str) and document["id"]:
            values["seller_order_id"] = document["id"]
        quote = document.get("quote")
        if isinstance(quote, Mapping):
            values["quote"] = dict(quote)
            values["currency"] = get_path(quote, "price", "currency") or "CAD"
            values["total"] = decimal_of(get_path(quote, "price", "value"))
            self._quote_lines(session, order, document, quote)
        billing = document.get("billing")
        if isinstance(billing, Mapping):
            values["billing"] = dict(billing)
        paid = get_path(document, "payments", 0)
        if isinstance(paid, Mapping) and paid.get("type"):
            try:
                terms = parse_payment_terms(paid, path="message.order.payments[0]")
                values.update(payment_type=terms.type.value, payment_net_days=terms.net_days)
            except ProtocolError as exc:
                notes.append({"reason": exc.message, "path": exc.path})
        # Declare the fulfilments the seller chose (before confirm, the set follows its word).
        chosen = [f for f in document.get("fulfillments") or [] if isinstance(f, Mapping)]
        if action in ("on_select", "on_init", "on_confirm") and chosen:
            kept = {str(f.get("id")) for f in chosen if f.get("id")}
            if lifecycle.phase in (Phase.NEW, Phase.SEARCHING, Phase.SELECTED, Phase.INITIALIZED):
                for dropped in set(lifecycle.fulfillments) - kept:
                    _lenient(notes, lifecycle.remove_fulfillment, dropped)
        for fulfillment in chosen:
            fid, kind = fulfillment.get("id"), fulfillment.get("type")
            if isinstance(fid, str) and isinstance(kind, str):
                if fid not in lifecycle.fulfillments or action != "on_status":
                    _lenient(notes, lifecycle.set_fulfillment, fid, kind)
                values["fulfillment_id"], values["fulfillment_type"] = fid, kind
        if action not in ("on_select", "on_init", "on_confirm"):
            self._take_progress(document, values, lifecycle, notes)

    def _take_progress(
        self,
        document: Mapping[str, Any],
        values: dict[str, Any],
        lifecycle: OrderLifecycle,
        notes: list[dict[str, Any]],
    ) -> None:
        """Fulfilment states and the order's status after confirm (on_status, on_cancel …)."""
        for fulfillment in document.get("fulfillments") or []:
            fid = get_path(fulfillment, "id")
            code = get_path(fulfillment, "state", "descriptor", "code")
            if not isinstance(fid, str) or not isinstance(code, str):
                continue
            if fid not in lifecycle.fulfillments and isinstance(get_path(fulfillment, "type"), str):
                _lenient(notes, lifecycle.set_fulfillment, fid, fulfillment["type"])
            if fid in lifecycle.fulfillments:
                _lenient(notes, lifecycle.advance, fid, code)
        if document.get("status") == "CANCELLED" and lifecycle.phase is Phase.CONFIRMED:
            by = (
                Canceller.BUYER
                if get_path(document, "cancellation", "cancelled_by") == ("CONSUMER")
                else Canceller.SELLER
            )
            if not _lenient(notes, lifecycle.cancel, by=by) and by is Canceller.BUYER:
                _lenient(notes, lifecycle.cancel, by=Canceller.SELLER)
        progress = lifecycle.fulfillments
        fid = values.get("fulfillment_id")
        current = progress.get(fid) if fid else next(iter(progress.values()), None)
        if current is not None:
            values["fulfillment_state"] = current.state.value

    def _quote_lines(
        self,
        session: Session,
        order: Mapping[str, Any],
        document: Mapping[str, Any],
        quote: Mapping[str, Any],
    ) -> None:
        """The lines as quoted (price, taxes) with the catalog snapshot."""
        quoted: dict[str, dict[str, Any]] = {}
        for line in quote.get("breakup") or []:
            item = get_path(line, "item")
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
                continue
            entry: dict[str, Any] = {
                "quantity": get_path(item, "quantity", "selected", "count"),
                "unit_price": decimal_of(get_path(item, "price", "value")),
                "amount": decimal_of(get_path(line, "price", "value")),
            }
            for group in item.get("tags") or []:
                if get_path(group, "descriptor", "code") != "taxes_ligne":
                    continue
                for one in get_path(group, "list") or []:
                    code, value = get_path(one, "descriptor", "code"), get_path(one, "value")
                    if code == "taxable":
                        entry["taxable"] = value == "oui"
                    elif code in ("tps", "tvq"):
                        entry[code] = decimal_of(value)
            quoted[item["id"]] = entry
        items = [i for i in document.get("items") or [] if isinstance(get_path(i, "id"), str)]
        if not items:
            return
        known = catalog.catalog_items(
            session,
            order["organisation_id"],
            order["bpp_id"],
            order["provider_id"],
            [i["id"] for i in items],
        )
        lines = []
        for index, item in enumerate(items):
            entry = quoted.get(item["id"], {})
            count = get_path(item, "quantity", "selected", "count") or entry.get("quantity")
            lines.append(
                {
                    "position": index,
                    "item_id": item["id"],
                    "quantity": int(count) if isinstance(count, int) else 0,
                    "unit_price": entry.get("unit_price")
                    or decimal_of(get_path(item, "price", "value")),
                    "amount": entry.get("amount"),
                    "taxable": entry.get("taxable"),
                    "tps": entry.get("tps"),
                    "tvq": entry.get("tvq"),
                    **snapshot(known.get(item["id"]) or item),
                }
            )
        repo.replace_lines(session, order["id"], lines)

    def emit(
        self,
        out: Outgoing,
        session: Session,
        order: Mapping[str, Any],
        event: str,
        data: Mapping[str, Any],
    ) -> None:
        self.webhooks.emit(
            out,
            session,
            order["organisation_id"],
            event,
            {"order": order_summary(order), **data},
            transaction_id=order["id"],
        )


def _lenient(notes: list[dict[str, Any]], change: Any, *args: Any, **kwargs: Any) -> bool:
    """Apply a life-cycle change the seller reported; note a refusal instead of raising."""
    try:
        change(*args, **kwargs)
    except ProtocolError as exc:
        notes.append({"reason": exc.message, "code": exc.code.value, "path": exc.path})
        return False
    return True
