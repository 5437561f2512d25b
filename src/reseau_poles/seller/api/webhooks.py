"""The pôle's webhook subscriptions, under ``/api/providers/{provider_id}`` (tags
« commandes », « webhooks »): the frame's routes
(:mod:`reseau_poles.participant.webhook_routes`) with the seller's words.

POST   /webhooks                        subscribe a URL to events (the secret is shown once)
GET    /webhooks                        the pôle's subscriptions
DELETE /webhooks/{webhook_id}           unsubscribe (pending deliveries stop)
GET    /webhooks/{webhook_id}/deliveries the newest deliveries: status, attempts, last answer

The buyer node has the same routes for its organisations.
"""

from __future__ import annotations

from reseau_poles.participant.webhook_routes import WebhookDocs, webhook_router
from reseau_poles.protocol.models import format_datetime

from ..requests import WebhookIn
from ..services.webhooks import SELLER_EVENTS
from .deps import OwnProvider, WebhooksService

router = webhook_router(
    prefix="/api/providers/{provider_id}",
    root="/webhooks",
    holder=OwnProvider,
    subscriptions=WebhooksService,
    request_model=WebhookIn,
    events=SELLER_EVENTS,
    moment=format_datetime,
    docs=WebhookDocs(
        list_summary="Webhooks du pôle",
        create="Abonner une adresse aux événements du pôle ; le secret n'est montré qu'ici.",
        list="Les abonnements du pôle (sans leurs secrets).",
        delete="Désabonner ; les livraisons en attente s'arrêtent.",
    ),
    deliveries=True,
    tags=("commandes", "webhooks"),
)
