"""What every Beckn action of the seller node shares: the callback's context (same transaction
and message ids, the node's identity, a fresh timestamp), the outbox, the refusals that
become ``on_<action>`` with ``error`` after the ACK, and the pôle's webhook events."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from reseau_poles.network import InboundMessage, NodeNetwork
from reseau_poles.network.destinations import DestinationPolicy
from reseau_poles.network.outgoing import Outgoing
from reseau_poles.participant.webhooks import Webhooks
from reseau_poles.protocol.errors import ErrorCode, LifecycleError, ProtocolError
from reseau_poles.protocol.models import ACTION_MODELS, format_datetime
from reseau_poles.storage import make_session_factory, read_session, utcnow, write_session

from .. import tables
from ..repositories import orders as order_repo
from ..repositories.search import SearchBackend, make_search
from ..settings import SellerSettings
from .catalog import (
    CatalogDocuments,
)
from .order_view import order_view
from .webhooks import SELLER_EVENTS

Row = Mapping[str, Any]

# Refused by NACK: the request itself is at fault. Anything else: ACK, then on_<action> + error.
NACK_CODES: Final = frozenset(
    {ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_SIGNATURE, ErrorCode.STALE_REQUEST}
)


def dig(data: Any, *keys: str | int) -> Any:
    """``data[k1][k2]…`` or ``None`` as soon as a step is missing or of the wrong type."""
    for key in keys:
        if isinstance(key, int):
            if not isinstance(data, list) or len(data) <= key:
                return None
        elif not isinstance(data, dict):
            return None
        data = data[key] if isinstance(key, int) else data.get(key)
    return data


def refuse(message: str, code: ErrorCode, path: str) -> ProtocolError:
    return ProtocolError(message, code=code, path=path)


class OutOfSequence(LifecycleError):
    """A step of the transaction the life cycle does not allow yet (init without select,
    confirm without init): the request is at fault, a NACK whose message names the missing
    step."""


class ProtocolBase:
    """What every part of the protocol service shares: its settings, database and network,
    the callbacks it sends (:meth:`send`, :meth:`notify`), the refusals it answers
    (:meth:`answering`) and the webhook events it emits (:meth:`emit`)."""

    def __init__(
        self,
        settings: SellerSettings,
        engine: Engine,
        network: NodeNetwork,
        search: SearchBackend | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.factory = make_session_factory(engine)
        self.network = network
        self.search_backend = search or make_search(engine)
        self.documents = CatalogDocuments()
        self.webhooks = Webhooks(
            tables.webhooks,
            SELLER_EVENTS,
            DestinationPolicy.from_settings(settings),
            key_dir=settings.key_dir,
        )
        self.webhooks.install(network, engine)

    # --- shared -------------------------------------------------------------------------------

    def callback(
        self,
        request: Mapping[str, Any],
        action: str,
        message: Any,
        error: ProtocolError | None = None,
        *,
        check: bool = True,
    ) -> dict[str, Any]:
        """The callback body: the request's context (same transaction and message ids) with
        our identity, the callback's action and a fresh timestamp; checked by its model
        unless ``check`` is false."""
        context = dict(request["context"])
        context.update(
            action=action,
            bpp_id=self.settings.subscriber_id,
            bpp_uri=self.settings.public_url,
            timestamp=format_datetime(utcnow()),
        )
        body: dict[str, Any] = {"context": context}
        if message is not None:
            body["message"] = message
        if error is not None:
            body["error"] = error.to_error()
        if check:
            ACTION_MODELS[action].model_validate(body)  # our own mistakes must not leave
        return body

    def send(
        self,
        out: Outgoing,
        session: Session,
        request: Mapping[str, Any],
        action: str,
        message: Any,
        error: ProtocolError | None = None,
        *,
        check: bool = True,
    ) -> None:
        body = self.callback(request, action, message, error, check=check)
        out.send(session, request["context"]["bap_uri"], action, body)

    def answering(
        self, action: str, handler: Callable[[Mapping[str, Any]], Any]
    ) -> Callable[[Mapping[str, Any]], Any]:
        """``handler`` as the network calls it: a refusal of a well-formed request becomes
        ``on_<action>`` with ``error`` (after the ACK); a malformed one stays a NACK."""

        def answer(payload: Mapping[str, Any]) -> Any:
            try:
                return handler(payload)
            except ProtocolError as exc:
                if exc.code in NACK_CODES or isinstance(exc, OutOfSequence):
                    raise
                with self.network.outgoing() as out, write_session(self.factory) as session:
                    # on_rating must carry a message, even with an error (Beckn 1.1).
                    message: dict[str, Any] | None = {} if action == "rating" else None
                    self.send(out, session, payload, f"on_{action}", message, exc)
                return None

        return answer

    def notify(self, out: Outgoing, session: Session, order: Row, action: str, message: Any) -> str:
        """An unsolicited callback about ``order``: its transaction id, a new message id, the
        confirm's context otherwise. Returns the message id."""
        context = dict(order.get("context") or {})
        context.setdefault("domain", "PLA:ALIMENTS")
        context.setdefault("location", {"city": {"code": "*"}, "country": {"code": "CAN"}})
        context.setdefault("ttl", "PT30S")
        message_id = str(uuid.uuid4())
        context.update(
            version="1.1.0",
            bap_id=order["bap_id"],
            bap_uri=order["bap_uri"],
            transaction_id=order["transaction_id"],
            message_id=message_id,
        )
        self.send(out, session, {"context": context}, action, message)
        return message_id

    def emit(
        self, out: Outgoing, session: Session, about: Row, event_type: str, /, **data: Any
    ) -> None:
        """A webhook event about an order to its pôle's subscriptions, in this transaction:
        the order's id, its purchase-order number, buyer and delivery (``order_view``), and
        ``data``."""
        document = data.get("order") or about.get("document") or {}
        self.webhooks.emit(
            out,
            session,
            about["provider_id"],
            event_type,
            {"order_id": about["id"], **order_view(document), **data},
            transaction_id=about["transaction_id"],
        )

    def began(self, message: InboundMessage) -> datetime | None:
        """When the order of the message's transaction with its sender (the buyer) was
        created here, ``None`` before the confirm. A suspended buyer's requests are taken for
        the orders confirmed before its suspension (``create_node_app``): status, track,
        cancel, update, rating, support; nothing that opens a new one."""
        with read_session(self.factory) as session:
            order = self._transaction_order(session, message.payload)
        return order["created_at"] if order is not None else None

    def _transaction_order(self, session: Session, payload: Mapping[str, Any]) -> Row | None:
        context = payload["context"]
        return order_repo.find_order_by_transaction(
            session, context.get("bap_id", ""), context.get("transaction_id", "")
        )
