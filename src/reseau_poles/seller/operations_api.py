"""The pôle's day-to-day views, under ``/api/providers/{provider_id}``.

GET /pick-list?date=AAAA-MM-JJ                 the pick list of a delivery day (Québec time):
                                               JSON, ``format=csv`` (or ``Accept: text/csv``)
                                               or ``format=html`` (printable page)
GET /products/{sku}/stock-movements            the product's stock movements, newest first
                                               (reason, delta, resulting stock, reference,
                                               note, time; ``limit``, ``offset``)

Every route needs one of the pôle's API keys (``seller.auth``). Refusals are
``{"error": {"code", "message", "path"}}``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from reseau_poles.network.query import reads_query
from reseau_poles.node import ApiError, validated
from reseau_poles.node.answers import answers, text_answer
from reseau_poles.protocol.models import format_datetime
from reseau_poles.storage import read_session, utcnow

from . import answers as out
from . import management as mg
from . import repository as repo
from . import stock_movements as movements
from .auth import OwnProvider, session_factory
from .pick_list import pick_list, pick_list_csv, pick_list_html

router = APIRouter(prefix="/api/providers/{provider_id}")


class PickListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: date
    format: Literal["json", "csv", "html"] | None = None


class MovementQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0)


def _query(name: str, schema: dict[str, Any], text: str, *, required: bool = False) -> Any:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": text,
    }


_PICK_LIST_DOC: dict[str, Any] = {
    "parameters": [
        _query(
            "date",
            {"type": "string", "format": "date"},
            "Jour de livraison, AAAA-MM-JJ (heure du Québec).",
            required=True,
        ),
        _query(
            "format",
            {"type": "string", "enum": ["json", "csv", "html"]},
            "json (défaut), csv (une ligne par article, « ; », UTF-8 avec BOM) ou html.",
        ),
    ],
}
_PAGE_DOC: dict[str, Any] = {
    "parameters": [
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "Page."),
        _query("offset", {"type": "integer", "minimum": 0, "default": 0}, "Début de la page."),
    ]
}


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
    tags=["commandes"],
    responses=text_answer(
        "La liste en JSON (défaut), en CSV (`format=csv`) ou en page HTML (`format=html`).",
        "text/csv",
        "text/html",
        json_model=out.PickList,
    ),
)
@reads_query(PickListQuery)
async def get_pick_list(request: Request, provider_id: OwnProvider) -> Response:
    """Les commandes à livrer le jour ``date`` (AAAA-MM-JJ, heure du Québec ; non annulées),
    chacune avec son acheteur, son site, sa plage, son bon de commande et ses lignes, puis les
    totaux par produit. ``format=csv`` (ou ``Accept: text/csv``) : une ligne par article,
    en-têtes français ; ``format=html`` : page imprimable."""
    wanted = validated(PickListQuery, dict(request.query_params), "query")
    kind = _wanted_format(request, wanted.format)
    factory = session_factory(request)

    def run() -> dict[str, Any] | None:
        with read_session(factory) as session:
            provider = repo.get_provider(session, provider_id)
            return pick_list(session, provider, wanted.date) if provider else None

    data = await asyncio.to_thread(run)
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


@router.get(
    "/products/{sku}/stock-movements",
    summary="Mouvements de stock d'un produit",
    tags=["gestion"],
    openapi_extra=_PAGE_DOC,
    responses=answers(out.StockMovements),
)
@reads_query(MovementQuery)
async def stock_movements(request: Request, provider_id: OwnProvider, sku: str) -> dict[str, Any]:
    """Chaque changement du stock du produit, le plus récent d'abord : motif (``commande``,
    ``annulation``, ``modification``, ``inventaire``, ``ajustement``, ``import_csv``,
    ``creation``…), variation, stock qui en résulte, référence (commande, import), note et
    heure ; pages ``limit`` et ``offset``."""
    wanted = validated(MovementQuery, dict(request.query_params), "query")
    factory = session_factory(request)

    def run() -> dict[str, Any] | None:
        with read_session(factory) as session:
            row = mg.item(session, provider_id, sku)
            if row is None:
                return None
            found, total = movements.movements_of(
                session, row["id"], limit=wanted.limit, offset=wanted.offset
            )
        following = wanted.offset + len(found)
        return {
            "sku": sku,
            "stock": row["available"],
            "movements": [
                movements.movement_out(found_row, format_datetime(found_row["created_at"]))
                for found_row in found
            ],
            "total": total,
            "limit": wanted.limit,
            "offset": wanted.offset,
            "next_offset": following if following < total else None,
        }

    result = await asyncio.to_thread(run)
    if result is None:
        raise ApiError(404, "introuvable", "Produit introuvable pour ce pôle.", "path.sku")
    return result
