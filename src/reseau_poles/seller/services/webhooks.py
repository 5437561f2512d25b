"""A pôle's webhook subscriptions (the node's :class:`~reseau_poles.participant.webhooks.Webhooks`
on the seller's table) and the events the seller node sends."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.participant.webhooks import Webhooks
from reseau_poles.storage import read_session, write_session

SELLER_EVENTS: Final = (
    "order.confirmed",
    "order.updated",
    "order.cancelled",
    "fulfillment.changed",
    "rating.received",
    "support.requested",
)


class WebhookSubscriptions:
    def __init__(self, factory: sessionmaker[Session], webhooks: Webhooks) -> None:
        self.factory = factory
        self.webhooks = webhooks

    def check_url(self, url: str) -> None:
        """The destination policy's verdict (``DestinationRefused``)."""
        self.webhooks.check_url(url)

    def create(
        self, provider_id: str, url: str, event_types: list[str], description: str | None
    ) -> dict[str, Any]:
        with write_session(self.factory) as session:
            return self.webhooks.create(
                session, provider_id, url, event_types, description=description
            )

    def subscriptions(self, provider_id: str) -> list[dict[str, Any]]:
        with read_session(self.factory) as session:
            return self.webhooks.list(session, provider_id)

    def delete(self, provider_id: str, number: int) -> bool:
        with write_session(self.factory) as session:
            return self.webhooks.delete(session, provider_id, number)

    def deliveries(self, provider_id: str, number: int) -> list[dict[str, Any]] | None:
        with read_session(self.factory) as session:
            return self.webhooks.deliveries(session, provider_id, number)
