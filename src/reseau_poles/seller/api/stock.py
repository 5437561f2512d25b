"""A product's stock and its movements (tag « gestion »).

GET    /api/providers/{id}/products/{sku}/stock
PUT    /api/providers/{id}/products/{sku}/stock     {"quantity": n}, n >= 0
POST   /api/providers/{id}/products/{sku}/stock/adjustments   {"delta": ±n}, never below 0
GET    /api/providers/{id}/products/{sku}/stock-movements     the product's stock movements,
       newest first (reason, delta, resulting stock, reference, note, time; ``limit``,
       ``offset``)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request

from reseau_poles.network.query import reads_query
from reseau_poles.participant import ApiError, read_json_object, validated
from reseau_poles.participant.answers import answers
from reseau_poles.participant.api import body_doc
from reseau_poles.protocol.models import format_datetime

from .. import answers as out
from ..repositories.stock_movements import LABELS, Reason
from ..requests import AdjustmentIn, MovementQuery, StockIn
from .common import not_found, read, write
from .deps import OwnProvider, ProductsService, StockService
from .products import product_row


def movement_out(row: Mapping[str, Any], at: str | None) -> dict[str, Any]:
    """A movement as the management API shows it."""
    reason = row["reason"]
    return {
        "reason": reason,
        "label": LABELS[Reason(reason)] if reason in Reason._value2member_map_ else reason,
        "delta": row["delta"],
        "quantity": row["quantity"],
        "reference": row["reference"],
        "note": row["note"],
        "at": at,
    }


router = APIRouter(prefix="/api/providers/{provider_id}", tags=["gestion"])


@router.get(
    "/products/{sku}/stock", summary="Stock d'un produit", responses=answers(out.StockAnswer)
)
async def get_stock(
    provider_id: OwnProvider, sku: str, products: ProductsService
) -> dict[str, Any]:
    row = await product_row(products, provider_id, sku)
    return {"sku": sku, "stock": row["available"]}


@router.put(
    "/products/{sku}/stock",
    summary="Fixer le stock",
    openapi_extra=body_doc(StockIn),
    responses=answers(out.StockAnswer),
)
async def put_stock(
    request: Request, provider_id: OwnProvider, sku: str, stock: StockService
) -> dict[str, Any]:
    """Quantité absolue (inventaire) : ``{"quantity": 120}``, jamais négative ; ``reason``
    (facultatif) accompagne le mouvement de stock."""
    body = validated(StockIn, await read_json_object(request, allow_empty=False))
    now = await write(stock.set, provider_id, sku, body.quantity, body.reason)
    if now is None:
        raise not_found("Produit", "path.sku")
    return {"sku": sku, "stock": now}


@router.post(
    "/products/{sku}/stock/adjustments",
    summary="Ajuster le stock (+/-)",
    openapi_extra=body_doc(AdjustmentIn),
    responses=answers(out.StockAnswer),
)
async def adjust_stock(
    request: Request, provider_id: OwnProvider, sku: str, stock: StockService
) -> dict[str, Any]:
    """Réception (``{"delta": 24}``) ou perte (``{"delta": -3}``) ; refusé (409
    ``stock_insuffisant``) si le stock deviendrait négatif, sans rien changer. ``reason``
    (facultatif) accompagne le mouvement de stock."""
    body = validated(AdjustmentIn, await read_json_object(request, allow_empty=False))
    try:
        now = await write(stock.adjust, provider_id, sku, body.delta, body.reason)
    except ApiError as exc:
        if exc.code == "conflit" and exc.path == "delta":
            raise ApiError(409, "stock_insuffisant", exc.message, "delta") from None
        raise
    if now is None:
        raise not_found("Produit", "path.sku")
    return {"sku": sku, "stock": now}


def _query(name: str, schema: dict[str, Any], text: str) -> Any:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": text}


_PAGE_DOC: dict[str, Any] = {
    "parameters": [
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "Page."),
        _query("offset", {"type": "integer", "minimum": 0, "default": 0}, "Début de la page."),
    ]
}


@router.get(
    "/products/{sku}/stock-movements",
    summary="Mouvements de stock d'un produit",
    openapi_extra=_PAGE_DOC,
    responses=answers(out.StockMovements),
)
@reads_query(MovementQuery)
async def stock_movements(
    request: Request, provider_id: OwnProvider, sku: str, stock: StockService
) -> dict[str, Any]:
    """Chaque changement du stock du produit, le plus récent d'abord : motif (``commande``,
    ``annulation``, ``modification``, ``inventaire``, ``ajustement``, ``import_csv``,
    ``creation``…), variation, stock qui en résulte, référence (commande, import), note et
    heure ; pages ``limit`` et ``offset``."""
    wanted = validated(MovementQuery, dict(request.query_params), "query")
    result = await read(stock.movements, provider_id, sku, limit=wanted.limit, offset=wanted.offset)
    if result is None:
        raise ApiError(404, "introuvable", "Produit introuvable pour ce pôle.", "path.sku")
    row, found, total = result
    following = wanted.offset + len(found)
    return {
        "sku": sku,
        "stock": row["available"],
        "movements": [
            movement_out(found_row, format_datetime(found_row["created_at"])) for found_row in found
        ],
        "total": total,
        "limit": wanted.limit,
        "offset": wanted.offset,
        "next_offset": following if following < total else None,
    }
