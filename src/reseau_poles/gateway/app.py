"""``create_app(settings)``: the gateway as an ASGI application.

``POST /search`` is the hot path: the network layer's one pipeline with the gateway's steps
(:meth:`GatewayService.build_pipeline`), mounted as raw ASGI in front of FastAPI's routing
(:func:`reseau_poles.network.pipeline.mount`) and documented from the same declaration
(:data:`SEARCH_DOCS`). The other routes are FastAPI's.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reseau_poles.api_docs import NO_CDN_DOCS, serve_contract
from reseau_poles.keystore import KeyFiles
from reseau_poles.network.acks import JSON_CONTENT_TYPE, Refusal, http_error_message, nack_body
from reseau_poles.network.bodyguard import JsonBodyGuard
from reseau_poles.network.inbound import install
from reseau_poles.network.pipeline import ProtocolDocs, beckn_example, mount
from reseau_poles.network.query import refuse_unknown_query
from reseau_poles.participant.answers import ChallengeAnswer, answers
from reseau_poles.participant.routes import (
    add_health,
    add_on_subscribe,
    key_expiry_watch,
    watching_key,
)
from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.keys import SubscriberKeys

from . import logs
from .answers import GatewayHealth, SearchStatistics, SearchSummary
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .service import GatewayService
from .settings import GatewaySettings, load_settings

# ``POST /search`` in the gateway's OpenAPI document, declared beside the pipeline it serves.
SEARCH_DOCS = ProtocolDocs(
    path="/search",
    summary="Recherche d'un nœud acheteur (Beckn 1.1 search)",
    description=(
        "Corps : message Beckn `search` ; en-tête `Authorization` signé par "
        "`context.bap_id` (BECKN-006). Réponse : ACK immédiat, ou NACK avec code 10000 "
        "(requête), 10001 (signature), 10002 (région), 10003 (limite de débit)."
    ),
    operation_id="search_search_post",
    examples=lambda: {
        "search": beckn_example("search", "search : recherche diffusée aux nœuds vendeurs")
    },
    answers={
        "400": "NACK : requête invalide",
        "401": "NACK : signature invalide ou rejeu",
        "413": "NACK : corps trop volumineux",
        "429": "NACK : limite de débit (10003)",
    },
)


def _unknown_query(name: str, message: str) -> Refusal:
    error = ProtocolError(message, code=ErrorCode.GATEWAY_INVALID_REQUEST, path=name)
    return Refusal(error, status_code=400)


def create_app(
    settings: GatewaySettings | None = None,
    *,
    identity: SubscriberKeys | None = None,
    service: GatewayService | None = None,
) -> FastAPI:
    """The gateway. Its keys come from ``settings.key_dir`` (created at first run) unless
    ``identity`` is given."""
    settings = settings or load_settings()
    logs.configure(settings.log_level, settings.log_format)
    if service is None:
        identity = identity or KeyFiles(settings.key_dir).load_or_generate(settings.subscriber_id)
        service = GatewayService(settings, identity)
    key_watch = key_expiry_watch(settings, service.identity, "reseau-poles gateway rotate-key")

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        logs.event(
            "gateway.start",
            subscriber_id=service.identity.subscriber_id,
            registry=settings.registry_url,
        )
        service.lookup.start_watch(settings.registry_watch_interval)
        try:
            async with watching_key(key_watch):
                yield
        finally:
            await service.aclose()
            logs.event("gateway.stop", subscriber_id=service.identity.subscriber_id)

    app = FastAPI(
        title="Réseau Pôles — passerelle",
        description=(
            "Passerelle (BG) du réseau : reçoit les recherches signées des nœuds acheteurs, "
            "les accuse réception, puis les diffuse aux nœuds vendeurs du domaine et de la "
            "région, avec la signature de l'acheteur et la sienne (X-Gateway-Authorization). "
            "Aucun catalogue n'est gardé ; les on_search vont directement à l'acheteur."
        ),
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[refuse_unknown_query(_unknown_query, under="/searches")],
        **NO_CDN_DOCS,
    )
    serve_contract(app, "gateway")
    app.state.service = service
    app.state.settings = settings
    install(app, service.inbound)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        message = http_error_message(exc.status_code, exc.detail, exc.headers)
        error = ProtocolError(message, code=ErrorCode.GATEWAY_INVALID_REQUEST)
        return Response(
            nack_body(error),
            status_code=exc.status_code,
            headers=exc.headers,
            media_type=JSON_CONTENT_TYPE,
        )

    # The registry's challenge and /health, as every participant answers them.
    add_on_subscribe(
        app,
        settings,
        service.identity,
        invalid_code=ErrorCode.GATEWAY_INVALID_REQUEST,
        unreadable="défi illisible ou non destiné à cette passerelle",
        answered=lambda body: logs.event(
            "gateway.challenge_answered", registry_subscriber=body.get("subscriber_id")
        ),
        summary="Défi du registre (boîte scellée ou schéma ONDC)",
        responses=answers(ChallengeAnswer),
    )
    add_health(
        app,
        key_watch,
        service.health,
        summary="État de la passerelle",
        responses=answers(GatewayHealth),
    )

    @app.get("/metrics", summary="Métriques Prometheus", response_class=PlainTextResponse)
    async def metrics() -> Response:
        return Response(service.render_metrics(), media_type=METRICS_CONTENT_TYPE)

    @app.get(
        "/searches",
        summary="Dernières recherches (statistiques)",
        responses=answers(list[SearchSummary], description="Les plus récentes d'abord."),
    )
    async def searches(
        limit: int = Query(50, description="Combien (ramené entre 1 et 1000)."),
    ) -> list[dict[str, Any]]:
        return service.stats.recent(max(1, min(limit, 1000)))

    @app.get(
        "/searches/{message_id}",
        summary="Statistiques d'une recherche",
        responses=answers(SearchStatistics),
    )
    async def search_stats(message_id: str) -> Response:
        found = await service.stats.get(message_id)
        if found is None:
            error = ProtocolError(
                f"recherche inconnue (ou trop ancienne) : {message_id[:64]}",
                code=ErrorCode.GATEWAY_INVALID_REQUEST,
                path="message_id",
            )
            return Response(nack_body(error), status_code=404, media_type=JSON_CONTENT_TYPE)
        return JSONResponse(found)

    def refuse(status: int, _code: str, message: str, at: str, _path: str) -> Response:
        error = ProtocolError(message, code=ErrorCode.GATEWAY_INVALID_REQUEST, path=at)
        return Response(nack_body(error), status_code=status, media_type=JSON_CONTENT_TYPE)

    # The registry's challenge (the search has the pipeline's own limit and guard).
    app.add_middleware(
        JsonBodyGuard,
        max_bytes=65_536,
        refuse=refuse,
        skip=lambda path: path != "/on_subscribe",
    )
    # Added last: the outermost layer, in front of FastAPI's routing.
    mount(
        app,
        service.pipeline,
        role="BG",
        docs=SEARCH_DOCS,
        transcript=service.transcript,
        observe=service.answered,
    )
    return app
