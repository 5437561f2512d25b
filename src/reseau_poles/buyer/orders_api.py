"""The client API of orders (``/api/orders``) and of the organisation's webhooks
(``/api/webhooks``), authenticated per organisation (:mod:`.auth`).

POST /api/orders                    provider, items, fulfilment, billing, payment … → ``select``
                                    sent; 202 with the order id (``?wait_ms=``: wait for the
                                    quote, then 200)
GET  /api/orders                    history: ``state``, ``provider``, ``since``, ``until``,
                                    ``purchase_order_number``, ``limit`` (≤ 100), ``offset``
GET  /api/orders/{id}               the order, its lines and every state change with its time;
                                    ``?wait_ms=``: until the pending request is answered
POST /api/orders/{id}/{action}      init, confirm, status, track, cancel, update, rating,
                                    support: 202 (or 200 after ``?wait_ms=``)
POST/GET/DELETE /api/webhooks       order events pushed to the organisation's system
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reseau_poles.network.destinations import MAX_URL_LENGTH, DestinationRefused
from reseau_poles.node import ApiError, read_json_object, validated, validation_error
from reseau_poles.node.answers import WebhookCreated, WebhookList, answers
from reseau_poles.node.api import body_doc
from reseau_poles.protocol.lifecycle import Phase
from reseau_poles.protocol.moments import MomentError, parse_moment
from reseau_poles.storage import read_session, write_session

from . import answers as out
from .auth import organisation
from .cart_checks import check_order_window
from .orders import BODY_MODELS, BUYER_EVENTS, OrderIn, OrderNotFound, OrderService
from .sites import order_with_site

router = APIRouter(prefix="/api/orders", tags=["commandes"])
webhooks_router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])

MAX_PAGE = 100


def _service(request: Request) -> OrderService:
    return request.app.state.orders  # type: ignore[no-any-return]


def _wait(request: Request, wait_ms: str | None) -> int:
    if wait_ms is None:
        return 0
    if not wait_ms.isdigit():
        raise ApiError(400, "parametres_invalides", "wait_ms : entier positif attendu.", "wait_ms")
    return min(int(wait_ms), request.app.state.settings.max_wait_ms)


def _unknown() -> ApiError:
    return ApiError(404, "commande_inconnue", "Commande inconnue.", "id")


_STARTED = (
    "202 : la demande est partie (où lire la réponse), ou, avec `wait_ms`, la commande qui "
    "attend encore ; 200 : avec `wait_ms`, la commande une fois la réponse reçue."
)


async def _answer(
    service: OrderService, organisation_id: str, order_id: str, started: dict[str, Any], wait: int
) -> JSONResponse:
    """202 with where to read the answer; after a wait, the order itself (200 once answered)."""
    location = f"/api/orders/{order_id}"
    if not wait:
        return JSONResponse(
            {**started, "order_url": location}, status_code=202, headers={"Location": location}
        )
    document = await service.view(organisation_id, order_id, wait)
    return JSONResponse(
        document,
        status_code=202 if document["pending"] is not None else 200,
        headers={"Location": location},
    )


@router.post(
    "",
    status_code=202,
    openapi_extra=body_doc(OrderIn),
    responses=answers(out.OrderStarted | out.BuyerOrderDocument, 200, 202, description=_STARTED),
    summary="Commander chez un pôle",
)
async def create_order(
    request: Request, wait_ms: str | None = None, organisation_id: str = Depends(organisation)
) -> JSONResponse:
    """Demander un devis à un pôle (``select``) ; la réponse arrive ensuite."""
    wait = _wait(request, wait_ms)
    data = await read_json_object(request, allow_empty=False)
    service = _service(request)
    if data.get("delivery_site_id") is not None:

        def with_site() -> dict[str, Any]:
            with read_session(service.factory) as session:
                return order_with_site(session, organisation_id, data)

        data = await asyncio.to_thread(with_site)
    order = validated(OrderIn, data)

    def check() -> None:
        with read_session(service.factory) as session:
            check_order_window(session, organisation_id, order)

    await asyncio.to_thread(check)
    started = await service.create(organisation_id, order)
    return await _answer(service, organisation_id, started["id"], started, wait)


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_moment(value)
    except MomentError as exc:
        raise ApiError(400, "parametres_invalides", f"{name} : {exc}", name) from None


@router.get("", responses=answers(out.OrderPage), summary="Commandes de l'organisation")
async def list_orders(
    request: Request,
    state: str | None = None,
    provider: str | None = None,
    since: str | None = None,
    until: str | None = None,
    purchase_order_number: str | None = None,
    limit: str = "20",
    offset: str = "0",
    organisation_id: str = Depends(organisation),
) -> dict[str, Any]:
    """L'historique des commandes de l'organisation, les plus récentes d'abord ;
    ``purchase_order_number`` : celles d'un bon de commande (BC-2026-0117)."""
    if purchase_order_number is not None and (
        not 1 <= len(purchase_order_number.strip()) <= 64 or "\x00" in purchase_order_number
    ):
        raise ApiError(
            400,
            "parametres_invalides",
            "purchase_order_number : de 1 à 64 caractères.",
            "purchase_order_number",
        )
    phases = [phase.value for phase in Phase if phase is not Phase.SEARCHING]
    if state is not None and state not in phases:
        raise ApiError(
            400, "parametres_invalides", f"state : une valeur parmi {', '.join(phases)}.", "state"
        )
    for name, value in (("limit", limit), ("offset", offset)):
        if not value.isdigit() or len(value) > 9:
            raise ApiError(400, "parametres_invalides", f"{name} : entier positif attendu.", name)
    size = int(limit)
    if not 1 <= size <= MAX_PAGE:
        raise ApiError(400, "parametres_invalides", f"limit : entre 1 et {MAX_PAGE}.", "limit")
    service = _service(request)
    return await asyncio.to_thread(
        service.list,
        organisation_id,
        state=state,
        provider=provider[:255] if provider else None,
        since=_when(since, "since"),
        until=_when(until, "until"),
        limit=size,
        offset=int(offset),
        purchase_order_number=purchase_order_number.strip() if purchase_order_number else None,
    )


@router.get("/{order_id}", responses=answers(out.BuyerOrderDocument), summary="Une commande")
async def read_order(
    request: Request,
    order_id: str,
    wait_ms: str | None = None,
    organisation_id: str = Depends(organisation),
) -> dict[str, Any]:
    """La commande, ses lignes et chaque changement d'état ; ``wait_ms`` : attendre la
    réponse du vendeur à la demande en cours."""
    wait = _wait(request, wait_ms)
    try:
        return await _service(request).view(organisation_id, order_id[:64], wait)
    except OrderNotFound:
        raise _unknown() from None


@router.post(
    "/{order_id}/{action}",
    status_code=202,
    openapi_extra=body_doc(
        *dict.fromkeys(m for m in BODY_MODELS.values() if m is not None), required=False
    ),
    responses=answers(out.OrderStarted | out.BuyerOrderDocument, 200, 202, description=_STARTED),
    summary="Agir sur une commande (état, annulation, suivi…)",
)
async def order_action(
    request: Request,
    order_id: str,
    action: str,
    wait_ms: str | None = None,
    organisation_id: str = Depends(organisation),
) -> JSONResponse:
    """``init``, ``confirm``, ``status``, ``track``, ``cancel``, ``update``, ``rating`` ou
    ``support`` : la demande part au vendeur ; sa réponse met la commande à jour."""
    if action not in BODY_MODELS:
        raise ApiError(
            404,
            "action_inconnue",
            f"Action inconnue ; une parmi {', '.join(BODY_MODELS)}.",
            "action",
        )
    wait = _wait(request, wait_ms)
    data = await read_json_object(request)
    if BODY_MODELS[action] is None and data:
        raise ApiError(400, "parametres_invalides", "champ inconnu", next(iter(data)))
    service = _service(request)
    try:
        started = await service.request(organisation_id, order_id[:64], action, data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    except OrderNotFound:
        raise _unknown() from None
    return await _answer(service, organisation_id, order_id[:64], started, wait)


# --- webhooks ----------------------------------------------------------------------------------


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Checked by the node's destination policy (network.destinations): https, public address.
    url: str = Field(max_length=MAX_URL_LENGTH)
    event_types: list[str] = Field(default_factory=lambda: ["*"], min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=255)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    created = row.get("created_at")
    if isinstance(created, datetime):
        row = {**row, "created_at": created.isoformat().replace("+00:00", "Z")}
    return row


@webhooks_router.post(
    "",
    status_code=201,
    openapi_extra=body_doc(WebhookIn),
    responses=answers(WebhookCreated, 201, description="L'abonnement, avec son secret."),
    summary="Créer un webhook",
)
async def create_webhook(
    request: Request, organisation_id: str = Depends(organisation)
) -> dict[str, Any]:
    """Abonner le système de l'organisation aux événements de ses commandes ; le secret de
    signature (HMAC) n'est montré qu'ici."""
    data = await read_json_object(request, allow_empty=False)
    wanted = validated(WebhookIn, data)
    service = _service(request)
    for index, kind in enumerate(wanted.event_types):
        if kind != "*" and kind not in BUYER_EVENTS:
            raise ApiError(
                400,
                "parametres_invalides",
                f"Type d'événement inconnu ; types : {', '.join(BUYER_EVENTS)} ou *.",
                f"event_types.{index}",
            )
    try:
        service.webhooks.check_url(wanted.url)
    except DestinationRefused as exc:
        raise ApiError(400, exc.code, exc.message, "url") from None

    def create() -> dict[str, Any]:
        with write_session(service.factory) as session:
            return service.webhooks.create(
                session,
                organisation_id,
                wanted.url,
                wanted.event_types,
                description=wanted.description,
            )

    return _public(await asyncio.to_thread(create))


@webhooks_router.get("", responses=answers(WebhookList), summary="Webhooks de l'organisation")
async def list_webhooks(
    request: Request, organisation_id: str = Depends(organisation)
) -> dict[str, Any]:
    """Les abonnements de l'organisation (sans leurs secrets)."""
    service = _service(request)

    def read() -> list[dict[str, Any]]:
        with read_session(service.factory) as session:
            return service.webhooks.list(session, organisation_id)

    rows = await asyncio.to_thread(read)
    return {"webhooks": [_public(row) for row in rows], "event_types": list(BUYER_EVENTS)}


@webhooks_router.delete("/{webhook_id}", status_code=204, summary="Supprimer un webhook")
async def delete_webhook(
    request: Request, webhook_id: str, organisation_id: str = Depends(organisation)
) -> Response:
    """Supprimer un abonnement ; ses livraisons en attente s'arrêtent."""
    if not webhook_id.isdigit() or len(webhook_id) > 18:
        raise ApiError(404, "webhook_inconnu", "Abonnement inconnu.", "webhook_id")
    service = _service(request)

    def delete() -> bool:
        with write_session(service.factory) as session:
            return service.webhooks.delete(session, organisation_id, int(webhook_id))

    if not await asyncio.to_thread(delete):
        raise ApiError(404, "webhook_inconnu", "Abonnement inconnu.", "webhook_id")
    return Response(status_code=204)
