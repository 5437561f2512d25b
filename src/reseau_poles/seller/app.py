"""``create_app(settings)``: the seller node as a FastAPI application.

POST /{action}        Beckn calls (search, select, init, confirm, status, track, cancel,
                      update, rating, support): verified by
                      the network layer, answered ACK/NACK; callbacks via the outbox
POST /on_subscribe    the registry's challenge when the node subscribes
GET  /health          liveness
/api/providers/{id}/… the pôle's management API (:mod:`.api`, one router per feature)
/gestion/…            pages for the pôles' staff (:mod:`.web`, not in the OpenAPI document);
                      ``/`` redirects there
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from reseau_poles.network import InboundMessage, NetworkSettings
from reseau_poles.participant import Migrations, create_node_app, open_node
from reseau_poles.participant.webhook_subscriptions import WebhookSubscriptions
from reseau_poles.portal.errors import internal_error_page
from reseau_poles.portal.routes import install_portal

from .api import ROUTERS
from .api.deps import SellerServices
from .services.api_keys import ApiKeys
from .services.catalog_files import CatalogFiles
from .services.import_jobs import ImportJobs
from .services.orders import PoleOrders
from .services.pick_list import PickLists
from .services.places import Places
from .services.products import Products
from .services.protocol import SellerService
from .services.providers import ProviderProfiles
from .services.stock import Stock
from .services.webhooks import SELLER_EVENTS
from .settings import SellerSettings, load_settings
from .web import ROUTERS as WEB_ROUTERS
from .web.portal import PREFIX as PORTAL_PREFIX
from .web.portal import make_portal

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
        not_supported="Action « {action} » pas encore prise en charge par ce nœud vendeur.",
        transaction_began=service.began,
        pages={PORTAL_PREFIX: internal_error_page},
    )
    factory = service.factory
    catalog_files = CatalogFiles(factory)
    app.state.service = service
    app.state.services = SellerServices(
        protocol=service,
        providers=ProviderProfiles(factory),
        places=Places(factory),
        products=Products(factory),
        stock=Stock(factory),
        catalog_files=catalog_files,
        orders=PoleOrders(factory),
        pick_lists=PickLists(factory),
        webhooks=WebhookSubscriptions(service.webhooks, factory, SELLER_EVENTS),
        api_keys=ApiKeys(factory),
        import_jobs=ImportJobs(factory, catalog_files.gate),
    )
    for router in ROUTERS:  # /api/providers/{provider_id}/…
        app.include_router(router)
    # The pôles' staff pages (/gestion) and their accounts; / leads there.
    install_portal(app, make_portal(factory, settings.public_url), *WEB_ROUTERS)
    return app


def _payload_of(handler: Callable[[Mapping[str, Any]], Any]) -> Callable[[InboundMessage], Any]:
    """The service's handlers take the verified message's parsed body."""
    return lambda message: handler(message.payload)
