"""The events the seller node sends to a pôle's webhooks; the subscriptions themselves are the
frame's :class:`~reseau_poles.participant.webhook_subscriptions.WebhookSubscriptions` over the
node's :class:`~reseau_poles.participant.webhooks.Webhooks`."""

from __future__ import annotations

from typing import Final

SELLER_EVENTS: Final = (
    "order.confirmed",
    "order.updated",
    "order.cancelled",
    "fulfillment.changed",
    "rating.received",
    "support.requested",
)
