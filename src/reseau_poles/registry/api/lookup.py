"""``POST /lookup`` (unsigned; the answer is signed by the registry) and ``GET /revision``,
which nodes poll to empty their lookup caches when the registry changes."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from reseau_poles.participant.answers import answers
from reseau_poles.protocol.errors import ErrorCode

from .. import answers as out
from ..errors import RegistryError
from ..requests import parse_lookup
from .deps import Registry, read_body

router = APIRouter()


@router.post(
    "/lookup",
    summary="Chercher des participants (non signé)",
    responses=answers(
        list[out.LookupRecord],
        description="Les participants trouvés, une entrée par clé ; la réponse est signée par "
        "le registre (en-tête `Authorization`).",
    ),
)
@router.post("/subscribers/lookup", include_in_schema=False)
async def lookup(request: Request, service: Registry) -> Response:
    body = await read_body(request, 8192)
    try:
        data = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise RegistryError(
            "le corps n'est pas du JSON valide",
            code=ErrorCode.REGISTRY_INVALID_REQUEST,
            path="$",
            status=400,
        ) from None
    query = parse_lookup(data)
    content, signature, _ = await service.snapshot.lookup(query)
    return Response(content, media_type="application/json", headers={"Authorization": signature})


@router.get(
    "/revision",
    summary="Révision du registre (change à chaque écriture)",
    responses=answers(out.Revision),
)
async def revision(service: Registry) -> dict[str, int]:
    """Un nombre qui croît à chaque changement du registre (inscription, approbation,
    suspension, réactivation, révocation). Les nœuds la surveillent toutes les quelques
    secondes et vident leur cache de recherches quand elle change : une suspension comme une
    réactivation les atteint en quelques secondes, sans attendre la fin du cache (60 s)."""
    return {"revision": await run_in_threadpool(service.revision)}
