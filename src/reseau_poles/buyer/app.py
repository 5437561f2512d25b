"""``create_app(settings)``: the buyer node as a FastAPI application — wiring only: settings →
engine and network (``open_node``) → services → routers (:mod:`.api`).

Client API (``X-API-Key`` or ``Authorization: Bearer``, one key per buyer organisation):

/api/searches …                 search every pôle at once: results merged per provider and
                                item, filters and sort, follow-up pages, Server-Sent Events
                                (``.api.searches``)
/api/orders …                   select → init → confirm, then status, track, cancel, update,
                                rating, support; history (``.api.orders``)
/api/webhooks …                 the organisation's webhook subscriptions (order events)
/api/sites …, /api/carts …      delivery sites; multi-pôle carts, one order per pôle
/api/reports …                  the local-purchasing report

Pages for people (``.web``, not in the OpenAPI document): ``/portail/…`` (sign-in, home,
accounts; orders and their live follow-up, order guides, the local-purchasing report …),
``/static/portal/…``; ``/`` redirects to ``/portail/``.

Protocol (signed, verified by the network layer):

POST /on_search                 catalogs of the sellers, stored before the ACK
POST /on_select … /on_support   order callbacks, stored before the ACK (``.services.order_callbacks``)
POST /on_subscribe              the registry's challenge when the node subscribes
GET  /health                    liveness
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from reseau_poles.network import InboundMessage, NetworkSettings
from reseau_poles.participant import Migrations, create_node_app, open_node
from reseau_poles.portal.errors import internal_error_page
from reseau_poles.portal.routes import install_portal
from reseau_poles.protocol.errors import ErrorCode

from .api import ROUTERS
from .services import sse
from .services.cart_checkout import CartService
from .services.guides import GuideService
from .services.order_callbacks import ORDER_CALLBACKS
from .services.orders import OrderService
from .services.reports import ReportService
from .services.retention import retention_targets
from .services.searches import BuyerService
from .services.sites import SiteService
from .settings import BuyerSettings, load_settings
from .web import ROUTERS as WEB_ROUTERS
from .web.portal import PREFIX as PORTAL_PREFIX
from .web.portal import make_portal

MIGRATIONS = "reseau_poles.buyer.migrations"
VERSION_TABLE = "alembic_version_buyer"
BUYER_MIGRATIONS = Migrations(MIGRATIONS, VERSION_TABLE)
migrate = BUYER_MIGRATIONS.migrate


def create_app(
    settings: BuyerSettings | None = None,
    *,
    network_settings: NetworkSettings | None = None,
    engine: Engine | None = None,
) -> FastAPI:
    settings = settings or load_settings()
    parts = open_node(
        settings,
        "BAP",
        BUYER_MIGRATIONS,
        network_settings=network_settings,
        engine=engine,
        # Order callbacks: the database de-duplicates them, an exact copy is ACKed (services/order_callbacks.py).
        replay_exempt_actions=ORDER_CALLBACKS,
        retention_targets=retention_targets(settings),
    )
    service = BuyerService(settings, parts.engine, parts.network)
    orders = OrderService(settings, parts.engine, parts.network, service.waiters)
    carts = CartService(orders)

    def after_ack(message: InboundMessage) -> None:
        service.notify(message.transaction_id)

    async def close() -> None:
        await carts.aclose()  # checkouts still running: a later call resumes them
        await orders.aclose()
        await service.aclose()

    app = create_node_app(
        parts,
        title="Réseau Pôles — nœud acheteur",
        description=(
            "Nœud acheteur (BAP) : recherche dans tous les pôles à la fois pour les "
            "applications et les acheteurs institutionnels, sur le protocole Beckn 1.1."
        ),
        handlers={
            "on_search": service.receive_on_search,
            **dict.fromkeys(ORDER_CALLBACKS, orders.receive),
        },
        after_ack=after_ack,
        on_close=close,
        invalid_code=ErrorCode.BUYER_INVALID_RESPONSE,
        not_supported="« {action} » pas encore pris en charge par ce nœud acheteur.",
        transaction_began=orders.began,
        # A search (and a follow-up page) goes to every matching seller: the stricter bucket.
        costly_routes=[("POST", "/api/searches"), ("POST", "/api/searches/{transaction_id}/more")],
        pages={PORTAL_PREFIX: internal_error_page},
    )
    # What the routes get by dependency (api/deps.py).
    app.state.service = service
    app.state.orders = orders
    app.state.carts = carts
    app.state.sites = SiteService(service.factory)
    app.state.reports = ReportService(service.factory)
    app.state.guides = GuideService(service.factory, carts)
    app.state.sse_heartbeat_seconds = sse.HEARTBEAT_SECONDS
    app.state.streams = sse.StreamSlots(settings.max_streams_per_organisation)
    for router in ROUTERS:
        app.include_router(router)
    # The institutions' pages (/portail) and their accounts; / leads there.
    install_portal(app, make_portal(service.factory, settings.public_url), *WEB_ROUTERS)
    return app
