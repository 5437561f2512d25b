"""The pôle's integrations (``/gestion/integrations``, roles ``gestion`` and ``admin``): the
webhook subscriptions and the API keys its own software uses, through the node's services
(the same as the management API's).

GET  /gestion/integrations                                  both lists, both forms
POST /gestion/integrations/webhooks                         subscribe: the signing secret is
                                                            shown on the page answered, once
GET  /gestion/integrations/webhooks/{id}                    its newest deliveries
POST /gestion/integrations/webhooks/{id}/suppression        unsubscribe
POST /gestion/integrations/cles                             a new API key, shown once
POST /gestion/integrations/cles/{prefix}/revocation         revoke a key

A secret or a key is never put in a redirect, a cookie or a log: the answer to the POST is
the page itself, marked ``no-store`` like every page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from reseau_poles.participant.api import ApiError
from reseau_poles.participant.webhooks import ALL_EVENTS
from reseau_poles.portal.accounts import User
from reseau_poles.portal.auth import PageError, audit, see_other
from reseau_poles.portal.forms import Form, read_form
from reseau_poles.portal.templating import render

from ..api.deps import services
from ..services.webhooks import SELLER_EVENTS
from .common import Integrator, call
from .portal import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)

HOME = f"{PREFIX}/integrations"
EVENTS = [ALL_EVENTS, *SELLER_EVENTS]
EVENT_KEYS = {
    ALL_EVENTS: "gestion.integrations.evenement.tous",
    **{
        event: f"gestion.integrations.evenement.{event.replace('.', '_')}"
        for event in SELLER_EVENTS
    },
}
# The destination policy's refusals (network.destinations), by code.
URL_KEYS = {
    "url_invalide": "gestion.integrations.erreur.url_invalide",
    "https_requis": "gestion.integrations.erreur.https_requis",
    "destination_interdite": "gestion.integrations.erreur.destination_interdite",
}


async def _page(
    request: Request,
    user: User,
    *,
    webhook_form: Form | None = None,
    key_form: Form | None = None,
    created_webhook: dict[str, Any] | None = None,
    created_key: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    found = services(request)
    webhooks = await found.webhooks.list(user.organisation_id)
    keys = await call(found.api_keys.keys, user.organisation_id)
    if webhook_form is None:
        webhook_form = Form(lists={"event_types": [ALL_EVENTS]})
    return render(
        request,
        "gestion/integrations.html",
        {
            "webhooks": webhooks,
            "keys": keys,
            "webhook_form": webhook_form,
            "key_form": key_form or Form(),
            "created_webhook": created_webhook,
            "created_key": created_key,
            "events": EVENTS,
            "event_keys": EVENT_KEYS,
        },
        status,
    )


@router.get("/integrations", name="gestion_integrations")
async def integrations_page(request: Request, user: Integrator) -> HTMLResponse:
    return await _page(request, user)


@router.post("/integrations/webhooks", name="gestion_webhook_create")
async def create_webhook(request: Request, user: Integrator) -> HTMLResponse:
    form = await read_form(request)
    url = form.require("url", max_length=2048)
    description = form.optional("description", max_length=255)
    kinds = list(dict.fromkeys(form.getlist("event_types")))
    if not kinds or any(kind not in EVENTS for kind in kinds):
        form.error("event_types", "gestion.integrations.erreur.evenements")
    if ALL_EVENTS in kinds:
        kinds = [ALL_EVENTS]
    created: dict[str, Any] | None = None
    if form.ok:
        try:
            created = await services(request).webhooks.create(
                user.organisation_id, url, kinds, description
            )
        except ApiError as refusal:
            key = URL_KEYS.get(refusal.code, "gestion.integrations.erreur.url_invalide")
            form.error("url" if refusal.path == "url" else "event_types", key)
    if created is None:
        return await _page(request, user, webhook_form=form, status=422)
    await audit(
        request, user, "webhook.cree", str(created["id"]), {"url": url, "evenements": kinds}
    )
    return await _page(request, user, created_webhook=created, status=201)


@router.get("/integrations/webhooks/{webhook_id}", name="gestion_webhook")
async def webhook_page(request: Request, webhook_id: str, user: Integrator) -> HTMLResponse:
    found = services(request).webhooks
    try:
        deliveries = await found.deliveries(user.organisation_id, webhook_id)
    except ApiError:
        raise PageError(404, "gestion.integrations.webhook_introuvable") from None
    webhook = next(
        (w for w in await found.list(user.organisation_id) if str(w["id"]) == webhook_id), None
    )
    if webhook is None:
        raise PageError(404, "gestion.integrations.webhook_introuvable")
    return render(
        request,
        "gestion/webhook.html",
        {"webhook": webhook, "deliveries": deliveries, "event_keys": EVENT_KEYS},
    )


@router.post("/integrations/webhooks/{webhook_id}/suppression", name="gestion_webhook_delete")
async def delete_webhook(request: Request, webhook_id: str, user: Integrator) -> Response:
    try:
        await services(request).webhooks.delete(user.organisation_id, webhook_id)
    except ApiError:
        raise PageError(404, "gestion.integrations.webhook_introuvable") from None
    await audit(request, user, "webhook.supprime", webhook_id[:32])
    return see_other(request, HOME, ok="gestion.integrations.webhook_supprime")


@router.post("/integrations/cles", name="gestion_key_create")
async def create_key(request: Request, user: Integrator) -> HTMLResponse:
    form = await read_form(request)
    label = form.optional("label", max_length=255)
    if not form.ok:
        return await _page(request, user, key_form=form, status=422)
    key = await call(services(request).api_keys.create, user.organisation_id, label)
    await audit(request, user, "cle_api.creee", key[:12], {"libelle": label})
    return await _page(request, user, created_key=key, status=201)


@router.post("/integrations/cles/{prefix}/revocation", name="gestion_key_revoke")
async def revoke_key(request: Request, prefix: str, user: Integrator) -> Response:
    done = await call(services(request).api_keys.revoke, user.organisation_id, prefix[:16])
    if not done:
        raise PageError(404, "gestion.integrations.cle_introuvable")
    await audit(request, user, "cle_api.revoquee", prefix[:16])
    return see_other(request, HOME, ok="gestion.integrations.cle_revoquee", prefixe=prefix[:16])
