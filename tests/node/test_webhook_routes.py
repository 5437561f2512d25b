"""The frame's webhook routes (participant/webhook_routes.py) are the nodes' one implementation: the
buyer's /api/webhooks are built from them, and built with the seller's words and
dependencies they give, operation for operation, the OpenAPI of the seller's own routes
(so the seller can take them without changing its document)."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI

from reseau_poles.participant.api import ApiError
from reseau_poles.participant.webhook_routes import WebhookDocs, webhook_router
from reseau_poles.participant.webhook_subscriptions import webhook_number
from reseau_poles.protocol.models import format_datetime
from reseau_poles.seller.api import webhooks as seller_webhooks
from reseau_poles.seller.api.deps import OwnProvider
from reseau_poles.seller.requests import WebhookIn
from reseau_poles.seller.services.webhooks import SELLER_EVENTS


def _no_service() -> None:
    return None


SELLER_DOCS = WebhookDocs(
    list_summary="Webhooks du pôle",
    create="Abonner une adresse aux événements du pôle ; le secret n'est montré qu'ici.",
    list="Les abonnements du pôle (sans leurs secrets).",
    delete="Désabonner ; les livraisons en attente s'arrêtent.",
)


def _webhook_paths(app: FastAPI) -> dict[str, Any]:
    return {path: ops for path, ops in app.openapi()["paths"].items() if "/webhooks" in path}


def test_built_for_the_seller_they_document_the_sellers_routes() -> None:
    theirs = FastAPI()
    theirs.include_router(seller_webhooks.router)
    ours = FastAPI()
    ours.include_router(
        webhook_router(
            prefix="/api/providers/{provider_id}",
            root="/webhooks",
            holder=OwnProvider,
            subscriptions=Annotated[Any, Depends(_no_service)],
            request_model=WebhookIn,
            events=SELLER_EVENTS,
            moment=format_datetime,
            docs=SELLER_DOCS,
            deliveries=True,
            tags=("commandes", "webhooks"),
        )
    )
    expected = _webhook_paths(theirs)
    assert len(expected) == 3
    assert _webhook_paths(ours) == expected


def test_a_webhook_id_is_a_short_positive_integer() -> None:
    assert webhook_number("42") == 42
    assert webhook_number("9" * 18) == int("9" * 18)
    for wrong in ("", "-1", "4.2", "abc", "1" * 19, "٣"):
        with pytest.raises(ApiError) as refused:
            webhook_number(wrong)
        assert (refused.value.status, refused.value.code) == (404, "webhook_inconnu")
