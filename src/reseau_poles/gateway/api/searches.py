"""``GET /searches``: the statistics of the searches the gateway relayed lately (who was
targeted, who ACKed, NACKed, failed, how long), kept by :class:`..stats.SearchStats`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from reseau_poles.network.acks import JSON_CONTENT_TYPE, nack_body
from reseau_poles.participant.answers import answers
from reseau_poles.protocol.errors import ErrorCode, ProtocolError

from ..answers import SearchStatistics, SearchSummary
from .deps import Stats

router = APIRouter()


@router.get(
    "/searches",
    summary="Dernières recherches (statistiques)",
    responses=answers(list[SearchSummary], description="Les plus récentes d'abord."),
)
async def searches(
    stats: Stats,
    limit: int = Query(50, description="Combien (ramené entre 1 et 1000)."),
) -> list[dict[str, Any]]:
    return stats.recent(max(1, min(limit, 1000)))


@router.get(
    "/searches/{message_id}",
    summary="Statistiques d'une recherche",
    responses=answers(SearchStatistics),
)
async def search_stats(message_id: str, stats: Stats) -> Response:
    found = await stats.get(message_id)
    if found is None:
        error = ProtocolError(
            f"recherche inconnue (ou trop ancienne) : {message_id[:64]}",
            code=ErrorCode.GATEWAY_INVALID_REQUEST,
            path="message_id",
        )
        return Response(nack_body(error), status_code=404, media_type=JSON_CONTENT_TYPE)
    return JSONResponse(found)
