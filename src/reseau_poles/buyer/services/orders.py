"""Orders: select → init → confirm with one pôle, then status, track, cancel, update, rating
and support, each request answered by its callback from the seller node.

The pipeline of one request (ARCHITECTURE.md, "a request is a pipeline of named steps"):

1. :meth:`OrderService.create` / :meth:`OrderService.request` – the client's choice becomes a
   checked Beckn message; the life cycle (:class:`~reseau_poles.protocol.lifecycle.
   OrderLifecycle`) says whether the action may follow; the order records the request as
   *pending* (its message id) and an event; the client gets the order id at once (202);
2. :meth:`OrderService.dispatch` (in the background) – signed ``POST`` to the seller node; a
   NACK (40002 quantity unavailable, 30009 not serviceable …) is stored on the order with its
   code, message and path, and ends the wait;
3. :meth:`OrderService.receive` (:mod:`.order_callbacks`) – a verified callback
   (``on_select`` … ``on_support``) of a known transaction from the order's seller is stored (the callback, the order's new state,
   its lines and events, the webhook events) in one transaction *before* the ACK; an exact
   copy of a stored callback is ACKed again without effect (the network's replay window
   leaves these actions to the database: ``replay_exempt_actions``);
   an unsolicited ``on_status`` (new message id) updates the order the same way;
4. :meth:`OrderService.view` – the order with every state change and its time; with a wait,
   returns as soon as the pending request is answered.

The seller is authoritative for the order's state: a callback the buyer's life cycle would not
have predicted (an ``on_status`` arriving after a newer one, a state skipped) is stored and
ACKed, and the order keeps its most advanced state; the event says it was ignored.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from reseau_poles.network import CallResult, NodeNetwork, RegistryError
from reseau_poles.network.destinations import DestinationPolicy
from reseau_poles.network.inbound import InboundMessage
from reseau_poles.network.lookup import format_time
from reseau_poles.participant import ApiError
from reseau_poles.participant.webhooks import Webhooks
from reseau_poles.protocol.errors import LifecycleError
from reseau_poles.protocol.lifecycle import OrderLifecycle, Phase
from reseau_poles.protocol.profile import COUNTRY, WHOLE_PROVINCE
from reseau_poles.storage import make_session_factory, read_session, utcnow, write_session

from .. import tables
from ..repositories import catalog
from ..repositories import orders as repo
from ..requests import BODY_MODELS, InitIn, OrderIn, UpdateIn
from ..settings import BuyerSettings
from .order_callbacks import BUYER_EVENTS, OrderCallbacks
from .order_documents import order_document, order_summary, snapshot
from .order_messages import beckn_order, checked_body, order_context, order_message
from .waiters import Waiters

log = logging.getLogger("reseau_poles.buyer.orders")

# A request whose callback has not come after this long no longer blocks a new one.
PENDING_EXPIRY = timedelta(seconds=30)

COMMITMENTS = frozenset({"init", "confirm"})


class OrderNotFound(LookupError):
    """No such order for this organisation."""


# --- the service -------------------------------------------------------------------------------


class OrderService:
    def __init__(
        self,
        settings: BuyerSettings,
        engine: Engine,
        network: NodeNetwork,
        waiters: Waiters,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.network = network
        self.waiters = waiters
        self.factory = make_session_factory(engine)
        self.webhooks = Webhooks(
            tables.webhooks,
            BUYER_EVENTS,
            DestinationPolicy.from_settings(settings),
            key_dir=settings.key_dir,
        )
        self.webhooks.install(network, engine)
        self.callbacks = OrderCallbacks(settings, self.factory, network, self.webhooks)
        self._tasks: set[asyncio.Task[None]] = set()

    # --- 1. requests --------------------------------------------------------------------------

    async def create(self, organisation_id: str, order: OrderIn) -> dict[str, Any]:
        """Store the order and send ``select``; returns the order id at once."""
        bpp_uri = await self._seller_url(order.provider.bpp_id)
        request = order.model_dump(mode="json", exclude_none=True)
        order_id = str(uuid.uuid4())
        city = (order.fulfilment.region if order.fulfilment else None) or str(WHOLE_PROVINCE)
        context = order_context(
            self.settings, "select", order_id, order.provider.bpp_id, bpp_uri, city
        )
        body = checked_body("select", context, {"order": beckn_order(request, complete=False)})
        now = utcnow()
        window = order.delivery_window

        def insert() -> None:
            with write_session(self.factory) as session:
                repo.insert_order(
                    session,
                    {
                        "id": order_id,
                        "organisation_id": organisation_id,
                        "bpp_id": order.provider.bpp_id,
                        "bpp_uri": bpp_uri,
                        "provider_id": order.provider.id,
                        "domain": self.settings.domain,
                        "city_code": city,
                        "state": Phase.NEW.value,
                        "lifecycle": OrderLifecycle().to_dict(),
                        "pending_action": "select",
                        "pending_message_id": context.message_id,
                        "pending_since": now,
                        "dispatch": "envoi",
                        "request": request,
                        "billing": request.get("billing"),
                        "payment_type": order.payment.type if order.payment else None,
                        "payment_net_days": order.payment.net_days if order.payment else None,
                        "purchase_order_number": order.purchase_order_number,
                        "delivery_site_id": order.delivery_site_id,
                        "cart_id": order.cart_id,
                        "delivery_window_start": window.start if window else None,
                        "delivery_window_end": window.end if window else None,
                        "fulfillment_type": order.fulfilment.type if order.fulfilment else None,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
                self._request_lines(session, organisation_id, order_id, request)
                name = catalog.catalog_provider_name(
                    session, organisation_id, order.provider.bpp_id, order.provider.id
                )
                if name is not None:
                    repo.update_order(session, order_id, {"provider_name": name})
                repo.add_event(
                    session,
                    order_id,
                    "request_sent",
                    action="select",
                    message_id=context.message_id,
                    state_to=Phase.NEW.value,
                    at=now,
                )

        await asyncio.to_thread(insert)
        self._spawn(order_id, "select", context.message_id, bpp_uri, body)
        return {"id": order_id, "transaction_id": order_id, "message_id": context.message_id}

    async def with_site(self, organisation_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """A ``POST /api/orders`` body naming ``delivery_site_id``, with the site's delivery
        filled in (:func:`.sites.order_with_site`); 400 ``site_inconnu``."""
        from .sites import order_with_site

        def read() -> dict[str, Any]:
            with read_session(self.factory) as session:
                return order_with_site(session, organisation_id, data)

        return await asyncio.to_thread(read)

    async def check_window(self, organisation_id: str, order: OrderIn) -> None:
        """The order's delivery window against the pôle's declared rules (its catalogue as
        the organisation last saw it): 400 ``plage_livraison_invalide``."""
        from .cart_checks import check_order_window

        def check() -> None:
            with read_session(self.factory) as session:
                check_order_window(session, organisation_id, order)

        await asyncio.to_thread(check)

    async def request(
        self, organisation_id: str, order_id: str, action: str, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Send ``action`` (init … support) for an order; returns its message id at once.

        Raises :class:`OrderNotFound`, or :class:`ApiError` 409 when the life cycle refuses
        the action here or another request still waits for its callback."""
        model = BODY_MODELS[action]
        parsed = model.model_validate(data) if model is not None else None
        if action in COMMITMENTS:
            # A new commitment: not with a seller the operator suspended (409).
            await self._seller_url(
                await asyncio.to_thread(self._seller_of, organisation_id, order_id)
            )
        prepared = await asyncio.to_thread(self._prepare, organisation_id, order_id, action, parsed)
        message_id, bpp_uri, body = prepared
        self._spawn(order_id, action, message_id, bpp_uri, body)
        return {"id": order_id, "action": action, "message_id": message_id}

    def _seller_of(self, organisation_id: str, order_id: str) -> str:
        with read_session(self.factory) as session:
            order = repo.get_order(session, order_id)
        if order is None or order["organisation_id"] != organisation_id:
            raise OrderNotFound(order_id)
        return str(order["bpp_id"])

    async def reselect(self, organisation_id: str, order_id: str, order: OrderIn) -> str:
        """Send ``select`` again on the order's transaction with ``order``'s lines, delivery
        and terms (a cart changed since its preview, a pôle retried after a refusal): the
        same order, never a second one. Returns the message id."""
        prepared = await asyncio.to_thread(
            self._prepare, organisation_id, order_id, "select", order
        )
        message_id, bpp_uri, body = prepared
        self._spawn(order_id, "select", message_id, bpp_uri, body)
        return message_id

    def _prepare(
        self, organisation_id: str, order_id: str, action: str, parsed: BaseModel | None
    ) -> tuple[str, str, bytes]:
        now = utcnow()
        with write_session(self.factory) as session:
            order = repo.get_order(session, order_id, for_update=True)
            if order is None or order["organisation_id"] != organisation_id:
                raise OrderNotFound(order_id)
            self._check_free(order, now)
            lifecycle = OrderLifecycle.from_dict(order["lifecycle"])
            update_target = None
            if isinstance(parsed, UpdateIn):
                update_target = "order.items" if parsed.items is not None else "order.fulfillments"
            try:
                lifecycle.check(action, update_target=update_target, path="action")
            except LifecycleError as exc:
                raise ApiError(
                    409, "action_impossible", f"{exc.message} (code {exc.code.value})", "action"
                ) from None
            request = dict(order["request"])
            values: dict[str, Any] = {}
            if isinstance(parsed, OrderIn):
                if (
                    parsed.provider.bpp_id != order["bpp_id"]
                    or parsed.provider.id != (order["provider_id"])
                ):
                    raise ApiError(409, "etat_inattendu", "Un autre pôle que celui de la commande.")
                request = parsed.model_dump(mode="json", exclude_none=True)
                window = parsed.delivery_window
                values.update(
                    request=request,
                    billing=request.get("billing"),
                    purchase_order_number=parsed.purchase_order_number,
                    delivery_window_start=window.start if window else None,
                    delivery_window_end=window.end if window else None,
                    last_error=None,
                )
                self._request_lines(session, organisation_id, order_id, request)
            if isinstance(parsed, InitIn):
                changes = parsed.model_dump(mode="json", exclude_none=True)
                request.update(changes)
                if not request.get("billing"):
                    raise ApiError(
                        400,
                        "parametres_invalides",
                        "Indiquez à qui facturer (billing.name, adresse, courriel).",
                        "billing",
                    )
                if not request.get("fulfilment"):
                    raise ApiError(
                        400,
                        "parametres_invalides",
                        "Choisissez un mode d'exécution (livraison, cueillette ou point de "
                        "chute) avant l'initialisation.",
                        "fulfilment",
                    )
                values.update(
                    request=request,
                    billing=request.get("billing"),
                    purchase_order_number=request.get("purchase_order_number"),
                )
                if parsed.payment is not None:
                    values.update(
                        payment_type=parsed.payment.type, payment_net_days=parsed.payment.net_days
                    )
            message = order_message(order, action, request, parsed)
            context = order_context(
                self.settings,
                action,
                order_id,
                order["bpp_id"],
                order["bpp_uri"],
                order["city_code"],
            )
            body = checked_body(action, context, message)
            values.update(
                pending_action=action,
                pending_message_id=context.message_id,
                pending_since=now,
                dispatch="envoi",
            )
            repo.update_order(session, order_id, values)
            detail = parsed.model_dump(mode="json", exclude_none=True) if parsed else None
            repo.add_event(
                session,
                order_id,
                "request_sent",
                action=action,
                message_id=context.message_id,
                detail=detail or None,
                at=now,
            )
        return context.message_id, order["bpp_uri"], body

    def _check_free(self, order: Mapping[str, Any], now: datetime) -> None:
        """One request at a time per order (its callback decides what may follow)."""
        if order["pending_action"] is None or order["dispatch"] == "echec":
            return
        since = order["pending_since"]
        if since is not None and now - since > PENDING_EXPIRY:
            return
        raise ApiError(
            409,
            "demande_en_cours",
            f"Une demande « {order['pending_action']} » attend encore la réponse du vendeur ; "
            "réessayez après sa réponse.",
            "id",
        )

    async def _seller_url(self, bpp_id: str) -> str:
        """The seller node's URL, for a new order or a new commitment (init, confirm); a
        seller the operator suspended gets none (409), even in its grace period."""
        try:
            records = await self.network.lookup.subscriber(
                bpp_id, type="BPP", domain=self.settings.domain, country=str(COUNTRY)
            )
        except RegistryError as exc:
            raise ApiError(
                503,
                "registre_indisponible",
                f"Registre injoignable ; réessayez plus tard ({exc}).",
                "provider.bpp_id",
            ) from None
        for record in records:
            if record.subscribed and record.url:
                return record.url
        suspended = next((record for record in records if record.suspended), None)
        if suspended is not None:
            raise ApiError(
                409,
                "vendeur_suspendu",
                f"Le nœud vendeur « {bpp_id[:80]} » est suspendu par l'opérateur du réseau "
                f"depuis {format_time(suspended.suspended_at)} : aucune nouvelle commande ni "
                "confirmation. Les commandes déjà passées se poursuivent (statut, annulation, "
                f"suivi) jusqu'au {format_time(suspended.grace_until)}.",
                "provider.bpp_id",
            )
        raise ApiError(
            400,
            "vendeur_inconnu",
            f"Nœud vendeur « {bpp_id[:80]} » inconnu du registre (ou non actif) pour "
            f"{self.settings.domain}.",
            "provider.bpp_id",
        )

    def _request_lines(
        self, session: Session, organisation_id: str, order_id: str, request: Mapping[str, Any]
    ) -> None:
        ids = [line["id"] for line in request["items"]]
        known = catalog.catalog_items(
            session, organisation_id, request["provider"]["bpp_id"], request["provider"]["id"], ids
        )
        repo.replace_lines(
            session,
            order_id,
            [
                {
                    "position": index,
                    "item_id": line["id"],
                    "quantity": line["quantity"],
                    **snapshot(known.get(line["id"])),
                }
                for index, line in enumerate(request["items"])
            ],
        )

    # --- 2. sending ---------------------------------------------------------------------------

    def _spawn(self, order_id: str, action: str, message_id: str, url: str, body: bytes) -> None:
        task = asyncio.create_task(self.dispatch(order_id, action, message_id, url, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def dispatch(
        self, order_id: str, action: str, message_id: str, url: str, body: bytes
    ) -> None:
        """Send one request; record a refusal. Never raises."""
        try:
            result = await self.network.client.send(
                url, action, body, timeout=self.settings.send_timeout
            )
        except Exception as exc:  # a request must end in a recorded state
            log.exception("commande %s : %s impossible", order_id, action)
            result = CallResult(url, action, "ERROR", None, 0.0, {"message": repr(exc)})
        try:
            await asyncio.to_thread(self._sent, order_id, action, message_id, result)
        except Exception:
            log.exception("commande %s : résultat de %s non enregistré", order_id, action)
        self.waiters.notify(order_id)

    def _sent(self, order_id: str, action: str, message_id: str, result: CallResult) -> None:
        with self.network.outgoing() as out, write_session(self.factory) as session:
            order = repo.get_order(session, order_id, for_update=True)
            if order is None:
                return
            still_pending = order["pending_message_id"] == message_id
            if result.ok:
                if still_pending:
                    repo.update_order(session, order_id, {"dispatch": "envoyee"})
                return
            error = dict(result.error or {})
            refusal = {
                "action": action,
                "code": str(error.get("code") or ("reseau" if result.status == "ERROR" else "")),
                "message": str(error.get("message") or "refus du vendeur"),
                "path": error.get("paths") or error.get("path"),
                "source": "nack" if result.status == "NACK" else "reseau",
                "http_status": result.http_status,
            }
            repo.add_event(
                session,
                order_id,
                "request_refused" if result.status == "NACK" else "request_failed",
                action=action,
                message_id=message_id,
                detail=refusal,
            )
            if still_pending:
                repo.update_order(
                    session,
                    order_id,
                    {
                        "dispatch": "echec",
                        "pending_action": None,
                        "pending_message_id": None,
                        "pending_since": None,
                        "last_error": refusal,
                    },
                )
            self.callbacks.emit(out, session, order, "order.error", {"error": refusal})

    # --- 3. callbacks (the network's handlers, :mod:`.order_callbacks`) ---------------------

    def receive(self, message: InboundMessage) -> bool:
        """Store a verified order callback and apply it; ``False`` for an exact copy of one
        already stored (:meth:`OrderCallbacks.receive`)."""
        return self.callbacks.receive(message)

    def began(self, message: InboundMessage) -> datetime | None:
        """When this node began the message's order with its sender (:meth:`OrderCallbacks.began`)."""
        return self.callbacks.began(message)

    # --- 4. reading ---------------------------------------------------------------------------

    async def view(self, organisation_id: str, order_id: str, wait_ms: int = 0) -> dict[str, Any]:
        """The order with its history; with ``wait_ms``, once its pending request is answered
        (callback or refusal) or the wait is over."""
        return await self.waiters.wait_for(
            order_id,
            lambda: self._read(organisation_id, order_id),
            lambda document: document["pending"] is None,
            wait_ms,
        )

    def _read(self, organisation_id: str, order_id: str) -> dict[str, Any]:
        with read_session(self.factory) as session:
            order = repo.get_order(session, order_id)
            if order is None or order["organisation_id"] != organisation_id:
                raise OrderNotFound(order_id)
            lines = repo.lines_of(session, order_id)
            events = repo.events_of(session, order_id)
        return order_document(order, lines, events)

    def list(
        self,
        organisation_id: str,
        *,
        state: str | None,
        provider: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        offset: int,
        purchase_order_number: str | None = None,
    ) -> dict[str, Any]:
        with read_session(self.factory) as session:
            rows, total = repo.list_orders(
                session,
                organisation_id,
                state=state,
                provider=provider,
                since=since,
                until=until,
                purchase_order_number=purchase_order_number,
                limit=limit,
                offset=offset,
            )
        next_offset = offset + len(rows) if offset + len(rows) < total else None
        return {
            "total": total,
            "limit": limit,
            "offset": offset,
            "next_offset": next_offset,
            "orders": [order_summary(row) for row in rows],
        }

    def providers(self, organisation_id: str) -> builtins.list[dict[str, Any]]:
        """The pôles the organisation ordered from: ``bpp_id``, ``provider_id``, ``name``."""
        with read_session(self.factory) as session:
            return [dict(row) for row in repo.providers_of(session, organisation_id)]

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
