"""The pôle's webhook subscriptions, under ``/api/providers/{provider_id}`` (tags
« commandes », « webhooks »).

POST   /webhooks                        subscribe a URL to events (the secret is shown once)
GET    /webhooks                        the pôle's subscriptions
DELETE /webhooks/{webhook_id}           unsubscribe (pending deliveries stop)
GET    /webhooks/{webhook_id}/deliveries the newest deliveries: status, attempts, last answer

The buyer node has the same routes for its organisations.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response

from reseau_poles.network.destinations import DestinationRefused
from reseau_poles.participant import ApiError
from reseau_poles.participant.answers import WebhookCreated, WebhookDeliveries, WebhookList, answers
from reseau_poles.participant.api import body_doc
from reseau_poles.protocol.models import format_datetime

from ..requests import WebhookIn
from ..services.webhooks import SELLER_EVENTS
from .deps import OwnProvider, WebhooksService
from .orders import body_of

router = APIRouter(prefix="/api/providers/{provider_id}", tags=["commandes"])


def _time(value: Any) -> str | None:
    return format_datetime(value) if value is not None else None


def _webhook_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**row, "created_at": _time(row["created_at"])}


def _number(webhook_id: str) -> int:
    return int(webhook_id) if webhook_id.isdigit() and len(webhook_id) < 18 else -1


@router.post(
    "/webhooks",
    status_code=201,
    tags=["webhooks"],
    openapi_extra=body_doc(WebhookIn),
    responses=answers(WebhookCreated, 201, description="L'abonnement, avec son secret."),
    summary="Créer un webhook",
)
async def create_webhook(
    request: Request, provider_id: OwnProvider, webhooks: WebhooksService
) -> dict[str, Any]:
    """Abonner une adresse aux événements du pôle ; le secret n'est montré qu'ici."""
    wanted: WebhookIn = await body_of(request, WebhookIn)
    try:
        webhooks.check_url(wanted.url)
    except DestinationRefused as exc:
        raise ApiError(400, exc.code, exc.message, "url") from None
    created = await asyncio.to_thread(
        webhooks.create, provider_id, wanted.url, wanted.event_types, wanted.description
    )
    return _webhook_out(created)


@router.get(
    "/webhooks", tags=["webhooks"], responses=answers(WebhookList), summary="Webhooks du pôle"
)
async def list_webhooks(provider_id: OwnProvider, webhooks: WebhooksService) -> dict[str, Any]:
    """Les abonnements du pôle (sans leurs secrets)."""
    found = await asyncio.to_thread(webhooks.subscriptions, provider_id)
    return {"webhooks": [_webhook_out(row) for row in found], "event_types": list(SELLER_EVENTS)}


@router.delete(
    "/webhooks/{webhook_id}", status_code=204, tags=["webhooks"], summary="Supprimer un webhook"
)
async def delete_webhook(
    provider_id: OwnProvider, webhook_id: str, webhooks: WebhooksService
) -> Response:
    """Désabonner ; les livraisons en attente s'arrêtent."""
    if not await asyncio.to_thread(webhooks.delete, provider_id, _number(webhook_id)):
        raise ApiError(404, "webhook_inconnu", "Abonnement inconnu.", "webhook_id")
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    tags=["webhooks"],
    responses=answers(WebhookDeliveries),
    summary="Envois d'un webhook",
)
async def webhook_deliveries(
    provider_id: OwnProvider, webhook_id: str, webhooks: WebhooksService
) -> dict[str, Any]:
    """Les dernières livraisons d'un abonnement : état, tentatives, dernière réponse."""
    found = await asyncio.to_thread(webhooks.deliveries, provider_id, _number(webhook_id))
    if found is None:
        raise ApiError(404, "webhook_inconnu", "Abonnement inconnu.", "webhook_id")
    times = ("created_at", "next_attempt_at", "delivered_at")
    return {"deliveries": [{**row, **{k: _time(row[k]) for k in times}} for row in found]}
