"""``create_app(settings)``: the buyer node as a FastAPI application.

Client API (``X-API-Key`` or ``Authorization: Bearer``, one key per buyer organisation):

POST /api/searches              plain parameters → Beckn search sent out; 202 + transaction id
GET  /api/searches/{id}         results so far, merged per provider and item; ``?wait_ms=``;
                                filters and sort (``reseau_poles.buyer.results``)
POST /api/searches/{id}/more    the next page of a truncated pôle (or of each), on demand (``.pages``)
GET  /api/searches/{id}/events  the same as Server-Sent Events, seller by seller (``.sse``)
/api/orders …                   select → init → confirm, then status, track, cancel, update,
                                rating, support; history (``.orders_api``)
/api/webhooks …                 the organisation's webhook subscriptions (order events)

Protocol (signed, verified by the network layer):

POST /on_search                 catalogs of the sellers, stored before the ACK
POST /on_select … /on_support   order callbacks, stored before the ACK (``.orders``)
POST /on_subscribe              the registry's challenge when the node subscribes
GET  /health                    liveness
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from reseau_poles.network import InboundMessage, NetworkSettings
from reseau_poles.network.query import reads_query
from reseau_poles.node import (
    ApiError,
    Migrations,
    create_node_app,
    open_node,
    read_json_object,
    validated,
)
from reseau_poles.node.answers import answers, text_answer
from reseau_poles.node.api import body_doc
from reseau_poles.protocol.errors import ErrorCode

from . import answers as out
from . import sse
from .auth import organisation
from .cart_checkout import CartService
from .cart_preview import router as cart_preview_router
from .carts import router as carts_router
from .intent import SearchParams
from .orders import ORDER_CALLBACKS, OrderService
from .orders_api import router as orders_router
from .orders_api import webhooks_router
from .pages import MoreParams
from .reports import router as reports_router
from .results import QueryError, ResultFilters, ResultQuery, parse_result_query
from .retention import retention_targets
from .service import BuyerService, SearchNotFound
from .settings import BuyerSettings, load_settings
from .sites import router as sites_router

MIGRATIONS = "reseau_poles.buyer.migrations"
VERSION_TABLE = "alembic_version_buyer"
BUYER_MIGRATIONS = Migrations(MIGRATIONS, VERSION_TABLE)
migrate = BUYER_MIGRATIONS.migrate


class Resume(BaseModel):
    last_event_id: str | None = Field(
        default=None,
        description="Reprendre après cet événement (comme l'en-tête `Last-Event-ID`, pour les "
        "clients qui ne peuvent pas le poser).",
    )


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
        # Order callbacks: the database de-duplicates them, an exact copy is ACKed (orders.py).
        replay_exempt_actions=ORDER_CALLBACKS,
        retention_targets=retention_targets(settings),
    )
    service = BuyerService(settings, parts.engine, parts.network)
    orders = OrderService(settings, parts.engine, parts.network, service.waiters)
    carts = CartService(orders)

    def after_ack(message: InboundMessage) -> None:
        service.notify(message.transaction_id)
        parts.network.wake()  # webhook events stored with an order callback

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
    )
    app.state.service = service
    app.state.orders = orders
    app.state.carts = carts
    app.include_router(orders_router)
    app.include_router(webhooks_router)
    app.include_router(sites_router)
    app.include_router(carts_router)
    app.include_router(cart_preview_router)
    app.include_router(reports_router)
    app.state.sse_heartbeat_seconds = sse.HEARTBEAT_SECONDS
    app.state.streams = sse.StreamSlots(settings.max_streams_per_organisation)

    @app.post(
        "/api/searches",
        status_code=202,
        openapi_extra=body_doc(SearchParams, required=False),
        responses=answers(out.SearchStarted, 202, description="La recherche est partie."),
        summary="Chercher dans tous les pôles",
    )
    async def create_search(
        request: Request, organisation_id: str = Depends(organisation)
    ) -> JSONResponse:
        """Lancer une recherche dans les pôles ; les résultats arrivent ensuite."""
        data = await read_json_object(request)
        params = validated(SearchParams, data)
        started = await service.start_search(organisation_id, params)
        tx = started["transaction_id"]
        return JSONResponse(
            {**started, "results_url": f"/api/searches/{tx}"},
            status_code=202,
            headers={"Location": f"/api/searches/{tx}"},
        )

    def wait_of(wait_ms: str | None, default: int = 0) -> int:
        if wait_ms is None:
            return default
        if not wait_ms.isdigit():
            raise ApiError(
                400, "parametres_invalides", "wait_ms : entier positif attendu.", "wait_ms"
            )
        return min(int(wait_ms), settings.max_wait_ms)

    def result_query(request: Request, *extra: str) -> ResultQuery:
        try:
            return parse_result_query(
                request.query_params.multi_items(), ignore=("wait_ms", *extra)
            )
        except QueryError as exc:
            raise ApiError(400, "parametres_invalides", exc.message, exc.path) from None

    def unknown_search() -> ApiError:
        return ApiError(404, "recherche_inconnue", "Recherche inconnue.", "transaction_id")

    @app.get(
        "/api/searches/{transaction_id}",
        responses=answers(out.SearchResults),
        summary="Résultats d'une recherche",
    )
    @reads_query(ResultFilters)
    async def read_search(
        request: Request,
        transaction_id: str,
        organisation_id: str = Depends(organisation),
        wait_ms: str | None = None,
    ) -> dict[str, Any]:
        """Les résultats reçus jusqu'ici ; ``wait_ms`` : attendre tous les vendeurs visés.
        Filtres et tri : voir ``reseau_poles.buyer.results`` (certification, conservation,
        origin, provider, unit, min_unit_price, max_unit_price, sort)."""
        query = result_query(request)
        try:
            return await service.view(organisation_id, transaction_id[:64], wait_of(wait_ms), query)
        except SearchNotFound:
            raise unknown_search() from None

    @app.post(
        "/api/searches/{transaction_id}/more",
        openapi_extra=body_doc(MoreParams, required=False),
        responses=answers(
            out.MoreSent, 200, 202, description="202 : pages demandées ; 200 : rien à demander."
        ),
        summary="Page suivante des résultats d'un pôle",
    )
    async def more_results(
        request: Request, transaction_id: str, organisation_id: str = Depends(organisation)
    ) -> JSONResponse:
        """La suite des articles d'un pôle (``{"provider": "pole-beauce"}``, id de pôle ou de
        nœud vendeur) ou de chaque pôle dont les résultats sont partiels (corps vide) : une
        recherche signée au nœud vendeur, page suivante ; 202 et les pages demandées, puis
        ``GET /api/searches/{id}?wait_ms=…`` pour les lire."""
        params = validated(MoreParams, await read_json_object(request))
        tx = transaction_id[:64]
        providers = frozenset({params.provider} if params.provider else ())
        try:
            sent = await service.more(organisation_id, tx, providers, params.size)
        except SearchNotFound:
            raise unknown_search() from None
        known = {p["provider_id"] for p in sent["poles"]} | {p["bpp_id"] for p in sent["poles"]}
        if params.provider and params.provider not in known:
            raise ApiError(
                404,
                "pole_inconnu",
                f"Aucun pôle « {params.provider} » dans les réponses de cette recherche.",
                "provider",
            )
        return JSONResponse(
            sent,
            status_code=202 if sent["pages"] else 200,
            headers={"Location": sent["results_url"]},
        )

    @app.get(
        "/api/searches/{transaction_id}/events",
        response_class=StreamingResponse,
        responses=text_answer(
            "Server-Sent Events, UTF-8, un objet JSON par ligne `data:`. `event: resultats` "
            "(`id:` croissant) : un par réponse `on_search` enregistrée — le vendeur, ce que "
            "cette réponse apporte (pôles et articles, mêmes filtres et tri que la lecture "
            "simple), par pôle ce qui est trouvé et reçu jusqu'ici, et où en est la recherche. "
            "`event: fin`, une fois, en dernier (`raison` : `complete`, `echec`, `expiree` ou "
            "`delai`), avec l'avancement de la recherche ; le flux se ferme ensuite. "
            "`: ping` en commentaire quand rien n'arrive.",
            "text/event-stream",
        ),
        summary="Résultats au fil de l'eau (SSE)",
    )
    @reads_query(ResultFilters, Resume)
    async def search_events(
        request: Request,
        transaction_id: str,
        organisation_id: str = Depends(organisation),
        wait_ms: str | None = None,
        last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    ) -> Response:
        """Les résultats en Server-Sent Events, vendeur par vendeur (``resultats`` : ce que
        chaque réponse apporte), puis ``fin`` ; reprise avec ``Last-Event-ID``. Mêmes filtres
        que la lecture simple. Au plus ``max_streams_per_organisation`` flux ouverts à la fois
        par organisation : au-delà, 429 ``trop_de_flux``."""
        query = result_query(request, "last_event_id")
        wait = wait_of(wait_ms, settings.max_wait_ms)
        resume = last_event_id_header
        path = "headers.Last-Event-ID"
        if resume is None and "last_event_id" in request.query_params:
            resume, path = request.query_params["last_event_id"], "last_event_id"
        after = 0
        if resume is not None and resume.strip():
            if not resume.strip().isdigit() or len(resume.strip()) > 18:
                raise ApiError(
                    400,
                    "parametres_invalides",
                    "Last-Event-ID : identifiant d'événement (entier) attendu.",
                    path,
                )
            after = int(resume.strip())
        tx = transaction_id[:64]
        streams: sse.StreamSlots = app.state.streams
        if not streams.take(organisation_id):
            refused = ApiError(
                429,
                "trop_de_flux",
                f"Trop de flux ouverts pour cette organisation (au plus {streams.limit} à la "
                "fois) : fermez-en un (EventSource.close() à « fin ») ou réessayez plus tard.",
                "transaction_id",
            )
            return JSONResponse(
                refused.body(),
                status_code=429,
                headers={"Retry-After": str(sse.RETRY_AFTER_SECONDS)},
            )
        watch = service.waiters.join(tx)

        def release() -> None:
            service.waiters.leave(tx, watch)
            streams.give_back(organisation_id)

        lease = sse.Lease(release)
        try:
            signal, first = await sse.first_changes(service, watch, organisation_id, tx, after)
        except SearchNotFound:
            lease.release()
            raise unknown_search() from None
        except BaseException:
            lease.release()
            raise
        stream = sse.search_events(
            service,
            organisation_id,
            tx,
            query,
            first,
            watch=watch,
            signal=signal,
            after=after,
            wait_seconds=wait / 1000,
            lease=lease,
            heartbeat=app.state.sse_heartbeat_seconds,
        )
        return StreamingResponse(
            sse.guarded(stream, lease), media_type=sse.MEDIA_TYPE, headers=sse.HEADERS
        )

    return app
