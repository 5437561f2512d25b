"""The client API of orders (``/api/orders``), authenticated per organisation.

POST /api/orders                    provider, items, fulfilment, billing, payment … → ``select``
                                    sent; 202 with the order id (``?wait_ms=``: wait for the
                                    quote, then 200)
GET  /api/orders                    history: ``state``, ``provider``, ``since``, ``until``,
                                    ``purchase_order_number``, ``limit`` (≤ 100), ``offset``
GET  /api/orders/{id}               the order, its lines and every state change with its time;
                                    ``?wait_ms=``: until the pending request is answered
POST /api/orders/{id}/{action}      init, confirm, status, track, cancel, update, rating,
                                    support: 202 (or 200 after ``?wait_ms=``)
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from reseau_poles.participant import ApiError, read_json_object, validated, validation_error
from reseau_poles.participant.answers import answers
from reseau_poles.participant.api import body_doc
from reseau_poles.protocol.lifecycle import Phase
from reseau_poles.protocol.moments import MomentError, parse_moment

from .. import answers as out
from ..requests import BODY_MODELS, OrderIn
from ..services.orders import OrderNotFound, OrderService
from .deps import Orders, Organisation, Settings, wait_of

router = APIRouter(prefix="/api/orders", tags=["commandes"])

MAX_PAGE = 100


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
    request: Request,
    service: Orders,
    settings: Settings,
    organisation_id: Organisation,
    wait_ms: str | None = None,
) -> JSONResponse:
    """Demander un devis à un pôle (``select``) ; la réponse arrive ensuite."""
    wait = wait_of(wait_ms, settings.max_wait_ms)
    data = await read_json_object(request, allow_empty=False)
    if data.get("delivery_site_id") is not None:
        data = await service.with_site(organisation_id, data)
    order = validated(OrderIn, data)
    await service.check_window(organisation_id, order)
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
    service: Orders,
    organisation_id: Organisation,
    state: str | None = None,
    provider: str | None = None,
    since: str | None = None,
    until: str | None = None,
    purchase_order_number: str | None = None,
    limit: str = "20",
    offset: str = "0",
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
    order_id: str,
    service: Orders,
    settings: Settings,
    organisation_id: Organisation,
    wait_ms: str | None = None,
) -> dict[str, Any]:
    """La commande, ses lignes et chaque changement d'état ; ``wait_ms`` : attendre la
    réponse du vendeur à la demande en cours."""
    wait = wait_of(wait_ms, settings.max_wait_ms)
    try:
        return await service.view(organisation_id, order_id[:64], wait)
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
    service: Orders,
    settings: Settings,
    organisation_id: Organisation,
    wait_ms: str | None = None,
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
    wait = wait_of(wait_ms, settings.max_wait_ms)
    data = await read_json_object(request)
    if BODY_MODELS[action] is None and data:
        raise ApiError(400, "parametres_invalides", "champ inconnu", next(iter(data)))
    try:
        started = await service.request(organisation_id, order_id[:64], action, data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    except OrderNotFound:
        raise _unknown() from None
    return await _answer(service, organisation_id, order_id[:64], started, wait)
