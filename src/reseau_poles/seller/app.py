"""``create_app(settings)``: the seller node as a FastAPI application.

POST /{action}        Beckn calls (search, select, init, confirm, status): verified by
                      the network layer, answered ACK/NACK; callbacks via the outbox
POST /on_subscribe    the registry's challenge when the node subscribes
GET  /health          liveness
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from reseau_poles.network import (
    InboundMessage,
    NetworkSettings,
    NodeNetwork,
    Refusal,
    ack,
    nack_body,
)
from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.keys import KeyFiles, open_challenge
from reseau_poles.protocol.signing import Signer
from reseau_poles.storage import make_engine, upgrade

from .service import SellerService
from .settings import SellerSettings, load_settings

MIGRATIONS = "reseau_poles.seller.migrations"
VERSION_TABLE = "alembic_version_seller"


def migrate(engine_or_url: Engine | str) -> str | None:
    """Upgrade the seller's tables to the newest revision; returns it."""
    if isinstance(engine_or_url, Engine):
        return upgrade(engine_or_url, MIGRATIONS, VERSION_TABLE)
    engine = make_engine(engine_or_url)
    try:
        return upgrade(engine, MIGRATIONS, VERSION_TABLE)
    finally:
        engine.dispose()


def _nack(message: str, path: str, status: int = 400) -> Response:
    error = ProtocolError(message, code=ErrorCode.INVALID_REQUEST, path=path)
    return Response(nack_body(error), status_code=status, media_type="application/json")


def create_app(
    settings: SellerSettings | None = None,
    *,
    network_settings: NetworkSettings | None = None,
    engine: Engine | None = None,
) -> FastAPI:
    settings = settings or load_settings()
    own_engine = engine is None
    engine = engine or make_engine(settings.database_url)
    if settings.auto_migrate:
        migrate(engine)
    keys = KeyFiles(settings.key_dir).load_or_generate(settings.subscriber_id)
    network = NodeNetwork(
        subscriber_id=settings.subscriber_id,
        role="BPP",
        signer=Signer(keys.subscriber_id, keys.key_id, keys.signing),
        settings=network_settings or settings.network_settings(),
        engine=engine,
    )
    service = SellerService(settings, engine, network)
    handlers: Mapping[str, Callable[[Mapping[str, Any]], Any]] = {
        "search": service.handle_search,
        "select": service.handle_select,
        "init": service.handle_init,
        "confirm": service.handle_confirm,
        "status": service.handle_status,
    }

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with network:
            yield
        if own_engine:
            engine.dispose()

    app = FastAPI(
        title="Réseau Pôles — nœud vendeur",
        description=(
            "Nœud vendeur (BPP) : catalogue, stocks et commandes d'un ou de plusieurs pôles, "
            "sur le protocole Beckn 1.1."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.network = network
    app.state.keys = keys
    network.install(app)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "subscriber_id": settings.subscriber_id}

    @app.post("/on_subscribe")
    async def on_subscribe(request: Request) -> Response:
        """The registry's challenge, sealed to our encryption key: we answer the plaintext."""
        try:
            body = json.loads(await request.body())
            challenge = body["challenge"]
            if body.get("subscriber_id") not in (None, settings.subscriber_id):
                return _nack("défi destiné à un autre abonné", "subscriber_id")
            answer = open_challenge(keys.encryption, challenge)
        except (ValueError, KeyError, TypeError):
            return _nack("défi illisible", "challenge")
        return JSONResponse({"answer": answer})

    @app.post("/{action}")
    async def receive(action: str, message: InboundMessage = Depends(network.inbound)) -> Response:
        handler = handlers.get(action)
        if handler is None:
            raise Refusal(
                ProtocolError(
                    f"Action « {action[:40]} » pas encore prise en charge par ce nœud vendeur.",
                    code=ErrorCode.ACTION_NOT_APPLICABLE,
                    path="context.action",
                ),
                status_code=400,
            )
        try:
            await asyncio.to_thread(handler, message.payload)
        except ProtocolError as exc:
            raise Refusal(exc, status_code=exc.http_status) from None
        network.wake()
        return ack()

    return app
