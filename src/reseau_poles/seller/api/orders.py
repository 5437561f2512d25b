"""The pôle's side of its orders, under ``/api/providers/{provider_id}`` (tag « commandes »).

GET    /orders                          the pôle's orders, newest first (``status``,
                                        ``fulfillment_state``, ``purchase_order_number``,
                                        ``delivery_date``, ``limit``, ``offset``)
GET    /orders/{order_id}               one order with its lines, events and their times

Every order shows its purchase-order number, buyer organisation and delivery (site, address,
window, contact) as fields (:mod:`..order_view`), beside the Beckn document.
POST   /orders/{order_id}/fulfillment   ``{"state": "Packed", "tracking_url": …}``: the next
                                        fulfilment state (protocol core's rules; 409 if
                                        illegal), an unsolicited on_status to the buyer
POST   /orders/{order_id}/cancel        ``{"reason_code": …, "message": …}``: the pôle cancels,
                                        stock restored, on_status to the buyer

Every route needs one of the pôle's API keys (:mod:`.deps`). Refusals are
``{"error": {"code", "message", "path"}}``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from reseau_poles.network.query import reads_query
from reseau_poles.participant import ApiError, read_json_object, validated
from reseau_poles.participant.answers import answers
from reseau_poles.participant.api import body_doc
from reseau_poles.protocol.errors import LifecycleError, ProtocolError

from .. import answers as out
from ..requests import FulfillmentChange, OrderFilter, SellerCancellation
from ..services.order_view import day_bounds
from ..services.orders import PoleOrders
from .deps import OrdersService, OwnProvider, ProtocolService

router = APIRouter(prefix="/api/providers/{provider_id}", tags=["commandes"])


async def body_of(request: Request, model: type[BaseModel]) -> Any:
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


@router.get("/orders", responses=answers(out.SellerOrderPage), summary="Commandes du pôle")
@reads_query(OrderFilter)
async def list_orders(
    request: Request, provider_id: OwnProvider, orders: OrdersService
) -> dict[str, Any]:
    """Les commandes du pôle, les plus récentes d'abord (filtres ``status``,
    ``fulfillment_state``, ``purchase_order_number``, ``delivery_date`` AAAA-MM-JJ ; pages
    ``limit`` et ``offset``). Chaque commande montre son numéro de bon de commande, l'acheteur
    et la livraison (site, adresse, plage, contact)."""
    wanted = validated(OrderFilter, dict(request.query_params), "query")
    delivered = day_bounds(wanted.delivery_date) if wanted.delivery_date else None
    return await asyncio.to_thread(
        orders.page,
        provider_id,
        status=wanted.status,
        fulfillment_state=wanted.fulfillment_state,
        purchase_order_number=wanted.purchase_order_number,
        delivered_between=delivered,
        limit=wanted.limit,
        offset=wanted.offset,
    )


async def _order_detail(orders: PoleOrders, provider_id: str, order_id: str) -> dict[str, Any]:
    found = await asyncio.to_thread(orders.detail, provider_id, order_id)
    if found is None:
        raise _not_found(order_id)
    return found


@router.get(
    "/orders/{order_id}", responses=answers(out.SellerOrderDetail), summary="Une commande du pôle"
)
async def get_order(
    provider_id: OwnProvider, order_id: str, orders: OrdersService
) -> dict[str, Any]:
    """Une commande : lignes, événements et leurs heures, document Beckn courant."""
    return await _order_detail(orders, provider_id, order_id)


@router.post(
    "/orders/{order_id}/fulfillment",
    openapi_extra=body_doc(FulfillmentChange),
    responses=answers(out.SellerOrderDetail),
    summary="Faire avancer la livraison d'une commande",
)
async def change_fulfillment(
    request: Request,
    provider_id: OwnProvider,
    order_id: str,
    service: ProtocolService,
    orders: OrdersService,
) -> dict[str, Any]:
    """Faire avancer l'exécution (Packed, Ready-for-pickup, Out-for-delivery, Order-delivered…) ;
    l'acheteur reçoit un on_status."""
    change: FulfillmentChange = await body_of(request, FulfillmentChange)
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
    return await _order_detail(orders, provider_id, order_id)


@router.post(
    "/orders/{order_id}/cancel",
    openapi_extra=body_doc(SellerCancellation),
    responses=answers(out.SellerOrderDetail),
    summary="Annuler une commande",
)
async def cancel_order(
    request: Request,
    provider_id: OwnProvider,
    order_id: str,
    service: ProtocolService,
    orders: OrdersService,
) -> dict[str, Any]:
    """Annulation par le pôle (sans frais pour l'acheteur) ; le stock est remis en vente."""
    cancellation: SellerCancellation = await body_of(request, SellerCancellation)
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
    return await _order_detail(orders, provider_id, order_id)
