"""The organisation's webhooks (``/api/webhooks``): order events pushed to its system; the
frame's routes (:mod:`reseau_poles.participant.webhook_routes`) with the buyer's words.

POST   /api/webhooks            subscribe (the signing secret is shown once)
GET    /api/webhooks            the organisation's subscriptions (without their secrets)
DELETE /api/webhooks/{id}       204; its pending deliveries stop
"""

from __future__ import annotations

from datetime import datetime

from reseau_poles.participant.webhook_routes import WebhookDocs, webhook_router

from ..requests import WebhookIn
from ..services.order_callbacks import BUYER_EVENTS
from .deps import Organisation, Subscriptions


def _moment(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


router = webhook_router(
    prefix="/api/webhooks",
    root="",
    holder=Organisation,
    subscriptions=Subscriptions,
    request_model=WebhookIn,
    events=BUYER_EVENTS,
    moment=_moment,
    docs=WebhookDocs(
        list_summary="Webhooks de l'organisation",
        create="Abonner le système de l'organisation aux événements de ses commandes ; le "
        "secret de\nsignature (HMAC) n'est montré qu'ici.",
        list="Les abonnements de l'organisation (sans leurs secrets).",
        delete="Supprimer un abonnement ; ses livraisons en attente s'arrêtent.",
    ),
)
