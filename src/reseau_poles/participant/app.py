"""The frame of a node's FastAPI application.

``open_node`` opens what a node runs on (engine, migrations, keys, network layer);
``create_node_app`` builds the application around a role's protocol handlers:

GET  /health          liveness, and when our key expires (KeyExpiryWatch)
POST /on_subscribe    the registry's challenge, sealed to our encryption key (or to the key
                      that ``rotate-key`` is registering), or in ONDC's scheme
POST /{action}        Beckn calls or callbacks: the network layer's one pipeline
                      (:mod:`reseau_poles.network.pipeline`, raw ASGI in front of FastAPI),
                      whose last step hands the message to the role's handler (sync, run on
                      the protocol threads), then ACK; a handler's ``ProtocolError`` becomes a
                      NACK with its code and path
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from reseau_poles.api_docs import NO_CDN_DOCS, serve_contract
from reseau_poles.keystore import KeyFiles
from reseau_poles.network import (
    InboundMessage,
    NetworkSettings,
    NodeNetwork,
    PurgeTarget,
    Refusal,
    nack_body,
)
from reseau_poles.network.acks import http_error_message
from reseau_poles.network.answers import DATABASE_UNAVAILABLE
from reseau_poles.network.bodyguard import JsonBodyGuard, Refuse
from reseau_poles.network.pipeline import ProtocolDocs, beckn_example
from reseau_poles.network.query import refuse_unknown_query
from reseau_poles.participant.answers import ChallengeAnswer, NodeHealth, answers
from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.signing import Signer
from reseau_poles.storage import make_engine, upgrade

from .api import ApiError, validation_error
from .limits import ApiLimits, EarlyRefusal
from .routes import add_health, add_on_subscribe, key_expiry_watch, watching_key
from .settings import NodeSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migrations:
    """A role's Alembic package and version table."""

    package: str
    version_table: str

    def migrate(self, engine_or_url: Engine | str) -> str | None:
        """Upgrade the role's tables to the newest revision; returns it."""
        if isinstance(engine_or_url, Engine):
            return upgrade(engine_or_url, self.package, self.version_table)
        engine = make_engine(engine_or_url)
        try:
            return upgrade(engine, self.package, self.version_table)
        finally:
            engine.dispose()


@dataclass
class NodeParts:
    """What a node runs on; ``own_engine`` when it made the engine and must dispose of it."""

    settings: NodeSettings
    engine: Engine
    own_engine: bool
    keys: SubscriberKeys
    network: NodeNetwork


def open_node(
    settings: NodeSettings,
    role: Literal["BAP", "BPP"],
    migrations: Migrations,
    *,
    network_settings: NetworkSettings | None = None,
    engine: Engine | None = None,
    replay_exempt_actions: Iterable[str] = (),
    retention_targets: Sequence[PurgeTarget] = (),
) -> NodeParts:
    """Engine (migrated when ``auto_migrate``), keys (generated at first run) and network.

    ``replay_exempt_actions``: the role's actions whose handler de-duplicates by message id
    itself (durably, an exact copy ACKed again, another body refused); the network's window
    replay guard leaves them to it (:class:`~reseau_poles.network.NodeNetwork`).
    ``retention_targets``: the role's own old rows for the background purge."""
    own_engine = engine is None
    engine = engine or make_engine(settings.database_url)
    if settings.auto_migrate:
        migrations.migrate(engine)
    keys = KeyFiles(settings.key_dir).load_or_generate(settings.subscriber_id)
    network = NodeNetwork(
        subscriber_id=settings.subscriber_id,
        role=role,
        signer=Signer(keys.subscriber_id, keys.key_id, keys.signing),
        settings=network_settings or settings.network_settings(),
        engine=engine,
        replay_exempt_actions=replay_exempt_actions,
        retention_targets=retention_targets,
    )
    return NodeParts(settings, engine, own_engine, keys, network)


Handler = Callable[[InboundMessage], Any]


API_PREFIX = "/api"
PROTOCOL_THREADS = 4


def _api_failures_as_api_errors(app: FastAPI) -> None:
    """On ``/api``, FastAPI's own validation errors, an unreachable database and anything
    unexpected answer in the client API's format (``{"error": {code, message, path}}``), not
    as a protocol NACK; elsewhere the network layer's handlers answer as before."""
    handlers = app.exception_handlers

    def wrap(kind: type[Exception], answer: Callable[[Exception], ApiError]) -> None:
        # The network layer's handlers are coroutines.
        protocol = cast(Callable[[Request, Exception], Awaitable[Response]], handlers[kind])

        async def handler(request: Request, exc: Exception) -> Response:
            if not request.url.path.startswith(API_PREFIX):
                return await protocol(request, exc)
            error = answer(exc)
            response = error.response()
            if error.status == 503:
                response.headers["Retry-After"] = "1"
            return response

        app.add_exception_handler(kind, handler)

    def invalid(exc: Exception) -> ApiError:
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        return validation_error(errors)

    def unavailable(_exc: Exception) -> ApiError:
        return ApiError(
            503, "base_indisponible", "Base de données momentanément indisponible ; réessayez."
        )

    wrap(RequestValidationError, invalid)
    for kind in DATABASE_UNAVAILABLE:
        wrap(kind, unavailable)


_HTTP_ERROR_CODES = {404: "adresse_inconnue", 405: "methode_non_permise"}


def _http_errors_in_each_format(app: FastAPI, invalid_code: ErrorCode) -> None:
    """The routing's own errors (unknown address 404, wrong method 405): on ``/api`` in the
    client API's format, elsewhere a NACK, as the registry and the gateway answer them; never
    FastAPI's ``{"detail": …}``."""

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith(API_PREFIX):
            code = _HTTP_ERROR_CODES.get(exc.status_code, "requete_invalide")
            where = f"{request.method} {request.url.path[:200]}"
            text = http_error_message(exc.status_code, exc.detail, exc.headers, where)
            text = f"{text[:1].upper()}{text[1:]}."
            response: Response = ApiError(exc.status_code, code, text).response()
        else:
            message = http_error_message(exc.status_code, exc.detail, exc.headers)
            error = ProtocolError(message, code=invalid_code)
            response = Response(
                nack_body(error), status_code=exc.status_code, media_type="application/json"
            )
        response.headers.update(exc.headers or {})
        return response


def _unknown_query(name: str, message: str) -> ApiError:
    return ApiError(400, "parametres_invalides", message, f"query.{name}")


def _internal_api_error() -> Response:
    return ApiError(
        500, "erreur_interne", "Erreur interne du nœud ; réessayez plus tard."
    ).response()


def _nack(message: str, path: str, code: ErrorCode, status: int = 400) -> Response:
    error = ProtocolError(message, code=code, path=path)
    return Response(nack_body(error), status_code=status, media_type="application/json")


def _body_refusal(invalid_code: ErrorCode) -> Refuse:
    """How the JSON body guard answers: the API's error shape under ``/api``, a NACK else."""

    def refuse(status: int, code: str, message: str, at: str, path: str) -> Response:
        if path.startswith(API_PREFIX):
            return ApiError(status, code, message, at).response()
        return _nack(message, at, invalid_code, status)

    return refuse


def create_node_app(
    parts: NodeParts,
    *,
    title: str,
    description: str,
    handlers: Mapping[str, Handler],
    after_ack: Callable[[InboundMessage], None] | None = None,
    on_close: Callable[[], Awaitable[None]] | None = None,
    invalid_code: ErrorCode = ErrorCode.INVALID_REQUEST,
    not_supported: str = "Action « {action} » non prise en charge par ce nœud.",
    transaction_began: Callable[[InboundMessage], datetime | None] | None = None,
    costly_routes: Iterable[tuple[str, str]] = (),
    pages: Mapping[str, Callable[[], Response]] | None = None,
) -> FastAPI:
    """The application: health, challenge, and ``POST /{action}`` dispatched to ``handlers``
    (each gets the verified message, runs in a thread, may raise ``ProtocolError``);
    ``after_ack`` runs after a handler succeeded (wake the outbox, notify waiters).

    ``transaction_began(message)``: when this node began the message's transaction with its
    sender (an order it holds), ``None`` for one it does not know. A message from a suspended
    participant in its grace period passes only for a transaction begun before its
    suspension; without this function, never.

    ``costly_routes``: (method, path template) of the ``/api`` routes that take from the
    stricter rate limit as well (:mod:`reseau_poles.participant.limits`).

    ``pages``: the path prefixes of the role's web pages (``/portail``), each with its answer
    to an unexpected failure (an HTML page, :func:`reseau_poles.portal.errors.internal_error_page`);
    nothing under them goes to the transcript (a sign-in form carries a password)."""
    settings, network, keys = parts.settings, parts.network, parts.keys
    role_command = {"BPP": "seller", "BAP": "buyer"}.get(network.role, "…")
    key_watch = key_expiry_watch(settings, keys, f"reseau-poles {role_command} rotate-key")

    # Protocol handlers (each a database write) get their own threads: a burst of callbacks
    # (25 on_search at once) queues there instead of filling asyncio's default pool, which
    # the client API's reads (results, SSE, API keys) keep for themselves.
    protocol_threads = ThreadPoolExecutor(
        max_workers=PROTOCOL_THREADS, thread_name_prefix="protocole"
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with network:
            async with watching_key(key_watch):
                yield
            if on_close is not None:
                await on_close()
            await api_limits.aclose()
        protocol_threads.shutdown(wait=False, cancel_futures=True)
        if parts.own_engine:
            parts.engine.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        **NO_CDN_DOCS,
        # Every route added to the app, here or by the role, refuses unknown query parameters.
        dependencies=[refuse_unknown_query(_unknown_query, under=API_PREFIX)],
    )
    serve_contract(app, {"BPP": "seller", "BAP": "buyer"}[network.role])
    app.state.settings = settings
    app.state.network = network
    app.state.keys = keys
    app.state.key_watch = key_watch
    app.state.engine = parts.engine
    api_limits = app.state.api_limits = ApiLimits.from_settings(
        settings, redis_url=network.settings.redis_url, costly_routes=costly_routes
    )
    network.install(
        app,
        unexpected_by_prefix={API_PREFIX: _internal_api_error, **(pages or {})},
    )
    _api_failures_as_api_errors(app)
    _http_errors_in_each_format(app, invalid_code)

    @app.exception_handler(ApiError)
    async def on_api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    add_health(
        app,
        key_watch,
        lambda: {"status": "ok", "subscriber_id": settings.subscriber_id},
        tags=["exploitation"],
        responses=answers(NodeHealth),
        summary="État du nœud",
        description="Vivacité du nœud, et l'échéance de sa clé selon le registre (``key``).",
    )
    add_on_subscribe(
        app,
        settings,
        keys,
        invalid_code=invalid_code,
        transcript=network.transcript,
        tags=["protocole"],
        responses=answers(ChallengeAnswer),
        summary="Défi du registre (boîte scellée ou schéma ONDC)",
        description="Défi du registre, chiffré pour notre clé (boîte scellée, ou schéma ONDC) "
        ": on\nrenvoie le clair (registry/README.md, « Le contrat /on_subscribe »).",
    )

    async def check_grace(message: InboundMessage) -> None:
        """A suspended sender: only for a transaction begun before its suspension."""
        record = message.signer_record
        began = None
        if transaction_began is not None:
            began = await asyncio.get_running_loop().run_in_executor(
                protocol_threads, transaction_began, message
            )
        if began is None or record.suspended_at is None or began.timestamp() >= record.suspended_at:
            raise network.inbound.suspended_refusal(record)

    async def handle(message: InboundMessage) -> None:
        """The pipeline's last step: the role's handler on its thread, then ``after_ack``; a
        handler's ``ProtocolError`` is its NACK."""
        handler = handlers.get(message.action)
        if handler is None:
            raise Refusal(
                ProtocolError(
                    not_supported.format(action=message.action[:40]),
                    code=ErrorCode.ACTION_NOT_APPLICABLE,
                    path="context.action",
                ),
                status_code=400,
            )
        if message.signer_record.suspended:
            await check_grace(message)
        await asyncio.get_running_loop().run_in_executor(protocol_threads, handler, message)
        if after_ack is not None:
            after_ack(message)

    # Every JSON body of the API (and the registry's challenge) before any route parses it;
    # protocol calls have the inbound pipeline's own limit and guard.
    app.add_middleware(
        JsonBodyGuard,
        max_bytes=settings.api_max_body_bytes,
        refuse=_body_refusal(invalid_code),
        skip=lambda path: not (path.startswith(API_PREFIX) or path == "/on_subscribe"),
    )
    # A key past its rate is refused before its body is read (participant/limits.py).
    app.add_middleware(EarlyRefusal, limits=api_limits, prefix=API_PREFIX)
    # Added last: the outermost of our layers, in front of FastAPI's routing.
    network.serve_protocol(app, handle, docs=PROTOCOL_DOCS[network.role])
    return app


def _examples(*actions: tuple[str, str]) -> Callable[[], dict[str, dict[str, Any]]]:
    return lambda: {action: beckn_example(action, summary) for action, summary in actions}


_ACTION_NOTE = "L'action est le dernier segment du chemin ({paths} …) et vaut `context.action`."
# ``POST /{action}`` in each node's OpenAPI document, declared beside the pipeline it serves.
PROTOCOL_DOCS: dict[str, ProtocolDocs] = {
    "BPP": ProtocolDocs(
        path="/{action}",
        summary="Requête Beckn d'un nœud acheteur",
        description="Message Beckn signé (BECKN-006) : ACK une fois enregistré, sinon NACK.\n\n"
        + _ACTION_NOTE.format(paths="`/search`, `/select`, `/confirm`"),
        operation_id="receive__action__post",
        tags=("protocole",),
        examples=_examples(
            ("search", "search : recherche de sirop d'érable en Capitale-Nationale"),
            ("select", "select : demande de devis (TPS et TVQ)"),
            ("init", "init : facturation et livraison"),
            ("confirm", "confirm : la commande ferme"),
            ("status", "status : où en est la commande"),
        ),
    ),
    "BAP": ProtocolDocs(
        path="/{action}",
        summary="Rappel Beckn d'un nœud vendeur",
        description="Message Beckn signé (BECKN-006) : ACK une fois enregistré, sinon NACK.\n\n"
        + _ACTION_NOTE.format(paths="`/on_search`, `/on_select`"),
        operation_id="receive__action__post",
        tags=("protocole",),
        examples=_examples(
            ("on_search", "on_search : le catalogue d'un pôle"),
            ("on_select", "on_select : le devis"),
            ("on_confirm", "on_confirm : la commande acceptée"),
            ("on_status", "on_status : l'avancement de la livraison"),
        ),
    ),
}
