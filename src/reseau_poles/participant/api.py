"""The client and management APIs' refusals: an HTTP status, a stable code, a French
message and the path at fault, as ``{"error": {"code", "message", "path"}}``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reseau_poles.protocol.jsonpath import json_path
from reseau_poles.protocol.validation_text import french_message

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

ModelT = TypeVar("ModelT", bound=BaseModel)


class ErrorDetail(BaseModel):
    """What a refusal of ``/api`` says."""

    model_config = ConfigDict(title="ErrorDetail", extra="forbid")

    code: str = Field(description="Code stable (ex. `parametres_invalides`, `non_authentifie`).")
    message: str = Field(description="Message en français, à montrer à la personne.")
    path: str | None = Field(
        default=None,
        description="Chemin fautif (`items.0.quantity`, `query.limit`, `headers.X-API-Key`) ; "
        "absent quand la requête entière est en cause.",
    )


class ErrorAnswer(BaseModel):
    """Every refusal of a node's ``/api``: ``{"error": {"code", "message", "path"}}``."""

    model_config = ConfigDict(title="ErrorAnswer")

    error: ErrorDetail


# The API key, documented as two security schemes (either one): Swagger UI's « Authorize ».
# Both are read without refusing by themselves (``auto_error=False``): the refusal is ours.
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    scheme_name="CleApi",
    description="Clé d'API de l'organisation ou du pôle (`rpa_…`, `rpv_…`).",
    auto_error=False,
)
API_KEY_BEARER = HTTPBearer(
    scheme_name="CleApiBearer",
    description="La même clé d'API en `Authorization: Bearer <clé>`.",
    auto_error=False,
)


class ApiError(Exception):
    """A refusal of a node's ``/api``: HTTP status, a stable code, a French message, a path."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        path: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.path = status, code, message, path
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.path is not None:
            error["path"] = self.path
        return {"error": error}

    def response(self) -> JSONResponse:
        headers = dict(self.headers)
        if self.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(self.body(), status_code=self.status, headers=headers or None)


def _inline(schema: Any, defs: Mapping[str, Any]) -> Any:
    """``schema`` with its ``#/$defs/…`` references replaced by what they name."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [_inline(value, defs) for value in schema]
    return schema


def body_schema(model: type[BaseModel], *, partial: bool = False) -> dict[str, Any]:
    """``model``'s JSON schema, self-contained; ``partial``: no field required (PATCH)."""
    schema = model.model_json_schema()
    inlined: dict[str, Any] = _inline(schema, schema.get("$defs", {}))
    if partial:
        inlined.pop("required", None)
        inlined["title"] = f"{inlined.get('title', model.__name__)}Partial"
    return inlined


def body_doc(
    *models: type[BaseModel],
    media_type: str = "application/json",
    required: bool = True,
    partial: bool = False,
) -> dict[str, Any]:
    """``openapi_extra`` documenting a body the route reads itself (so that its refusals are
    ours, not FastAPI's 422): one model, or any of several."""
    schemas = [body_schema(model, partial=partial) for model in models]
    schema = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    return {"requestBody": {"required": required, "content": {media_type: {"schema": schema}}}}


def api_key_from_headers(x_api_key: str | None, authorization: str | None) -> str | None:
    """The key from ``X-API-Key``, or from ``Authorization: Bearer <key>``."""
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return None


KEY_PATH = "headers.X-API-Key"


async def api_key_owner(
    factory: sessionmaker[Session],
    x_api_key: str | None,
    authorization: str | None,
    lookup: Callable[[Any, str], str | None],
    request: Request | None = None,
) -> str:
    """Who holds the request's API key: ``lookup(session, key)`` run in a worker thread on a
    read session of ``factory``; a 401 ``non_authentifie`` when the key is missing, unknown or
    revoked. With the ``request``, the holder's rate limit is applied then (a 429
    ``trop_de_requetes``, :mod:`reseau_poles.participant.limits`)."""
    from reseau_poles.storage import read_session

    key = api_key_from_headers(x_api_key, authorization)
    if not key:
        raise ApiError(
            401,
            "non_authentifie",
            "Clé d'API manquante (en-tête X-API-Key ou Authorization: Bearer).",
            KEY_PATH,
        )

    def find() -> str | None:
        with read_session(factory) as session:
            return lookup(session, key)

    limits = getattr(request.app.state, "api_limits", None) if request is not None else None
    if limits is not None:
        await limits.refuse_early(request, key)
    found = await asyncio.to_thread(find)
    if found is None:
        raise ApiError(401, "non_authentifie", "Clé d'API inconnue ou révoquée.", KEY_PATH)
    if limits is not None:
        await limits.check(request, found, key)
    return found


def error_path(error: Mapping[str, Any], prefix: str = "") -> str:
    """Where a pydantic error points, dotted (``items.0.quantity``), under ``prefix``; ``$``
    for the whole body."""
    path = json_path(error.get("loc", ()))
    if prefix:
        path = f"{prefix}.{path}" if path != "$" else prefix
    return path


def validation_error(
    exc: ValidationError | Sequence[Mapping[str, Any]], prefix: str = ""
) -> ApiError:
    """The first error of a pydantic validation (or of FastAPI's ``RequestValidationError``
    list), in French, as a 400 ``parametres_invalides`` with its path."""
    errors = exc.errors() if isinstance(exc, ValidationError) else list(exc)
    if not errors:
        return ApiError(400, "parametres_invalides", "requête invalide", prefix or "$")
    first = errors[0]
    return ApiError(400, "parametres_invalides", french_message(first), error_path(first, prefix))


def validated(model: type[ModelT], data: Any, prefix: str = "") -> ModelT:
    """``data`` read by ``model``, or the first validation error as a 400 (path under
    ``prefix``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, prefix) from None


async def read_json_object(request: Request, *, allow_empty: bool = True) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says why not."""
    try:
        raw = await request.body()
        if not raw.strip():
            if allow_empty:
                return {}
            raise ApiError(400, "json_invalide", "Corps vide : un objet JSON est attendu.", "$")
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "json_invalide", "Corps illisible (JSON invalide).", "$") from None
    if not isinstance(data, dict):
        raise ApiError(400, "json_invalide", "Le corps doit être un objet JSON.", "$")
    return data
