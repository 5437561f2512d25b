"""``create_app(settings)``: the registry as a FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reseau_poles.api_docs import NO_CDN_DOCS, serve_contract
from reseau_poles.keystore import KeyFiles
from reseau_poles.network.acks import http_error_message
from reseau_poles.network.answers import AnswerUnexpected
from reseau_poles.network.bodyguard import JsonBodyGuard
from reseau_poles.protocol.errors import ErrorCode, ProtocolError, SignatureError
from reseau_poles.storage import make_engine, upgrade

from .api import ROUTERS
from .auth import WWW_AUTHENTICATE, OperatorAuth
from .requests import validation_nack
from .services import RegistryServices
from .settings import RegistrySettings, load_settings

MIGRATIONS = "reseau_poles.registry.migrations"
VERSION_TABLE = "alembic_version_registry"


def migrate(database_url: str) -> str | None:
    """Upgrade the registry's tables to the newest revision; returns it."""
    engine = make_engine(database_url)
    try:
        return upgrade(engine, MIGRATIONS, VERSION_TABLE)
    finally:
        engine.dispose()


def _nack(exc: ProtocolError, status: int) -> JSONResponse:
    headers = dict(getattr(exc, "headers", None) or {})  # RegistryError: 429's Retry-After
    if status == 401:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    return JSONResponse(exc.to_nack(), status_code=status, headers=headers or None)


def install_error_handlers(app: FastAPI) -> None:
    """Errors are answers: a NACK with a code and a path, never a stack trace."""

    @app.exception_handler(ProtocolError)
    async def protocol_error(_request: Request, exc: ProtocolError) -> JSONResponse:
        status = 401 if isinstance(exc, SignatureError) else exc.http_status
        return _nack(exc, status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _nack(validation_nack(list(exc.errors()), strip=1), 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = (
            ErrorCode.REGISTRY_NOT_FOUND
            if exc.status_code == 404
            else (ErrorCode.REGISTRY_INVALID_REQUEST)
        )
        message = http_error_message(exc.status_code, exc.detail, exc.headers)
        response = _nack(ProtocolError(message, code=code), exc.status_code)
        response.headers.update(exc.headers or {})
        return response

    # Anything unexpected: a 500 NACK, logged, the client's connection kept.
    app.add_middleware(AnswerUnexpected, role="BREG")


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    if settings.auto_migrate:
        upgrade(engine, MIGRATIONS, VERSION_TABLE)
    identity = KeyFiles(settings.key_dir).load_or_generate(settings.subscriber_id)
    services = RegistryServices.create(settings, engine, identity)
    service = services.registry

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        await service.snapshot.ensure_fresh()
        watcher = asyncio.create_task(service.watch_revision())
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await service.stop()
            engine.dispose()

    app = FastAPI(
        title="Réseau Pôles — registre",
        description=(
            "Registre (BREG) du réseau : inscription avec défi, recherche (lookup), "
            "administration par l'opérateur, journal d'audit."
        ),
        version="0.1.0",
        lifespan=lifespan,
        **NO_CDN_DOCS,
    )
    serve_contract(app, "registry")
    app.state.services = services
    app.state.settings = settings
    install_error_handlers(app)

    def refuse(status: int, _code: str, message: str, at: str, _path: str) -> JSONResponse:
        return _nack(
            ProtocolError(message, code=ErrorCode.REGISTRY_INVALID_REQUEST, path=at), status
        )

    # Every JSON body (subscribe, lookup, the operator's) before any route parses it.
    app.add_middleware(JsonBodyGuard, max_bytes=settings.max_body_bytes, refuse=refuse)
    app.state.operator_auth = OperatorAuth(
        settings.operators,
        skew=settings.clock_skew_seconds,
        max_body_bytes=settings.max_body_bytes,
    )
    for router in ROUTERS:
        app.include_router(router)
    return app
