"""The pôle's products (tag « gestion »).

GET    /api/providers/{id}/products                 a page (offset, limit, q, category, active)
GET    /api/providers/{id}/products/{sku}
PUT    /api/providers/{id}/products/{sku}           create or replace (stock kept if absent)
PATCH  /api/providers/{id}/products/{sku}           change some fields
DELETE /api/providers/{id}/products/{sku}           withdraw (kept for orders; PUT restores)

The CSV import and export (``/products/import``, ``/products/export``) are in
:mod:`.catalog_files`, routed before ``/products/{sku}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from reseau_poles.network.query import reads_query
from reseau_poles.participant import ApiError, read_json_object, validated
from reseau_poles.participant.answers import answers
from reseau_poles.participant.api import body_doc

from .. import answers as out
from ..repositories import products as product_repo
from ..requests import MAX_COUNT, MAX_PAGE, ItemIn, ProductQuery
from ..services.products import ItemFilter, Products
from .common import SAVED, not_found, read, same_id, when, write
from .deps import OwnProvider, ProductsService

router = APIRouter(prefix="/api/providers/{provider_id}", tags=["gestion"])

TRUE = {"true", "1", "oui", "yes", "vrai"}
_FALSE = {"false", "0", "non", "no", "faux"}


def item_out(row: Mapping[str, Any]) -> dict[str, Any]:
    body = product_repo.item_in_from_row(row).model_dump(mode="json", warnings=False)
    body["active"] = row["active"]
    body["created_at"] = when(row["created_at"])
    body["updated_at"] = when(row["updated_at"])
    return body


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ApiError(
            400,
            "parametres_invalides",
            f"« {name} » : nombre entier de {low} à {high} attendu.",
            f"query.{name}",
        )
    return value


def _active_param(request: Request) -> bool | None:
    raw = (request.query_params.get("active") or "true").strip().lower()
    if raw in TRUE:
        return True
    if raw in _FALSE:
        return False
    if raw in {"all", "tous"}:
        return None
    raise ApiError(
        400, "parametres_invalides", "« active » : true, false ou all attendu.", "query.active"
    )


@router.get("/products", summary="Produits (par page)", responses=answers(out.ProductPage))
@reads_query(ProductQuery)
async def list_products(
    request: Request, provider_id: OwnProvider, products: ProductsService
) -> dict[str, Any]:
    """Par SKU ; ``q`` (mots du nom, de la description, du producteur), ``category``,
    ``active`` (true, false, all), ``offset`` et ``limit`` (au plus 200)."""
    offset = _int_param(request, "offset", 0, 0, MAX_COUNT)
    limit = _int_param(request, "limit", 50, 1, MAX_PAGE)
    where = ItemFilter(
        text=(request.query_params.get("q") or "").strip()[:200] or None,
        category=(request.query_params.get("category") or "").strip()[:255] or None,
        active=_active_param(request),
    )
    rows, total = await read(products.page, provider_id, where, offset=offset, limit=limit)
    return {
        "products": [item_out(row) for row in rows],
        "total": total,
        "offset": offset,
        "limit": limit,
    }


async def product_row(products: Products, provider_id: str, sku: str) -> Mapping[str, Any]:
    row = await read(products.product, provider_id, sku)
    if row is None:
        raise not_found("Produit", "path.sku")
    return row


@router.get("/products/{sku}", summary="Un produit", responses=answers(out.ProductAnswer))
async def get_product(
    provider_id: OwnProvider, sku: str, products: ProductsService
) -> dict[str, Any]:
    return item_out(await product_row(products, provider_id, sku))


async def _save_product(
    products: Products, provider_id: str, product: ItemIn, *, keep_stock: bool
) -> JSONResponse:
    created = await write(products.save, provider_id, product, keep_stock=keep_stock)
    row = await product_row(products, provider_id, product.sku)
    return JSONResponse(item_out(row), status_code=201 if created else 200)


@router.put(
    "/products/{sku}",
    summary="Créer ou remplacer un produit",
    openapi_extra=body_doc(ItemIn),
    responses=answers(out.ProductAnswer, 200, 201, description=SAVED),
)
async def put_product(
    request: Request, provider_id: OwnProvider, sku: str, products: ProductsService
) -> JSONResponse:
    """Tout le produit (nom et description en français, anglais facultatif, catégorie, unité
    et format, prix en CAD, quantité minimale, taxable, certifications, conservation,
    producteur, région d'origine, saison, image). Sans ``stock``, un produit existant garde
    le sien ; un produit retiré revient au catalogue."""
    data = same_id(await read_json_object(request, allow_empty=False), "sku", sku)
    product = validated(ItemIn, data)
    return await _save_product(products, provider_id, product, keep_stock="stock" not in data)


@router.patch(
    "/products/{sku}",
    summary="Modifier certains champs d'un produit",
    openapi_extra=body_doc(ItemIn),
    responses=answers(out.ProductAnswer),
)
async def patch_product(
    request: Request, provider_id: OwnProvider, sku: str, products: ProductsService
) -> JSONResponse:
    data = same_id(await read_json_object(request, allow_empty=False), "sku", sku)
    row = await product_row(products, provider_id, sku)
    current = product_repo.item_in_from_row(row).model_dump(warnings=False)
    unknown = [key for key in data if key not in current]
    if unknown:
        raise ApiError(400, "parametres_invalides", "champ inconnu", unknown[0])
    product = validated(ItemIn, {**current, **data})
    return await _save_product(products, provider_id, product, keep_stock="stock" not in data)


@router.delete("/products/{sku}", status_code=204, summary="Retirer un produit")
async def delete_product(provider_id: OwnProvider, sku: str, products: ProductsService) -> Response:
    """Le produit quitte le catalogue mais reste enregistré (commandes passées) ; un ``PUT``
    du même SKU le rétablit."""
    if not await write(products.withdraw, provider_id, sku):
        raise not_found("Produit actif", "path.sku")
    return Response(status_code=204)
