"""The pôle's side of its orders and webhooks, under ``/api/providers/{provider_id}``.

GET    /orders                          the pôle's orders, newest first (``status``,
                                        ``fulfillment_state``, ``purchase_order_number``,
                                        ``delivery_date``, ``limit``, ``offset``)
GET    /orders/{order_id}               one order with its lines, events and their times

Every order shows its purchase-order number, buyer organisation and delivery (site, address,
window, contact) as fields (:mod:`.order_view`), beside the Beckn document.
POST   /orders/{order_id}/fulfillment   ``{"state": "Packed", "tracking_url": …}``: the next
                                        fulfilment state (protocol core's rules; 409 if
                                        illegal), an unsolicited on_status to the buyer
POST   /orders/{order_id}/cancel        ``{"reason_code": …, "message": …}``: the pôle cancels,
                                        stock restored, on_status to the buyer
POST   /webhooks                        subscribe a URL to events (the secret is shown once)
GET    /webhooks                        the pôle's subscriptions
DELETE /webhooks/{webhook_id}           unsubscribe (pending deliveries stop)
GET    /webhooks/{webhook_id}/deliveries the newest deliveries: status, attempts, last answer

Every route needs one of the pôle's API keys (``seller.auth``). Refusals are
``{"error": {"code", "message", "path"}}``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from reseau_poles.network.destinations import MAX_URL_LENGTH, DestinationRefused
from reseau_poles.network.query import reads_query
from reseau_poles.node import ApiError, read_json_object, validated
from reseau_poles.node.answers import WebhookCreated, WebhookDeliveries, WebhookList, answers
from reseau_poles.node.api import body_doc
from reseau_poles.node.webhooks import ALL_EVENTS
from reseau_poles.protocol.errors import LifecycleError, ProtocolError
from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.profile import FulfillmentState, format_amount
from reseau_poles.storage import read_session, write_session

from . import answers as out
from . import orders as order_repo
from .auth import OwnProvider
from .order_view import day_bounds, order_view
from .service import SELLER_EVENTS, SellerService, current_document

router = APIRouter(prefix="/api/providers/{provider_id}", tags=["commandes"])

STATES = [state.value for state in FulfillmentState]


class FulfillmentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: str = Field(min_length=1, max_length=32)
    tracking_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://[^\s]+$")
    reason_code: str | None = Field(default=None, min_length=1, max_length=64)


class SellerCancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason_code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    message: str | None = Field(default=None, max_length=1000)


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Checked by the node's destination policy (network.destinations): https, public address.
    url: str = Field(max_length=MAX_URL_LENGTH)
    event_types: list[str] = Field(
        default_factory=lambda: [ALL_EVENTS], min_length=1, max_length=len(SELLER_EVENTS) + 1
    )
    description: str | None = Field(default=None, max_length=255)

    @field_validator("event_types")
    @classmethod
    def _known(cls, values: list[str]) -> list[str]:
        for value in values:
            if value != ALL_EVENTS and value not in SELLER_EVENTS:
                known = ", ".join(SELLER_EVENTS)
                raise ValueError(f"type d'événement inconnu « {value[:40]} » (connus : {known}, *)")
        return values


class OrderFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["ACTIVE", "COMPLETE", "CANCELLED"] | None = None
    fulfillment_state: str | None = None
    purchase_order_number: str | None = Field(default=None, min_length=1, max_length=64)
    # A delivery day in Québec time: orders whose delivery window starts that day.
    delivery_date: date | None = None
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0)

    @field_validator("fulfillment_state")
    @classmethod
    def _state(cls, value: str | None) -> str | None:
        if value is not None and value not in STATES:
            raise ValueError(f"état inconnu (connus : {', '.join(STATES)})")
        return value


def _service(request: Request) -> SellerService:
    return request.app.state.service  # type: ignore[no-any-return]


async def _body(request: Request, model: type[BaseModel]) -> Any:
    return validated(model, await read_json_object(request, allow_empty=False))


def _not_found(order_id: str) -> ApiError:
    return ApiError(
        404, "commande_inconnue", f"Commande inconnue : « {order_id[:64]} ».", "order_id"
    )


def _refusal(exc: ProtocolError) -> ApiError:
    """A life-cycle refusal: 409 with the protocol core's reason (and its Beckn code)."""
    code = "transition_interdite" if isinstance(exc, LifecycleError) else "parametres_invalides"
    status = 409 if isinstance(exc, LifecycleError) else 400
    return ApiError(status, code, f"{exc.message} (code {exc.code.value})", exc.path)


def _time(value: Any) -> str | None:
    return format_datetime(value) if value is not None else None


def summary(row: Mapping[str, Any]) -> dict[str, Any]:
    view = order_view(row["document"])
    return {
        "id": row["id"],
        "purchase_order_number": row["purchase_order_number"] or view["purchase_order_number"],
        "status": row["status"],
        "fulfillment": {
            "id": row["fulfillment_id"],
            "type": row["fulfillment_type"],
            "state": row["fulfillment_state"],
            "tracking_url": row["tracking_url"],
        },
        "total": {"currency": "CAD", "value": format_amount(Decimal(row["total"]))},
        "payment_type": row["payment_type"],
        "buyer": {
            **view["buyer"],
            "bap_id": row["bap_id"],
            "transaction_id": row["transaction_id"],
        },
        "delivery": view["delivery"],
        "cancellation": (
            {
                "by": row["cancelled_by"],
                "reason_code": row["cancellation_reason"],
                "fee": format_amount(Decimal(row["cancellation_fee"] or 0)),
            }
            if row["cancelled_by"]
            else None
        ),
        "created_at": _time(row["created_at"]),
        "updated_at": _time(row["updated_at"]),
    }


def detail(session: Any, row: Mapping[str, Any]) -> dict[str, Any]:
    lines = [
        {
            "line_no": line["line_no"],
            "sku": line["sku"],
            "name": line["name"],
            "quantity": line["quantity"],
            "unit_price": format_amount(Decimal(line["unit_price"])),
            "amount": format_amount(Decimal(line["amount"])),
            "tps": format_amount(Decimal(line["tps"])),
            "tvq": format_amount(Decimal(line["tvq"])),
        }
        for line in order_repo.lines_of(session, row["id"])
    ]
    events = [
        {"kind": event["kind"], "detail": event["detail"], "at": _time(event["created_at"])}
        for event in order_repo.events_of(session, row["id"])
    ]
    return {**summary(row), "lines": lines, "events": events, "document": current_document(row)}


@router.get("/orders", responses=answers(out.SellerOrderPage), summary="Commandes du pôle")
@reads_query(OrderFilter)
async def list_orders(request: Request, provider_id: OwnProvider) -> dict[str, Any]:
    """Les commandes du pôle, les plus récentes d'abord (filtres ``status``,
    ``fulfillment_state``, ``purchase_order_number``, ``delivery_date`` AAAA-MM-JJ ; pages
    ``limit`` et ``offset``). Chaque commande montre son numéro de bon de commande, l'acheteur
    et la livraison (site, adresse, plage, contact)."""
    wanted = validated(OrderFilter, dict(request.query_params), "query")
    status, fulfillment_state = wanted.status, wanted.fulfillment_state
    limit, offset = wanted.limit, wanted.offset
    delivered = day_bounds(wanted.delivery_date) if wanted.delivery_date else None
    factory = _service(request).factory

    def run() -> dict[str, Any]:
        with read_session(factory) as session:
            rows, total = order_repo.list_orders(
                session,
                provider_id,
                status=status,
                fulfillment_state=fulfillment_state,
                purchase_order_number=wanted.purchase_order_number,
                delivered_between=delivered,
                limit=limit,
                offset=offset,
            )
        following = offset + len(rows)
        return {
            "orders": [summary(row) for row in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
            "next_offset": following if following < total else None,
        }

    return await asyncio.to_thread(run)


async def _order_detail(request: Request, provider_id: str, order_id: str) -> dict[str, Any]:
    factory = _service(request).factory

    def run() -> dict[str, Any] | None:
        with read_session(factory) as session:
            row = order_repo.lock_order(session, order_id)
            if row is None or row["provider_id"] != provider_id:
                return None
            return detail(session, row)

    found = await asyncio.to_thread(run)
    if found is None:
        raise _not_found(order_id)
    return found


@router.get(
    "/orders/{order_id}", responses=answers(out.SellerOrderDetail), summary="Une commande du pôle"
)
async def get_order(request: Request, provider_id: OwnProvider, order_id: str) -> dict[str, Any]:
    """Une commande : lignes, événements et leurs heures, document Beckn courant."""
    return await _order_detail(request, provider_id, order_id)


@router.post(
    "/orders/{order_id}/fulfillment",
    openapi_extra=body_doc(FulfillmentChange),
    responses=answers(out.SellerOrderDetail),
    summary="Faire avancer la livraison d'une commande",
)
async def change_fulfillment(
    request: Request, provider_id: OwnProvider, order_id: str
) -> dict[str, Any]:
    """Faire avancer l'exécution (Packed, Ready-for-pickup, Out-for-delivery, Order-delivered…) ;
    l'acheteur reçoit un on_status."""
    change: FulfillmentChange = await _body(request, FulfillmentChange)
    service = _service(request)
    try:
        row = await asyncio.to_thread(
            service.advance_fulfillment,
            provider_id,
            order_id,
            change.state,
            tracking_url=change.tracking_url,
            reason=change.reason_code,
        )
    except ProtocolError as exc:
        raise _refusal(exc) from None
    if row is None:
        raise _not_found(order_id)
    service.network.wake()
    return await _order_detail(request, provider_id, order_id)


@router.post(
    "/orders/{order_id}/cancel",
    openapi_extra=body_doc(SellerCancellation),
    responses=answers(out.SellerOrderDetail),
    summary="Annuler une commande",
)
async def cancel_order(request: Request, provider_id: OwnProvider, order_id: str) -> dict[str, Any]:
    """Annulation par le pôle (sans frais pour l'acheteur) ; le stock est remis en vente."""
    cancellation: SellerCancellation = await _body(request, SellerCancellation)
    service = _service(request)
    try:
        row = await asyncio.to_thread(
            service.seller_cancel,
            provider_id,
            order_id,
            cancellation.reason_code,
            cancellation.message or "",
        )
    except ProtocolError as exc:
        raise _refusal(exc) from None
    if row is None:
        raise _not_found(order_id)
    service.network.wake()
    return await _order_detail(request, provider_id, order_id)


def _webhook_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**row, "created_at": _time(row["created_at"])}


@router.post(
    "/webhooks",
    status_code=201,
    tags=["webhooks"],
    openapi_extra=body_doc(WebhookIn),
    responses=answers(WebhookCreated, 201, description="L'abonnement, avec son secret."),
    summary="Créer un webhook",
)
async def create_webhook(request: Request, provider_id: OwnProvider) -> dict[str, Any]:
    """Abonner une adresse aux événements du pôle ; le secret n'est montré qu'ici."""
    wanted: WebhookIn = await _body(request, WebhookIn)
    service = _service(request)
    try:
        service.webhooks.check_url(wanted.url)
    except DestinationRefused as exc:
        raise ApiError(400, exc.code, exc.message, "url") from None

    def run() -> dict[str, Any]:
        with write_session(service.factory) as session:
            return service.webhooks.create(
                session,
                provider_id,
                wanted.url,
                wanted.event_types,
                description=wanted.description,
            )

    return _webhook_out(await asyncio.to_thread(run))


@router.get(
    "/webhooks", tags=["webhooks"], responses=answers(WebhookList), summary="Webhooks du pôle"
)
async def list_webhooks(request: Request, provider_id: OwnProvider) -> dict[str, Any]:
    """Les abonnements du pôle (sans leurs secrets)."""
    service = _service(request)

    def run() -> list[dict[str, Any]]:
        with read_session(service.factory) as session:
            return service.webhooks.list(session, provider_id)

    found = await asyncio.to_thread(run)
    return {"webhooks": [_webhook_out(row) for row in found], "event_types": list(SELLER_EVENTS)}


@router.delete(
    "/webhooks/{webhook_id}", status_code=204, tags=["webhooks"], summary="Supprimer un webhook"
)
async def delete_webhook(request: Request, provider_id: OwnProvider, webhook_id: str) -> Response:
    """Désabonner ; les livraisons en attente s'arrêtent."""
    service = _service(request)
    number = int(webhook_id) if webhook_id.isdigit() and len(webhook_id) < 18 else -1

    def run() -> bool:
        with write_session(service.factory) as session:
            return service.webhooks.delete(session, provider_id, number)

    if not await asyncio.to_thread(run):
        raise ApiError(404, "webhook_inconnu", "Abonnement inconnu.", "webhook_id")
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    tags=["webhooks"],
    responses=answers(WebhookDeliveries),
    summary="Envois d'un webhook",
)
async def webhook_deliveries(
    request: Request, provider_id: OwnProvider, webhook_id: str
) -> dict[str, Any]:
    """Les dernières livraisons d'un abonnement : état, tentatives, dernière réponse."""
    service = _service(request)
    number = int(webhook_id) if webhook_id.isdigit() and len(webhook_id) < 18 else -1

    def run() -> list[dict[str, Any]] | None:
        with read_session(service.factory) as session:
            return service.webhooks.deliveries(session, provider_id, number)

    found = await asyncio.to_thread(run)
    if found is None:
        raise ApiError(404, "webhook_inconnu", "Abonnement inconnu.", "webhook_id")
    times = ("created_at", "next_attempt_at", "delivered_at")
    return {"deliveries": [{**row, **{k: _time(row[k]) for k in times}} for row in found]}
