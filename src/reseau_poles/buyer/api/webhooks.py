"""The organisation's webhooks (``/api/webhooks``): order events pushed to its system.

POST   /api/webhooks            subscribe (the signing secret is shown once)
GET    /api/webhooks            the organisation's subscriptions (without their secrets)
DELETE /api/webhooks/{id}       204; its pending deliveries stop
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reseau_poles.network.destinations import DestinationRefused
from reseau_poles.node import ApiError, read_json_object, validated
from reseau_poles.node.answers import WebhookCreated, WebhookList, answers
from reseau_poles.node.api import body_doc
from reseau_poles.storage import read_session, write_session

from ..requests import WebhookIn
from ..services.order_callbacks import BUYER_EVENTS
from .deps import Orders, Organisation

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


def _public(row: dict[str, Any]) -> dict[str, Any]:
    created = row.get("created_at")
    if isinstance(created, datetime):
        row = {**row, "created_at": created.isoformat().replace("+00:00", "Z")}
    return row


@router.post(
    "",
    status_code=201,
    openapi_extra=body_doc(WebhookIn),
    responses=answers(WebhookCreated, 201, description="L'abonnement, avec son secret."),
    summary="Créer un webhook",
)
async def create_webhook(
    request: Request, service: Orders, organisation_id: Organisation
) -> dict[str, Any]:
    """Abonner le système de l'organisation aux événements de ses commandes ; le secret de
    signature (HMAC) n'est montré qu'ici."""
    data = await read_json_object(request, allow_empty=False)
    wanted = validated(WebhookIn, data)
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


@router.get("", responses=answers(WebhookList), summary="Webhooks de l'organisation")
async def list_webhooks(service: Orders, organisation_id: Organisation) -> dict[str, Any]:
    """Les abonnements de l'organisation (sans leurs secrets)."""

    def read() -> list[dict[str, Any]]:
        with read_session(service.factory) as session:
            return service.webhooks.list(session, organisation_id)

    rows = await asyncio.to_thread(read)
    return {"webhooks": [_public(row) for row in rows], "event_types": list(BUYER_EVENTS)}


@router.delete("/{webhook_id}", status_code=204, summary="Supprimer un webhook")
async def delete_webhook(
    webhook_id: str, service: Orders, organisation_id: Organisation
) -> Response:
    """Supprimer un abonnement ; ses livraisons en attente s'arrêtent."""
    if not webhook_id.isdigit() or len(webhook_id) > 18:
        raise ApiError(404, "webhook_inconnu", "Abonnement inconnu.", "webhook_id")

    def delete() -> bool:
        with write_session(service.factory) as session:
            return service.webhooks.delete(session, organisation_id, int(webhook_id))

    if not await asyncio.to_thread(delete):
        raise ApiError(404, "webhook_inconnu", "Abonnement inconnu.", "webhook_id")
    return Response(status_code=204)
