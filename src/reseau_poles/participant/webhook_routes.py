"""The webhook routes of the client API, written once for every node: a router per holder.

POST   {prefix}                               subscribe (the signing secret is shown once)
GET    {prefix}                               the holder's subscriptions (without secrets)
DELETE {prefix}/{webhook_id}                  204; its pending deliveries stop
GET    {prefix}/{webhook_id}/deliveries       the newest deliveries (when the node shows them)

The holder is who the API key belongs to: a pôle on the seller node
(``/api/providers/{provider_id}/webhooks``), an organisation on the buyer node
(``/api/webhooks``). A node gives its dependencies (the holder's id, its
:class:`~reseau_poles.participant.webhook_subscriptions.WebhookSubscriptions`), its request model,
how it writes times, and its words for the OpenAPI document.
"""

# No ``from __future__ import annotations``: the routes' parameters are annotated with the
# node's own dependencies, which FastAPI must see as objects, not names.

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from .answers import WebhookCreated, WebhookDeliveries, WebhookList, answers
from .api import body_doc, read_json_object, validated

TIMES = ("created_at", "next_attempt_at", "delivered_at")


@dataclass(frozen=True)
class WebhookDocs:
    """A node's words for its webhook routes (French summaries and descriptions)."""

    list_summary: str
    create: str
    list: str
    delete: str
    deliveries: str = (
        "Les dernières livraisons d'un abonnement : état, tentatives, dernière réponse."
    )


def webhook_router(
    *,
    prefix: str,
    root: str,
    holder: Any,
    subscriptions: Any,
    request_model: type[BaseModel],
    events: Sequence[str],
    moment: Callable[[datetime], str],
    docs: WebhookDocs,
    deliveries: bool = False,
    tags: Sequence[str] = ("webhooks",),
) -> APIRouter:
    """The router: ``prefix`` is the router's, ``root`` the path of the collection under it
    (``""`` or ``"/webhooks"``); ``holder`` and ``subscriptions`` are ``Annotated`` FastAPI
    dependencies (the holder's id, its subscriptions service); ``moment`` writes a time;
    ``tags``: each route's, in the OpenAPI document."""
    each: list[str | Enum] = list(tags)
    router = APIRouter(prefix=prefix)

    def public(row: dict[str, Any]) -> dict[str, Any]:
        created = row.get("created_at")
        return {**row, "created_at": moment(created)} if isinstance(created, datetime) else row

    async def create_webhook(
        request: Request, service: subscriptions, owner_id: holder
    ) -> dict[str, Any]:
        wanted: Any = validated(request_model, await read_json_object(request, allow_empty=False))
        created = await service.create(owner_id, wanted.url, wanted.event_types, wanted.description)
        return public(created)

    async def list_webhooks(service: subscriptions, owner_id: holder) -> dict[str, Any]:
        rows = await service.list(owner_id)
        return {"webhooks": [public(row) for row in rows], "event_types": list(events)}

    async def delete_webhook(webhook_id: str, service: subscriptions, owner_id: holder) -> Response:
        await service.delete(owner_id, webhook_id)
        return Response(status_code=204)

    async def webhook_deliveries(
        webhook_id: str, service: subscriptions, owner_id: holder
    ) -> dict[str, Any]:
        found = await service.deliveries(owner_id, webhook_id)

        def when(value: datetime | None) -> str | None:
            return moment(value) if value is not None else None

        return {"deliveries": [{**row, **{k: when(row[k]) for k in TIMES}} for row in found]}

    create_webhook.__doc__ = docs.create
    list_webhooks.__doc__ = docs.list
    delete_webhook.__doc__ = docs.delete
    webhook_deliveries.__doc__ = docs.deliveries

    router.post(
        root,
        status_code=201,
        openapi_extra=body_doc(request_model),
        responses=answers(WebhookCreated, 201, description="L'abonnement, avec son secret."),
        summary="Créer un webhook",
        tags=each,
    )(create_webhook)
    router.get(root, responses=answers(WebhookList), summary=docs.list_summary, tags=each)(
        list_webhooks
    )
    router.delete(
        f"{root}/{{webhook_id}}", status_code=204, summary="Supprimer un webhook", tags=each
    )(delete_webhook)
    if deliveries:
        router.get(
            f"{root}/{{webhook_id}}/deliveries",
            responses=answers(WebhookDeliveries),
            summary="Envois d'un webhook",
            tags=each,
        )(webhook_deliveries)
    return router
