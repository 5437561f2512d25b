"""The webhook subscriptions of a key holder (a pôle on the seller node, an organisation on the
buyer node), as the client API manages them: one service for every node.

Each call runs its transaction on a worker thread (the event loop never waits for the
database); :class:`~reseau_poles.participant.webhooks.Webhooks` holds the SQL and the deliveries.
Refusals are :class:`~reseau_poles.participant.api.ApiError` with the client API's codes.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.network.destinations import DestinationRefused
from reseau_poles.storage import read_session, write_session

from .api import ApiError
from .webhooks import ALL_EVENTS, Webhooks

# Ids are positive integers of at most 18 digits (what a signed 64-bit column holds).
MAX_ID_DIGITS = 18


def unknown_webhook() -> ApiError:
    return ApiError(404, "webhook_inconnu", "Abonnement inconnu.", "webhook_id")


def webhook_number(webhook_id: str) -> int:
    """The id of ``/webhooks/{webhook_id}``; anything else is an unknown subscription (also
    other scripts' digits, which ``int`` would read: ``٣`` is not subscription 3)."""
    if not (webhook_id.isascii() and webhook_id.isdigit()) or len(webhook_id) > MAX_ID_DIGITS:
        raise unknown_webhook()
    return int(webhook_id)


class WebhookSubscriptions:
    """Create, list and delete a holder's subscriptions, and read their deliveries."""

    def __init__(
        self, webhooks: Webhooks, factory: sessionmaker[Session], events: Sequence[str]
    ) -> None:
        self.webhooks = webhooks
        self.factory = factory
        self.events = tuple(events)

    def check_events(self, event_types: Sequence[str]) -> None:
        """Each type is one of the node's events, or ``*``."""
        for index, kind in enumerate(event_types):
            if kind != ALL_EVENTS and kind not in self.events:
                raise ApiError(
                    400,
                    "parametres_invalides",
                    f"Type d'événement inconnu ; types : {', '.join(self.events)} ou *.",
                    f"event_types.{index}",
                )

    def check_url(self, url: str) -> None:
        """The node's destination policy, at subscription (again at each delivery)."""
        try:
            self.webhooks.check_url(url)
        except DestinationRefused as exc:
            raise ApiError(400, exc.code, exc.message, "url") from None

    async def create(
        self, owner_id: str, url: str, event_types: list[str], description: str | None
    ) -> dict[str, Any]:
        """A new subscription, with its secret (shown this once)."""
        self.check_events(event_types)
        self.check_url(url)

        def create() -> dict[str, Any]:
            with write_session(self.factory) as session:
                return self.webhooks.create(
                    session, owner_id, url, event_types, description=description
                )

        return await asyncio.to_thread(create)

    async def list(self, owner_id: str) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            with read_session(self.factory) as session:
                return self.webhooks.list(session, owner_id)

        return await asyncio.to_thread(read)

    async def delete(self, owner_id: str, webhook_id: str) -> None:
        """Delete it (its pending deliveries stop), or 404."""
        number = webhook_number(webhook_id)

        def delete() -> bool:
            with write_session(self.factory) as session:
                return self.webhooks.delete(session, owner_id, number)

        if not await asyncio.to_thread(delete):
            raise unknown_webhook()

    async def deliveries(self, owner_id: str, webhook_id: str) -> builtins.list[dict[str, Any]]:
        """Its newest deliveries, or 404."""
        number = webhook_number(webhook_id)

        def read() -> builtins.list[dict[str, Any]] | None:
            with read_session(self.factory) as session:
                return self.webhooks.deliveries(session, owner_id, number)

        found = await asyncio.to_thread(read)
        if found is None:
            raise unknown_webhook()
        return found
