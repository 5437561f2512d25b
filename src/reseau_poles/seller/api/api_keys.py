"""The pôle's API keys (tag « gestion »).

GET    /api/providers/{id}/api-keys                 prefixes and labels
POST   /api/providers/{id}/api-keys                 a new key, shown once
DELETE /api/providers/{id}/api-keys/{prefix}        revoke

The buyer node has the same routes for its organisations.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from reseau_poles.participant import read_json_object, validated
from reseau_poles.participant.answers import answers
from reseau_poles.participant.api import body_doc

from .. import answers as out
from ..requests import KeyIn
from .common import not_found, read, when, write
from .deps import ApiKeysService, OwnProvider

router = APIRouter(prefix="/api/providers/{provider_id}", tags=["gestion"])


@router.get("/api-keys", summary="Clés d'API du pôle", responses=answers(out.ApiKeyList))
async def list_keys(provider_id: OwnProvider, keys: ApiKeysService) -> dict[str, Any]:
    """Préfixes et libellés ; jamais les clés elles-mêmes."""
    rows = await read(keys.keys, provider_id)
    return {
        "api_keys": [
            {
                "prefix": row["prefix"],
                "label": row["label"],
                "created_at": when(row["created_at"]),
                "revoked_at": when(row["revoked_at"]),
            }
            for row in rows
        ]
    }


@router.post(
    "/api-keys",
    status_code=201,
    summary="Créer une clé d'API",
    openapi_extra=body_doc(KeyIn),
    responses=answers(out.ApiKeyCreated, 201, description="La nouvelle clé, montrée une fois."),
)
async def create_key(
    request: Request, provider_id: OwnProvider, keys: ApiKeysService
) -> JSONResponse:
    """La clé n'est montrée qu'une fois : conservez-la ; le nœud n'en garde que l'empreinte."""
    body = validated(KeyIn, await read_json_object(request))
    key = await write(keys.create, provider_id, body.label)
    return JSONResponse(
        {"key": key, "prefix": key[:12], "label": body.label},
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@router.delete("/api-keys/{prefix}", status_code=204, summary="Révoquer une clé d'API")
async def revoke_key(provider_id: OwnProvider, prefix: str, keys: ApiKeysService) -> Response:
    if not await write(keys.revoke, provider_id, prefix):
        raise not_found("Clé d'API active", "path.prefix")
    return Response(status_code=204)
