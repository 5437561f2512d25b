"""The pick list of a delivery day (tag « commandes »).

GET /api/providers/{id}/pick-list?date=AAAA-MM-JJ   the pick list of a delivery day (Québec
                                                    time): JSON, ``format=csv`` (or ``Accept:
                                                    text/csv``) or ``format=html`` (printable)
"""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Request, Response

from reseau_poles.network.query import reads_query
from reseau_poles.participant import ApiError, validated
from reseau_poles.participant.answers import text_answer
from reseau_poles.storage import utcnow

from .. import answers as out
from ..requests import PickListQuery
from ..services.pick_list import pick_list_csv, pick_list_html
from .deps import OwnProvider, PickListsService

router = APIRouter(prefix="/api/providers/{provider_id}", tags=["commandes"])


def _wanted_format(request: Request, asked: str | None) -> str:
    if asked:
        return asked
    accept = request.headers.get("accept", "")
    if "text/csv" in accept:
        return "csv"
    if "text/html" in accept and "application/json" not in accept:
        return "html"
    return "json"


@router.get(
    "/pick-list",
    summary="Liste de préparation d'un jour de livraison",
    responses=text_answer(
        "La liste en JSON (défaut), en CSV (`format=csv`) ou en page HTML (`format=html`).",
        "text/csv",
        "text/html",
        json_model=out.PickList,
    ),
)
@reads_query(PickListQuery)
async def get_pick_list(
    request: Request, provider_id: OwnProvider, pick_lists: PickListsService
) -> Response:
    """Les commandes à livrer le jour ``date`` (AAAA-MM-JJ, heure du Québec ; non annulées),
    chacune avec son acheteur, son site, sa plage, son bon de commande et ses lignes, puis les
    totaux par produit. ``format=csv`` (ou ``Accept: text/csv``) : une ligne par article,
    en-têtes français ; ``format=html`` : page imprimable."""
    wanted = validated(PickListQuery, dict(request.query_params), "query")
    kind = _wanted_format(request, wanted.format)
    data = await asyncio.to_thread(pick_lists.of_day, provider_id, wanted.date)
    if data is None:
        raise ApiError(404, "introuvable", "Pôle introuvable.", "provider_id")
    name = f"preparation_{provider_id}_{wanted.date.isoformat()}"
    if kind == "csv":
        return Response(
            pick_list_csv(data),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if kind == "html":
        return Response(
            pick_list_html(data, generated=utcnow()).encode("utf-8"),
            media_type="text/html; charset=utf-8",
        )
    return Response(json.dumps(data, ensure_ascii=False).encode(), media_type="application/json")
