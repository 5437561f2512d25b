"""``create_app(settings)``: the buyer node as a FastAPI application.

Client API (``X-API-Key`` or ``Authorization: Bearer``, one key per buyer organisation):

POST /api/searches              plain parameters → Beckn search sent out; 202 + transaction id
GET  /api/searches/{id}         results so far, merged per provider and item; ``?wait_ms=``

Protocol (signed, verified by the network layer):

POST /on_search                 catalogs of the sellers, stored before the ACK
POST /on_{action}               other callbacks: NACK "not yet supported" (orders come later)
POST /on_subscribe              the registry's challenge when the node subscribes
GET  /health                    liveness
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
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
from reseau_poles.storage import make_engine, read_session, upgrade

from . import repository as repo
from .intent import SearchParams
from .service import BuyerService, SearchNotFound
from .settings import BuyerSettings, load_settings

MIGRATIONS = "reseau_poles.buyer.migrations"
VERSION_TABLE = "alembic_version_buyer"


def migrate(engine_or_url: Engine | str) -> str | None:
    """Upgrade the buyer's tables to the newest revision; returns it."""
    if isinstance(engine_or_url, Engine):
        return upgrade(engine_or_url, MIGRATIONS, VERSION_TABLE)
    engine = make_engine(engine_or_url)
    try:
        return upgrade(engine, MIGRATIONS, VERSION_TABLE)
    finally:
        engine.dispose()


class ApiError(Exception):
    """A refusal of the client API: HTTP status, a stable code, a French message, a path."""

    def __init__(self, status: int, code: str, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.path = status, code, message, path

    def response(self) -> JSONResponse:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.path is not None:
            error["path"] = self.path
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse({"error": error}, status_code=self.status, headers=headers)


def _nack(message: str, path: str, status: int = 400) -> Response:
    error = ProtocolError(message, code=ErrorCode.BUYER_INVALID_RESPONSE, path=path)
    return Response(nack_body(error), status_code=status, media_type="application/json")


def _api_key(x_api_key: str | None, authorization: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return None


def _validation_error(exc: ValidationError) -> ApiError:
    first = exc.errors()[0]
    path = ".".join(str(part) for part in first.get("loc", ())) or "$"
    message = str(first.get("msg", "valeur invalide")).removeprefix("Value error, ")
    if first.get("type") == "extra_forbidden":
        message = "paramètre inconnu"
    return ApiError(400, "parametres_invalides", message, path)


def create_app(
    settings: BuyerSettings | None = None,
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
        role="BAP",
        signer=Signer(keys.subscriber_id, keys.key_id, keys.signing),
        settings=network_settings or settings.network_settings(),
        engine=engine,
    )
    service = BuyerService(settings, engine, network)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with network:
            yield
            await service.aclose()
        if own_engine:
            engine.dispose()

    app = FastAPI(
        title="Réseau Pôles — nœud acheteur",
        description=(
            "Nœud acheteur (BAP) : recherche dans tous les pôles à la fois pour les "
            "applications et les acheteurs institutionnels, sur le protocole Beckn 1.1."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.network = network
    app.state.keys = keys
    network.install(app)

    @app.exception_handler(ApiError)
    async def on_api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def organisation(
        x_api_key: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> str:
        key = _api_key(x_api_key, authorization)
        if not key:
            raise ApiError(
                401,
                "non_authentifie",
                "Clé d'API manquante (en-tête X-API-Key ou Authorization: Bearer).",
                "headers.X-API-Key",
            )

        def find() -> str | None:
            with read_session(service.factory) as session:
                return repo.organisation_for_api_key(session, key)

        found = await asyncio.to_thread(find)
        if found is None:
            raise ApiError(
                401, "non_authentifie", "Clé d'API inconnue ou révoquée.", "headers.X-API-Key"
            )
        return found

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "subscriber_id": settings.subscriber_id}

    @app.post("/api/searches", status_code=202)
    async def create_search(
        request: Request, organisation_id: str = Depends(organisation)
    ) -> JSONResponse:
        """Lancer une recherche dans les pôles ; les résultats arrivent ensuite."""
        try:
            raw = await request.body()
            data = json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "json_invalide", "Corps illisible (JSON invalide).", "$") from None
        if not isinstance(data, dict):
            raise ApiError(400, "json_invalide", "Le corps doit être un objet JSON.", "$")
        try:
            params = SearchParams.model_validate(data)
        except ValidationError as exc:
            raise _validation_error(exc) from None
        started = await service.start_search(organisation_id, params)
        tx = started["transaction_id"]
        return JSONResponse(
            {**started, "results_url": f"/api/searches/{tx}"},
            status_code=202,
            headers={"Location": f"/api/searches/{tx}"},
        )

    @app.get("/api/searches/{transaction_id}")
    async def read_search(
        transaction_id: str,
        organisation_id: str = Depends(organisation),
        wait_ms: str | None = None,
    ) -> dict[str, Any]:
        """Les résultats reçus jusqu'ici ; ``wait_ms`` : attendre tous les vendeurs visés."""
        wait = 0
        if wait_ms is not None:
            if not wait_ms.isdigit():
                raise ApiError(
                    400, "parametres_invalides", "wait_ms : entier positif attendu.", "wait_ms"
                )
            wait = min(int(wait_ms), settings.max_wait_ms)
        try:
            return await service.view(organisation_id, transaction_id[:64], wait)
        except SearchNotFound:
            raise ApiError(
                404, "recherche_inconnue", "Recherche inconnue.", "transaction_id"
            ) from None

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
        if action != "on_search":
            raise Refusal(
                ProtocolError(
                    f"« {action[:40]} » pas encore pris en charge par ce nœud acheteur.",
                    code=ErrorCode.ACTION_NOT_APPLICABLE,
                    path="context.action",
                ),
                status_code=400,
            )
        try:
            await asyncio.to_thread(service.receive_on_search, message)
        except ProtocolError as exc:
            raise Refusal(exc, status_code=exc.http_status) from None
        service.notify(message.transaction_id)
        return ack()

    return app
