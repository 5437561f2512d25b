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
3. :meth:`OrderService.receive` – a verified callback (``on_select`` … ``on_support``) of a
   known transaction from the order's seller is stored (the callback, the order's new state,
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
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine

from reseau_poles.network import CallResult, NodeNetwork, RegistryError
from reseau_poles.network.destinations import DestinationPolicy
from reseau_poles.network.inbound import InboundMessage
from reseau_poles.network.lookup import format_time
from reseau_poles.node import ApiError
from reseau_poles.node.webhooks import Webhooks
from reseau_poles.protocol.errors import ErrorCode, LifecycleError, ProtocolError
from reseau_poles.protocol.lifecycle import Canceller, OrderLifecycle, Phase
from reseau_poles.protocol.models import ACTION_MODELS, Context, format_datetime, to_bytes
from reseau_poles.protocol.profile import (
    COUNTRY,
    WHOLE_PROVINCE,
    parse_item_tags,
    parse_payment_terms,
    payment,
    purchase_order_group,
)
from reseau_poles.storage import make_session_factory, read_session, utcnow, write_session

from . import order_repository as repo
from . import repository as core_repo
from . import tables
from .requests import (
    BODY_MODELS,
    CancelIn,
    InitIn,
    OrderIn,
    PaymentIn,
    RatingIn,
    SupportIn,
    UpdateIn,
)
from .service import Waiters
from .settings import BuyerSettings

log = logging.getLogger("reseau_poles.buyer.orders")

ORDER_CALLBACKS = frozenset(
    f"on_{action}"
    for action in (
        *("select", "init", "confirm", "status", "track"),
        *("cancel", "update", "rating", "support"),
    )
)

# A request whose callback has not come after this long no longer blocks a new one.
PENDING_EXPIRY = timedelta(seconds=30)

# What the organisations' webhooks receive (reseau_poles.node.webhooks).
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


class OrderNotFound(LookupError):
    """No such order for this organisation."""


# --- Beckn messages ----------------------------------------------------------------------------


def _fulfillment(request: Mapping[str, Any]) -> dict[str, Any] | None:
    chosen = request.get("fulfilment")
    if not chosen:
        return None
    document: dict[str, Any] = {"type": chosen["type"]}
    if chosen.get("id"):
        document["id"] = chosen["id"]
    location: dict[str, Any] = {}
    if chosen.get("site_name"):
        location["descriptor"] = {"name": chosen["site_name"]}
    if chosen.get("address"):
        location["address"] = chosen["address"]
    if chosen.get("gps"):
        location["gps"] = chosen["gps"].replace(" ", "")
    if location or chosen.get("region"):
        if chosen.get("region"):
            location["city"] = {"code": chosen["region"]}
        location["country"] = {"code": str(COUNTRY)}
    stop: dict[str, Any] = {"type": "end"}
    if location:
        stop["location"] = location
    window = request.get("delivery_window")
    if window:
        stop["time"] = {"range": {"start": window["start"], "end": window["end"]}}
    contact = chosen.get("contact") or {}
    if contact.get("phone") or contact.get("email"):
        stop["contact"] = {k: contact[k] for k in ("phone", "email") if contact.get(k)}
    if contact.get("name"):
        stop["person"] = {"name": contact["name"]}
    if chosen.get("instructions"):
        stop["instructions"] = {"short_desc": chosen["instructions"]}
    if len(stop) > 1:
        document["stops"] = [stop]
    return document


def beckn_order(request: Mapping[str, Any], *, complete: bool) -> dict[str, Any]:
    """The ``message.order`` of select (``complete=False``), init and confirm."""
    order: dict[str, Any] = {
        "provider": {"id": request["provider"]["id"]},
        "items": [
            {"id": line["id"], "quantity": {"selected": {"count": line["quantity"]}}}
            for line in request["items"]
        ],
    }
    fulfillment = _fulfillment(request)
    if fulfillment is not None:
        order["fulfillments"] = [fulfillment]
    if complete:
        if request.get("billing"):
            order["billing"] = dict(request["billing"])
        if request.get("payment"):
            terms = PaymentIn.model_validate(request["payment"]).terms()
            order["payments"] = [payment(terms)]
    if request.get("purchase_order_number"):
        order["tags"] = [purchase_order_group(request["purchase_order_number"])]
    return order


def _get(data: Any, *keys: str | int) -> Any:
    for key in keys:
        if isinstance(key, int):
            if not isinstance(data, list) or len(data) <= key:
                return None
            data = data[key]
        else:
            if not isinstance(data, Mapping):
                return None
            data = data.get(key)
    return data


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except (InvalidOperation, ValueError):
        return None


# Requests that commit the buyer to a seller: refused with a suspended one (grace or not).
COMMITMENTS = frozenset({"init", "confirm"})


# --- the duplicate question --------------------------------------------------------------------
#
# For the order callbacks the database is the replay guard (one row per action, seller and
# message id, kept for good), so an exact copy of a stored callback is ACKed again instead of
# refused: create_app passes ORDER_CALLBACKS as the network's ``replay_exempt_actions``.
#
# Why: an ACK promises the callback is kept. A seller that resends after losing our ACK (its
# outbox retrying, or any Beckn tool) must hear ACK again, or it never knows the callback
# arrived; answering 401/20002 to a message we do hold is a false refusal. The copy changes
# nothing (it is compared byte for byte with the stored one; a different body under the same
# message id is refused, 20002), so an attacker replaying a captured callback inside its
# signature window gains nothing either: no state moves twice. Every other action keeps the
# in-memory/Redis window guard.


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
        self._tasks: set[asyncio.Task[None]] = set()

    # --- 1. requests --------------------------------------------------------------------------

    async def create(self, organisation_id: str, order: OrderIn) -> dict[str, Any]:
        """Store the order and send ``select``; returns the order id at once."""
        bpp_uri = await self._seller_url(order.provider.bpp_id)
        request = order.model_dump(mode="json", exclude_none=True)
        order_id = str(uuid.uuid4())
        city = (order.fulfilment.region if order.fulfilment else None) or str(WHOLE_PROVINCE)
        context = self._context("select", order_id, order.provider.bpp_id, bpp_uri, city)
        body = self._body("select", context, {"order": beckn_order(request, complete=False)})
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
                name = repo.catalog_provider_name(
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
            message = self._message(order, action, request, parsed)
            context = self._context(
                action, order_id, order["bpp_id"], order["bpp_uri"], order["city_code"]
            )
            body = self._body(action, context, message)
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

    def _message(
        self,
        order: Mapping[str, Any],
        action: str,
        request: Mapping[str, Any],
        parsed: BaseModel | None,
    ) -> dict[str, Any]:
        seller_order_id = order["seller_order_id"] or ""
        if action == "select":
            return {"order": beckn_order(request, complete=False)}
        if action in ("init", "confirm"):
            return {"order": beckn_order(request, complete=True)}
        if action in ("status", "track"):
            return {"order_id": seller_order_id}
        if isinstance(parsed, CancelIn):
            message: dict[str, Any] = {
                "order_id": seller_order_id,
                "cancellation_reason_id": parsed.reason_code,
            }
            if parsed.description:
                message["descriptor"] = {"short_desc": parsed.description}
            return message
        if isinstance(parsed, UpdateIn):
            changed = dict(request)
            changed.pop("delivery_window", None) if parsed.fulfilment else None
            if parsed.items is not None:
                changed["items"] = [line.model_dump() for line in parsed.items]
                target = "order.items"
            else:
                assert parsed.fulfilment is not None
                changed["fulfilment"] = parsed.fulfilment.model_dump(exclude_none=True)
                target = "order.fulfillments"
            order_part = beckn_order(changed, complete=False)
            order_part["id"] = seller_order_id
            if target == "order.items":
                order_part.pop("fulfillments", None)
            else:
                order_part.pop("items", None)
            order_part.pop("tags", None)
            return {"update_target": target, "order": order_part}
        if isinstance(parsed, RatingIn):
            return {
                "ratings": [
                    {
                        "rating_category": parsed.category,
                        "id": parsed.id or seller_order_id,
                        "value": str(parsed.value),
                    }
                ]
            }
        if isinstance(parsed, SupportIn):
            support: dict[str, Any] = {"ref_id": seller_order_id or order["id"]}
            if parsed.phone:
                support["callback_phone"] = parsed.phone
            if parsed.email:
                support["email"] = parsed.email
            return {"support": support}
        raise AssertionError(action)  # pragma: no cover

    def _context(self, action: str, order_id: str, bpp_id: str, bpp_uri: str, city: str) -> Context:
        return Context.new(
            action,  # type: ignore[arg-type]
            domain=self.settings.domain,
            bap_id=self.settings.subscriber_id,
            bap_uri=self.settings.public_url,
            bpp_id=bpp_id,
            bpp_uri=bpp_uri,
            city_code=city,
            country_code=str(COUNTRY),
            transaction_id=order_id,
        )

    def _body(self, action: str, context: Context, message: Mapping[str, Any]) -> bytes:
        """The request, checked by its Beckn model before anything is signed; what the model
        refuses is the client's to fix (400 with the Beckn path)."""
        try:
            model = ACTION_MODELS[action].model_validate(
                {
                    "context": context.model_dump(mode="json", by_alias=True, exclude_unset=True),
                    "message": message,
                }
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            path = ".".join(str(part) for part in first.get("loc", ())) or "message"
            raise ApiError(
                400,
                "parametres_invalides",
                f"Message Beckn refusé : {first.get('msg', 'valeur invalide')}",
                path,
            ) from None
        return to_bytes(model)

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
        self, session: Any, organisation_id: str, order_id: str, request: Mapping[str, Any]
    ) -> None:
        ids = [line["id"] for line in request["items"]]
        known = repo.catalog_items(
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
                    **_snapshot(known.get(line["id"])),
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
            log.exception("order %s: %s impossible", order_id, action)
            result = CallResult(url, action, "ERROR", None, 0.0, {"message": repr(exc)})
        try:
            await asyncio.to_thread(self._sent, order_id, action, message_id, result)
        except Exception:
            log.exception("order %s: résultat de %s non enregistré", order_id, action)
        self.waiters.notify(order_id)
        self.network.wake()  # an order.error webhook may be waiting

    def _sent(self, order_id: str, action: str, message_id: str, result: CallResult) -> None:
        with write_session(self.factory) as session:
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
            self._emit(session, order, "order.error", {"error": refusal})

    # --- 3. callbacks -------------------------------------------------------------------------

    def receive(self, message: InboundMessage) -> bool:
        """Store a verified order callback and apply it; ``False`` when it is an exact copy
        of one already stored (ACK again, nothing changes).

        Raises :class:`ProtocolError`: 20006 for a transaction this node never started (or
        another seller's), 20002 for a known message id with a different body."""
        transaction_id = message.transaction_id
        received_at = utcnow()
        bpp_id = message.signer.subscriber_id
        with write_session(self.factory) as session:
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
            self._apply(session, order, message, callback_id, received_at)
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
        return order["created_at"]  # type: ignore[no-any-return]

    def _apply(
        self,
        session: Any,
        order: Mapping[str, Any],
        message: InboundMessage,
        callback_id: int,
        now: datetime,
    ) -> None:
        action = message.action
        request_action = action.removeprefix("on_")
        payload = message.payload
        body = payload.get("message") if isinstance(payload.get("message"), Mapping) else {}
        document = _get(body, "order")
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
            self._emit(session, order, "order.error", {"error": refusal})
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
            values["tracking"] = _get(body, "tracking")
        if action == "on_support" and not error:
            values["support"] = _get(body, "support")
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
            self._emit(session, updated, EVENT_BY_CALLBACK[action], {"solicited": solicited})
        if lifecycle.phase is not before:
            self._emit(
                session,
                updated,
                "order.state_changed",
                {"from": before.value, "to": lifecycle.phase.value},
            )
        if fulfillment_after != fulfillment_before:
            self._emit(
                session,
                updated,
                "order.fulfillment_changed",
                {"from": fulfillment_before, "to": fulfillment_after},
            )

    def _take_document(
        self,
        session: Any,
        order: Mapping[str, Any],
        action: str,
        document: Mapping[str, Any],
        values: dict[str, Any],
        lifecycle: OrderLifecycle,
        notes: list[dict[str, Any]],
    ) -> None:
        """What the seller's order document says: quote, lines, terms, ids, progress."""
        values["document"] = dict(document)
        name = _get(document, "provider", "descriptor", "name")
        if isinstance(name, str) and name:
            values["provider_name"] = name[:255]
        if isinstance(document.get("id"), str) and document["id"]:
            values["seller_order_id"] = document["id"]
        quote = document.get("quote")
        if isinstance(quote, Mapping):
            values["quote"] = dict(quote)
            values["currency"] = _get(quote, "price", "currency") or "CAD"
            values["total"] = _decimal(_get(quote, "price", "value"))
            self._quote_lines(session, order, document, quote)
        billing = document.get("billing")
        if isinstance(billing, Mapping):
            values["billing"] = dict(billing)
        paid = _get(document, "payments", 0)
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
                for fid in set(lifecycle.fulfillments) - kept:
                    _lenient(notes, lifecycle.remove_fulfillment, fid)
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
            fid = _get(fulfillment, "id")
            code = _get(fulfillment, "state", "descriptor", "code")
            if not isinstance(fid, str) or not isinstance(code, str):
                continue
            if fid not in lifecycle.fulfillments and isinstance(_get(fulfillment, "type"), str):
                _lenient(notes, lifecycle.set_fulfillment, fid, fulfillment["type"])
            if fid in lifecycle.fulfillments:
                _lenient(notes, lifecycle.advance, fid, code)
        if document.get("status") == "CANCELLED" and lifecycle.phase is Phase.CONFIRMED:
            by = (
                Canceller.BUYER
                if _get(document, "cancellation", "cancelled_by") == ("CONSUMER")
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
        session: Any,
        order: Mapping[str, Any],
        document: Mapping[str, Any],
        quote: Mapping[str, Any],
    ) -> None:
        """The lines as quoted (price, taxes) with the catalog snapshot."""
        quoted: dict[str, dict[str, Any]] = {}
        for line in quote.get("breakup") or []:
            item = _get(line, "item")
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
                continue
            entry: dict[str, Any] = {
                "quantity": _get(item, "quantity", "selected", "count"),
                "unit_price": _decimal(_get(item, "price", "value")),
                "amount": _decimal(_get(line, "price", "value")),
            }
            for group in item.get("tags") or []:
                if _get(group, "descriptor", "code") != "taxes_ligne":
                    continue
                for one in _get(group, "list") or []:
                    code, value = _get(one, "descriptor", "code"), _get(one, "value")
                    if code == "taxable":
                        entry["taxable"] = value == "oui"
                    elif code in ("tps", "tvq"):
                        entry[code] = _decimal(value)
            quoted[item["id"]] = entry
        items = [i for i in document.get("items") or [] if isinstance(_get(i, "id"), str)]
        if not items:
            return
        known = repo.catalog_items(
            session,
            order["organisation_id"],
            order["bpp_id"],
            order["provider_id"],
            [i["id"] for i in items],
        )
        lines = []
        for index, item in enumerate(items):
            entry = quoted.get(item["id"], {})
            count = _get(item, "quantity", "selected", "count") or entry.get("quantity")
            lines.append(
                {
                    "position": index,
                    "item_id": item["id"],
                    "quantity": int(count) if isinstance(count, int) else 0,
                    "unit_price": entry.get("unit_price") or _decimal(_get(item, "price", "value")),
                    "amount": entry.get("amount"),
                    "taxable": entry.get("taxable"),
                    "tps": entry.get("tps"),
                    "tvq": entry.get("tvq"),
                    **_snapshot(known.get(item["id"]) or item),
                }
            )
        repo.replace_lines(session, order["id"], lines)

    def _emit(
        self, session: Any, order: Mapping[str, Any], event: str, data: Mapping[str, Any]
    ) -> None:
        self.webhooks.emit(
            session,
            self.network,
            order["organisation_id"],
            event,
            {"order": order_summary(order), **data},
            transaction_id=order["id"],
        )

    def after_ack(self) -> None:
        """Deliver the webhook events just committed (from the event loop)."""
        self.network.wake()

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

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _lenient(notes: list[dict[str, Any]], change: Any, *args: Any, **kwargs: Any) -> bool:
    """Apply a life-cycle change the seller reported; note a refusal instead of raising."""
    try:
        change(*args, **kwargs)
    except ProtocolError as exc:
        notes.append({"reason": exc.message, "code": exc.code.value, "path": exc.path})
        return False
    return True


def _snapshot(item: Mapping[str, Any] | None) -> dict[str, Any]:
    """Name, unit, certifications, origin and conservation of a catalog item, as it was."""
    if not item:
        return {}
    snapshot: dict[str, Any] = {"name": _get(item, "descriptor", "name")}
    unit = _get(item, "quantity", "unitized", "measure", "unit")
    if isinstance(unit, str):
        snapshot["unit"] = unit[:16]
    try:
        tags = parse_item_tags(item.get("tags") or [], path="item.tags")
    except (ProtocolError, ValueError, TypeError):
        return snapshot
    snapshot["certifications"] = sorted(c.value for c in tags.certifications)
    if tags.conservation is not None:
        snapshot["conservation"] = tags.conservation.value
    if tags.origin is not None:
        if tags.origin.region is not None:
            snapshot["origin_region"] = str(tags.origin.region)
        if tags.origin.producer:
            snapshot["producer"] = tags.origin.producer[:255]
    return snapshot


def _time(value: datetime | None) -> str | None:
    return format_datetime(value) if value is not None else None


def _money(value: Decimal | None) -> str | None:
    return f"{Decimal(value):.2f}" if value is not None else None


def order_summary(order: Mapping[str, Any]) -> dict[str, Any]:
    """An order in lists and webhook events."""
    phase = Phase(order["state"])
    pending = None
    if order["pending_action"] is not None:
        pending = {
            "action": order["pending_action"],
            "message_id": order["pending_message_id"],
            "since": _time(order["pending_since"]),
            "dispatch": order["dispatch"],
        }
    return {
        "id": order["id"],
        "transaction_id": order["id"],
        "provider": {
            "bpp_id": order["bpp_id"],
            "bpp_uri": order["bpp_uri"],
            "id": order["provider_id"],
            "name": order.get("provider_name"),
        },
        "state": phase.value,
        "state_label": phase.label,
        "status": order["status"],
        "seller_order_id": order["seller_order_id"],
        "fulfillment": {
            "id": order["fulfillment_id"],
            "type": order["fulfillment_type"],
            "state": order["fulfillment_state"],
        },
        "pending": pending,
        "error": order["last_error"],
        "total": (
            {"currency": order["currency"] or "CAD", "value": _money(order["total"])}
            if order["total"] is not None
            else None
        ),
        "purchase_order_number": order["purchase_order_number"],
        "delivery_site_id": order["delivery_site_id"],
        "cart_id": order["cart_id"],
        "created_at": _time(order["created_at"]),
        "updated_at": _time(order["updated_at"]),
        "confirmed_at": _time(order["confirmed_at"]),
    }


def order_document(
    order: Mapping[str, Any], lines: list[Mapping[str, Any]], events: list[Mapping[str, Any]]
) -> dict[str, Any]:
    """What ``GET /api/orders/{id}`` returns."""
    lifecycle = OrderLifecycle.from_dict(order["lifecycle"])
    document = order_summary(order)
    document.update(
        {
            "allowed_actions": sorted(a.value for a in lifecycle.allowed_actions()),
            "quote": order["quote"],
            "billing": order["billing"],
            "payment": (
                {"type": order["payment_type"], "net_days": order["payment_net_days"]}
                if order["payment_type"]
                else None
            ),
            "delivery_window": (
                {
                    "start": _time(order["delivery_window_start"]),
                    "end": _time(order["delivery_window_end"]),
                }
                if order["delivery_window_start"]
                else None
            ),
            "lines": [
                {
                    "item_id": line["item_id"],
                    "name": line["name"],
                    "quantity": line["quantity"],
                    "unit": line["unit"],
                    "unit_price": _money(line["unit_price"]),
                    "amount": _money(line["amount"]),
                    "taxable": line["taxable"],
                    "tps": _money(line["tps"]),
                    "tvq": _money(line["tvq"]),
                    "certifications": line["certifications"],
                    "origin_region": line["origin_region"],
                    "producer": line["producer"],
                    "conservation": line["conservation"],
                }
                for line in lines
            ],
            "tracking": order["tracking"],
            "support": order["support"],
            "request": order["request"],
            "seller_document": order["document"],
            "events": [
                {
                    "kind": event["kind"],
                    "action": event["action"],
                    "message_id": event["message_id"],
                    "from": event["state_from"],
                    "to": event["state_to"],
                    "detail": event["detail"],
                    "at": _time(event["occurred_at"]),
                }
                for event in events
            ],
        }
    )
    return document


__all__ = [
    "BUYER_EVENTS",
    "ORDER_CALLBACKS",
    "OrderIn",
    "OrderNotFound",
    "OrderService",
]
