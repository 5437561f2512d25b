"""``create_app(settings)``: the gateway as an ASGI application, wired.

``POST /search`` is the hot path: the network layer's one pipeline with the gateway's steps
(:meth:`GatewayService.build_pipeline`), mounted as raw ASGI in front of FastAPI's routing
(:func:`reseau_poles.network.pipeline.mount`) and documented from the same declaration
(:data:`.api.search.SEARCH_DOCS`). ``/on_subscribe`` and ``/health`` are every participant's
(:mod:`reseau_poles.participant.routes`); the gateway's own routes are in :mod:`.api`, one
router per feature.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from reseau_poles.api_docs import NO_CDN_DOCS, serve_contract
from reseau_poles.keystore import KeyFiles
from reseau_poles.network.acks import JSON_CONTENT_TYPE, Refusal, http_error_message, nack_body
from reseau_poles.network.bodyguard import JsonBodyGuard
from reseau_poles.network.inbound import install
from reseau_poles.network.pipeline import mount
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
from .answers import GatewayHealth
from .api import ROUTERS
from .api.search import SEARCH_DOCS
from .service import GatewayService
from .settings import GatewaySettings, load_settings


def _unknown_query(name: str, message: str) -> Refusal:
    error = ProtocolError(message, code=ErrorCode.GATEWAY_INVALID_REQUEST, path=name)
    return Refusal(error, status_code=400)


def _nack(
    status: int, message: str, path: str | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    error = ProtocolError(message, code=ErrorCode.GATEWAY_INVALID_REQUEST, path=path)
    return Response(
        nack_body(error), status_code=status, headers=headers, media_type=JSON_CONTENT_TYPE
    )


async def _http_error(_request: Request, exc: Exception) -> Response:
    """The routing's own errors (unknown address, wrong method): a NACK, not FastAPI's
    ``{"detail": …}``."""
    assert isinstance(exc, StarletteHTTPException)
    message = http_error_message(exc.status_code, exc.detail, exc.headers)
    return _nack(exc.status_code, message, headers=exc.headers)


def _refuse_body(status: int, _code: str, message: str, at: str, _path: str) -> Response:
    """How the JSON body guard refuses the registry's challenge."""
    return _nack(status, message, at)


def create_app(
    settings: GatewaySettings | None = None,
    *,
    identity: SubscriberKeys | None = None,
    service: GatewayService | None = None,
) -> FastAPI:
    """The service. Its keys come from ``settings.key_dir`` (created at first run) unless
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
            "service.start",
            subscriber_id=service.identity.subscriber_id,
            registry=settings.registry_url,
        )
        service.lookup.start_watch(settings.registry_watch_interval)
        try:
            async with watching_key(key_watch):
                yield
        finally:
            await service.aclose()
            logs.event("service.stop", subscriber_id=service.identity.subscriber_id)

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
    app.state.service = service  # read by .api.deps only
    app.state.settings = settings
    install(app, service.inbound)
    app.add_exception_handler(StarletteHTTPException, _http_error)

    # The registry's challenge and /health, as every participant answers them.
    add_on_subscribe(
        app,
        settings,
        service.identity,
        invalid_code=ErrorCode.GATEWAY_INVALID_REQUEST,
        unreadable="défi illisible ou non destiné à cette passerelle",
        answered=lambda body: logs.event(
            "service.challenge_answered", registry_subscriber=body.get("subscriber_id")
        ),
        summary="Défi du registre (boîte scellée ou schéma ONDC)",
        responses=answers(ChallengeAnswer),
        transcript=service.transcript,
    )
    add_health(
        app,
        key_watch,
        service.health,
        summary="État de la passerelle",
        responses=answers(GatewayHealth),
    )
    for router in ROUTERS:  # /metrics, /searches
        app.include_router(router)

    # The registry's challenge (the search has the pipeline's own limit and guard).
    app.add_middleware(
        JsonBodyGuard,
        max_bytes=65_536,
        refuse=_refuse_body,
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
