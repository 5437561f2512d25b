"""``create_app(settings)``: the seller node as a FastAPI application.

POST /{action}        Beckn calls (search, select, init, confirm, status, track, cancel,
                      update, rating, support): verified by
                      the network layer, answered ACK/NACK; callbacks via the outbox
POST /on_subscribe    the registry's challenge when the node subscribes
GET  /health          liveness
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from reseau_poles.network import InboundMessage, NetworkSettings
from reseau_poles.node import Migrations, create_node_app, open_node

from . import api as management_api
from . import operations_api, orders_api
from .service import SellerService
from .settings import SellerSettings, load_settings

MIGRATIONS = "reseau_poles.seller.migrations"
VERSION_TABLE = "alembic_version_seller"
SELLER_MIGRATIONS = Migrations(MIGRATIONS, VERSION_TABLE)
migrate = SELLER_MIGRATIONS.migrate


def create_app(
    settings: SellerSettings | None = None,
    *,
    network_settings: NetworkSettings | None = None,
    engine: Engine | None = None,
) -> FastAPI:
    settings = settings or load_settings()
    parts = open_node(
        settings, "BPP", SELLER_MIGRATIONS, network_settings=network_settings, engine=engine
    )
    service = SellerService(settings, parts.engine, parts.network)
    handlers = {
        "search": service.handle_search,
        "select": service.handle_select,
        "init": service.handle_init,
        "confirm": service.handle_confirm,
        "status": service.handle_status,
        "track": service.handle_track,
        "cancel": service.handle_cancel,
        "update": service.handle_update,
        "rating": service.handle_rating,
        "support": service.handle_support,
    }
    app = create_node_app(
        parts,
        title="Réseau Pôles — nœud vendeur",
        description=(
            "Nœud vendeur (BPP) : catalogue, stocks et commandes d'un ou de plusieurs pôles, "
            "sur le protocole Beckn 1.1."
        ),
        # Business refusals: ACK then on_<action> with error; malformed requests: NACK.
        handlers={
            action: _payload_of(service.answering(action, handler))
            for action, handler in handlers.items()
        },
        after_ack=lambda _message: parts.network.wake(),
        not_supported="Action « {action} » pas encore prise en charge par ce nœud vendeur.",
        transaction_began=service.began,
    )
    app.state.service = service
    app.include_router(orders_api.router)  # /api/providers/{id}/orders, /webhooks
    app.include_router(management_api.router)  # /api/providers/{id}/… (gestion)
    app.include_router(operations_api.router)  # /pick-list, /products/{sku}/stock-movements
    return app


def _payload_of(handler: Callable[[Mapping[str, Any]], Any]) -> Callable[[InboundMessage], Any]:
    """The service's handlers take the verified message's parsed body."""
    return lambda message: handler(message.payload)
