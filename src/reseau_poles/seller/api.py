"""The pôle's management API: ``/api/providers/{provider_id}/…`` (tag « gestion »).

Every route needs an API key of that very pôle (``X-API-Key`` or ``Authorization: Bearer``;
401 without a live key, 403 with another pôle's key). Bodies are JSON objects read into the
models of :mod:`schemas`; every refusal is an :class:`ApiError` (4xx, a stable code, a French
message and the path at fault). SQL runs in a worker thread, one transaction per request.

GET    /api/providers/{id}                          the pôle's profile
PUT    /api/providers/{id}                          replace the profile
GET    /api/providers/{id}/locations                its places (warehouse, drop points…)
PUT    /api/providers/{id}/locations/{location_id}  create or replace a place
DELETE /api/providers/{id}/locations/{location_id}  remove a place no option uses
GET    /api/providers/{id}/fulfillment-options      delivery zones, pickup, drop points
PUT    /api/providers/{id}/fulfillment-options/{option_id}
DELETE /api/providers/{id}/fulfillment-options/{option_id}   withdraw (kept for orders)
GET    /api/providers/{id}/products                 a page (offset, limit, q, category, active)
POST   /api/providers/{id}/products/import          CSV (text/csv): all rows or nothing
GET    /api/providers/{id}/products/export          CSV of the active products
GET    /api/providers/{id}/products/{sku}
PUT    /api/providers/{id}/products/{sku}           create or replace (stock kept if absent)
PATCH  /api/providers/{id}/products/{sku}           change some fields
DELETE /api/providers/{id}/products/{sku}           withdraw (kept for orders; PUT restores)
GET    /api/providers/{id}/products/{sku}/stock
PUT    /api/providers/{id}/products/{sku}/stock     {"quantity": n}, n >= 0
POST   /api/providers/{id}/products/{sku}/stock/adjustments   {"delta": ±n}, never below 0
GET    /api/providers/{id}/api-keys                 prefixes and labels
POST   /api/providers/{id}/api-keys                 a new key, shown once
DELETE /api/providers/{id}/api-keys/{prefix}        revoke
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import DataError, IntegrityError

from reseau_poles.network.query import reads_query
from reseau_poles.node import ApiError, read_json_object, validated
from reseau_poles.node.answers import answers, text_answer
from reseau_poles.node.api import body_doc
from reseau_poles.storage import read_session, write_session

from . import answers as out
from . import management as mg
from .auth import OwnProvider, session_factory
from .csv_import import GATE as IMPORT_GATE
from .csv_import import ImportBusy, ImportReport
from .csv_io import export_csv, import_csv
from .schemas import (
    MAX_COUNT,
    FulfillmentOptionIn,
    ItemIn,
    LocationIn,
    ProviderIn,
)
from .upload import csv_upload

router = APIRouter(prefix="/api/providers/{provider_id}", tags=["gestion"])

T = TypeVar("T")

MAX_PAGE = 200
_SAVED = "200 : remplacé ; 201 : créé."


# Query strings the routes read themselves (their refusals are the routes' own), described.
class ProductQuery(BaseModel):
    q: str | None = Field(
        default=None,
        description="Mots du nom, de la description ou du producteur (200 caractères lus).",
    )
    category: str | None = Field(default=None, description="Catégorie (`category_id`).")
    active: Literal["true", "false", "all"] = Field(
        default="true",
        description="Produits actifs (`true`, défaut), retirés (`false`) ou tous (`all`) ; "
        "`oui`/`non`/`tous`, `1`/`0` sont lus aussi.",
    )
    offset: int = Field(default=0, ge=0, le=MAX_COUNT, description="Début de la page.")
    limit: int = Field(default=50, ge=1, le=MAX_PAGE, description="Taille de la page.")


class ImportQuery(BaseModel):
    dry_run: bool = Field(default=False, description="`true` : valider seulement, rien écrire.")


class ExportQuery(BaseModel):
    delimiter: Literal[",", ";"] = Field(
        default=",",
        description="Séparateur : `,` (défaut) ou `;` (avec la virgule décimale, pour Excel "
        "en français).",
    )


_CSV_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


def not_found(what: str, path: str) -> ApiError:
    return ApiError(404, "introuvable", f"{what} introuvable pour ce pôle.", path)


def _same_id(data: dict[str, Any], field: str, value: str) -> dict[str, Any]:
    """The body with the path's identifier; a body naming another one is refused."""
    if field in data and data[field] != value:
        raise ApiError(
            400,
            "parametres_invalides",
            f"« {field} » du corps ({str(data[field])[:64]}) diffère de celui du chemin.",
            field,
        )
    return {**data, field: value}


async def _read(request: Request, work: Callable[[Any], T]) -> T:
    factory = session_factory(request)

    def run() -> T:
        with read_session(factory) as session:
            return work(session)

    return await asyncio.to_thread(run)


async def _write(request: Request, work: Callable[[Any], T]) -> T:
    """``work`` in one write transaction; the database's own refusals become 4xx."""
    factory = session_factory(request)

    def run() -> T:
        with write_session(factory) as session:
            return work(session)

    try:
        return await asyncio.to_thread(run)
    except mg.Conflict as exc:
        raise ApiError(409, "conflit", exc.message, exc.path) from None
    except IntegrityError:
        raise ApiError(
            409, "conflit", "Modification refusée par la base (contrainte d'intégrité).", "$"
        ) from None
    except DataError:
        raise ApiError(400, "parametres_invalides", "Valeur refusée par la base.", "$") from None


def _when(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


# --- provider -------------------------------------------------------------------------------


def provider_out(row: RowMapping) -> dict[str, Any]:
    return {
        **mg.provider_in_from_row(row).model_dump(mode="json", warnings=False),
        "active": row["active"],
    }


@router.get("", summary="Profil du pôle", responses=answers(out.ProviderAnswer))
async def get_provider(request: Request, provider_id: OwnProvider) -> dict[str, Any]:
    """Profil du pôle : forme juridique, régions, contact, heures, conditions de paiement."""
    row = await _read(request, lambda s: mg.provider(s, provider_id))
    if row is None:
        raise not_found("Pôle", "path.provider_id")
    return provider_out(row)


@router.put(
    "",
    summary="Remplacer le profil du pôle",
    openapi_extra=body_doc(ProviderIn),
    responses=answers(out.ProviderAnswer),
)
async def put_provider(request: Request, provider_id: OwnProvider) -> dict[str, Any]:
    """Remplace tout le profil (les champs absents reprennent leur valeur par défaut)."""
    data = _same_id(await read_json_object(request, allow_empty=False), "id", provider_id)
    profile = validated(ProviderIn, data)

    def work(session: Any) -> RowMapping:
        mg.save_provider(session, profile)
        row = mg.provider(session, provider_id)
        assert row is not None
        return row

    return provider_out(await _write(request, work))


# --- locations ------------------------------------------------------------------------------


def location_out(row: RowMapping) -> dict[str, Any]:
    return {key: row[key] for key in LocationIn.model_fields}


@router.get("/locations", summary="Lieux du pôle", responses=answers(out.LocationList))
async def get_locations(request: Request, provider_id: OwnProvider) -> dict[str, Any]:
    rows = await _read(request, lambda s: mg.list_locations(s, provider_id))
    return {"locations": [location_out(row) for row in rows]}


@router.put(
    "/locations/{location_id}",
    summary="Créer ou remplacer un lieu",
    openapi_extra=body_doc(LocationIn),
    responses=answers(out.LocationAnswer, 200, 201, description=_SAVED),
)
async def put_location(
    request: Request, provider_id: OwnProvider, location_id: str
) -> JSONResponse:
    """Entrepôt, point de cueillette ou point de chute : coordonnées GPS, adresse, région."""
    data = _same_id(await read_json_object(request, allow_empty=False), "id", location_id)
    place = validated(LocationIn, data)
    created = await _write(request, lambda s: mg.put_location(s, provider_id, place))
    row = await _read(request, lambda s: mg.location(s, provider_id, place.id))
    assert row is not None
    return JSONResponse(location_out(row), status_code=201 if created else 200)


@router.delete("/locations/{location_id}", status_code=204, summary="Retirer un lieu")
async def delete_location(request: Request, provider_id: OwnProvider, location_id: str) -> Response:
    """Refusé (409) tant qu'un mode d'exécution actif utilise ce lieu."""
    if not await _write(request, lambda s: mg.delete_location(s, provider_id, location_id)):
        raise not_found("Lieu", "path.location_id")
    return Response(status_code=204)


# --- fulfilment options ---------------------------------------------------------------------


def option_out(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "type": row["type"],
        "name": row["name"],
        "regions": mg.repo.split_codes(row["regions"]),
        "fee": f"{row['fee']:.2f}",
        "fee_taxable": row["fee_taxable"],
        "lead_time_hours": row["lead_time_hours"],
        "cold_chain": mg.repo.split_codes(row["cold_chain"]),
        "location_id": row["location_id"],
        "delivery_days": row["delivery_days"],
        "delivery_hours": row["delivery_hours"],
        "max_window_hours": row["max_window_hours"],
        "minimum_order": f"{row['minimum_order']:.2f}"
        if row["minimum_order"] is not None
        else None,
    }


@router.get(
    "/fulfillment-options",
    summary="Modes d'exécution",
    responses=answers(out.FulfillmentOptionList),
)
async def get_fulfillment_options(request: Request, provider_id: OwnProvider) -> dict[str, Any]:
    """Zones de livraison par région (frais, délai), cueillette au pôle, points de chute."""
    rows = await _read(request, lambda s: mg.list_fulfillment_options(s, provider_id))
    return {"fulfillment_options": [option_out(row) for row in rows]}


@router.put(
    "/fulfillment-options/{option_id}",
    summary="Créer ou remplacer un mode d'exécution",
    openapi_extra=body_doc(FulfillmentOptionIn),
    responses=answers(out.FulfillmentOptionAnswer, 200, 201, description=_SAVED),
)
async def put_fulfillment_option(
    request: Request, provider_id: OwnProvider, option_id: str
) -> JSONResponse:
    """Une cueillette ou un point de chute nomme son lieu (``location_id``)."""
    data = _same_id(await read_json_object(request, allow_empty=False), "id", option_id)
    option = validated(FulfillmentOptionIn, data)
    if option.type.value != "livraison" and option.location_id is None:
        raise ApiError(
            400,
            "parametres_invalides",
            "Une cueillette ou un point de chute doit nommer son lieu (location_id).",
            "location_id",
        )
    if option.type.value == "livraison" and not option.regions:
        raise ApiError(
            400,
            "parametres_invalides",
            "Une livraison doit nommer au moins une région desservie.",
            "regions",
        )
    created = await _write(request, lambda s: mg.put_fulfillment_option(s, provider_id, option))
    rows = await _read(request, lambda s: mg.list_fulfillment_options(s, provider_id))
    row = next(row for row in rows if row["id"] == option.id)
    return JSONResponse(option_out(row), status_code=201 if created else 200)


@router.delete(
    "/fulfillment-options/{option_id}", status_code=204, summary="Retirer un mode d'exécution"
)
async def delete_fulfillment_option(
    request: Request, provider_id: OwnProvider, option_id: str
) -> Response:
    done = await _write(
        request, lambda s: mg.deactivate_fulfillment_option(s, provider_id, option_id)
    )
    if not done:
        raise not_found("Mode d'exécution", "path.option_id")
    return Response(status_code=204)


# --- products -------------------------------------------------------------------------------


def item_out(row: RowMapping) -> dict[str, Any]:
    body = mg.item_in_from_row(row).model_dump(mode="json", warnings=False)
    body["active"] = row["active"]
    body["created_at"] = _when(row["created_at"])
    body["updated_at"] = _when(row["updated_at"])
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


_TRUE = {"true", "1", "oui", "yes", "vrai"}
_FALSE = {"false", "0", "non", "no", "faux"}


def _active_param(request: Request) -> bool | None:
    raw = (request.query_params.get("active") or "true").strip().lower()
    if raw in _TRUE:
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
async def list_products(request: Request, provider_id: OwnProvider) -> dict[str, Any]:
    """Par SKU ; ``q`` (mots du nom, de la description, du producteur), ``category``,
    ``active`` (true, false, all), ``offset`` et ``limit`` (au plus 200)."""
    offset = _int_param(request, "offset", 0, 0, MAX_COUNT)
    limit = _int_param(request, "limit", 50, 1, MAX_PAGE)
    where = mg.ItemFilter(
        text=(request.query_params.get("q") or "").strip()[:200] or None,
        category=(request.query_params.get("category") or "").strip()[:255] or None,
        active=_active_param(request),
    )
    rows, total = await _read(
        request, lambda s: mg.list_items(s, provider_id, where, offset=offset, limit=limit)
    )
    return {
        "products": [item_out(row) for row in rows],
        "total": total,
        "offset": offset,
        "limit": limit,
    }


def report_body(report: ImportReport) -> dict[str, Any]:
    return report.as_dict()


@router.post(
    "/products/import",
    summary="Importer des produits (CSV)",
    openapi_extra=_CSV_DOC,
    responses=answers(out.ImportAnswer, description="Tout est importé (ou validé, `dry_run`)."),
)
@reads_query(ImportQuery)
async def import_products(request: Request, provider_id: OwnProvider) -> JSONResponse:
    """Corps ``text/csv`` (UTF-8, séparateur ``,`` ou ``;``), ou formulaire
    ``multipart/form-data`` avec le fichier dans le champ ``file`` (``curl -F
    file=@produits.csv``). Chaque ligne est validée ; s'il
    y a une seule erreur, rien n'est importé et le rapport donne ligne, colonne et message.
    Un SKU déjà connu est mis à jour sur place. ``?dry_run=true`` : valider seulement.
    Un seul import (ou essai) à la fois par pôle : sinon 409 ``import_en_cours`` ; au plus
    deux imports à la fois sur le nœud : sinon 429 ``trop_d_imports`` avec ``Retry-After``."""
    dry_run = (request.query_params.get("dry_run") or "").lower() in _TRUE
    factory = session_factory(request)
    try:
        with IMPORT_GATE.hold(provider_id):  # before the body: a refusal comes at once
            async with csv_upload(request) as body:
                report = await asyncio.to_thread(
                    import_csv, factory, provider_id, body, dry_run=dry_run
                )
    except ImportBusy as busy:
        retry = {"Retry-After": str(busy.retry_after)} if busy.retry_after else None
        refusal = ApiError(busy.status, busy.code, busy.message, "$")
        return JSONResponse(refusal.body(), status_code=busy.status, headers=retry)
    if report.errors:
        first = report.errors[0]
        error = ApiError(
            400,
            "csv_invalide",
            f"{report.error_count} erreur(s) dans le fichier : rien n'a été importé.",
            first.path,
        )
        return JSONResponse({**error.body(), "report": report_body(report)}, status_code=400)
    return JSONResponse({"report": report_body(report)})


@router.get(
    "/products/export",
    summary="Exporter les produits (CSV)",
    response_class=Response,
    responses=text_answer(
        "Les produits actifs, en CSV UTF-8 (en pièce jointe), colonnes de l'import.", "text/csv"
    ),
)
@reads_query(ExportQuery)
async def export_products(request: Request, provider_id: OwnProvider) -> Response:
    """Les produits actifs, dans le format de l'import (``?delimiter=;`` : séparateur
    point-virgule et virgule décimale, pour Excel en français)."""
    delimiter = request.query_params.get("delimiter", ",")
    if delimiter not in {",", ";"}:
        raise ApiError(
            400, "parametres_invalides", "« delimiter » : « , » ou « ; ».", "query.delimiter"
        )
    text = await _read(request, lambda s: export_csv(s, provider_id, delimiter=delimiter))
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{provider_id}-produits.csv"'},
    )


async def _product_row(request: Request, provider_id: str, sku: str) -> RowMapping:
    row = await _read(request, lambda s: mg.item(s, provider_id, sku))
    if row is None:
        raise not_found("Produit", "path.sku")
    return row


@router.get("/products/{sku}", summary="Un produit", responses=answers(out.ProductAnswer))
async def get_product(request: Request, provider_id: OwnProvider, sku: str) -> dict[str, Any]:
    return item_out(await _product_row(request, provider_id, sku))


async def _save_product(
    request: Request, provider_id: str, product: ItemIn, *, keep_stock: bool
) -> JSONResponse:
    created = await _write(
        request, lambda s: mg.put_item(s, provider_id, product, keep_stock=keep_stock)
    )
    row = await _product_row(request, provider_id, product.sku)
    return JSONResponse(item_out(row), status_code=201 if created else 200)


@router.put(
    "/products/{sku}",
    summary="Créer ou remplacer un produit",
    openapi_extra=body_doc(ItemIn),
    responses=answers(out.ProductAnswer, 200, 201, description=_SAVED),
)
async def put_product(request: Request, provider_id: OwnProvider, sku: str) -> JSONResponse:
    """Tout le produit (nom et description en français, anglais facultatif, catégorie, unité
    et format, prix en CAD, quantité minimale, taxable, certifications, conservation,
    producteur, région d'origine, saison, image). Sans ``stock``, un produit existant garde
    le sien ; un produit retiré revient au catalogue."""
    data = _same_id(await read_json_object(request, allow_empty=False), "sku", sku)
    product = validated(ItemIn, data)
    return await _save_product(request, provider_id, product, keep_stock="stock" not in data)


@router.patch(
    "/products/{sku}",
    summary="Modifier certains champs d'un produit",
    openapi_extra=body_doc(ItemIn),
    responses=answers(out.ProductAnswer),
)
async def patch_product(request: Request, provider_id: OwnProvider, sku: str) -> JSONResponse:
    data = _same_id(await read_json_object(request, allow_empty=False), "sku", sku)
    row = await _product_row(request, provider_id, sku)
    current = mg.item_in_from_row(row).model_dump(warnings=False)
    unknown = [key for key in data if key not in current]
    if unknown:
        raise ApiError(400, "parametres_invalides", "champ inconnu", unknown[0])
    product = validated(ItemIn, {**current, **data})
    return await _save_product(request, provider_id, product, keep_stock="stock" not in data)


@router.delete("/products/{sku}", status_code=204, summary="Retirer un produit")
async def delete_product(request: Request, provider_id: OwnProvider, sku: str) -> Response:
    """Le produit quitte le catalogue mais reste enregistré (commandes passées) ; un ``PUT``
    du même SKU le rétablit."""
    if not await _write(request, lambda s: mg.deactivate_item(s, provider_id, sku)):
        raise not_found("Produit actif", "path.sku")
    return Response(status_code=204)


# --- stock ----------------------------------------------------------------------------------


class StockIn(BaseModel):
    model_config = {"extra": "forbid"}
    quantity: int = Field(ge=0, le=MAX_COUNT)
    # Kept with the stock movement (GET …/stock-movements): « inventaire du lundi ».
    reason: str | None = Field(default=None, max_length=255)


class AdjustmentIn(BaseModel):
    model_config = {"extra": "forbid"}
    delta: int = Field(ge=-MAX_COUNT, le=MAX_COUNT)
    reason: str | None = Field(default=None, max_length=255)


@router.get(
    "/products/{sku}/stock", summary="Stock d'un produit", responses=answers(out.StockAnswer)
)
async def get_stock(request: Request, provider_id: OwnProvider, sku: str) -> dict[str, Any]:
    row = await _product_row(request, provider_id, sku)
    return {"sku": sku, "stock": row["available"]}


@router.put(
    "/products/{sku}/stock",
    summary="Fixer le stock",
    openapi_extra=body_doc(StockIn),
    responses=answers(out.StockAnswer),
)
async def put_stock(request: Request, provider_id: OwnProvider, sku: str) -> dict[str, Any]:
    """Quantité absolue (inventaire) : ``{"quantity": 120}``, jamais négative ; ``reason``
    (facultatif) accompagne le mouvement de stock."""
    body = validated(StockIn, await read_json_object(request, allow_empty=False))
    now = await _write(
        request, lambda s: mg.set_item_stock(s, provider_id, sku, body.quantity, body.reason)
    )
    if now is None:
        raise not_found("Produit", "path.sku")
    return {"sku": sku, "stock": now}


@router.post(
    "/products/{sku}/stock/adjustments",
    summary="Ajuster le stock (+/-)",
    openapi_extra=body_doc(AdjustmentIn),
    responses=answers(out.StockAnswer),
)
async def adjust_stock(request: Request, provider_id: OwnProvider, sku: str) -> dict[str, Any]:
    """Réception (``{"delta": 24}``) ou perte (``{"delta": -3}``) ; refusé (409
    ``stock_insuffisant``) si le stock deviendrait négatif, sans rien changer. ``reason``
    (facultatif) accompagne le mouvement de stock."""
    body = validated(AdjustmentIn, await read_json_object(request, allow_empty=False))
    try:
        now = await _write(
            request,
            lambda s: mg.adjust_item_stock(s, provider_id, sku, body.delta, body.reason),
        )
    except ApiError as exc:
        if exc.code == "conflit" and exc.path == "delta":
            raise ApiError(409, "stock_insuffisant", exc.message, "delta") from None
        raise
    if now is None:
        raise not_found("Produit", "path.sku")
    return {"sku": sku, "stock": now}


# --- API keys -------------------------------------------------------------------------------


class KeyIn(BaseModel):
    model_config = {"extra": "forbid", "str_strip_whitespace": True}
    label: str | None = Field(default=None, max_length=255)


@router.get("/api-keys", summary="Clés d'API du pôle", responses=answers(out.ApiKeyList))
async def list_keys(request: Request, provider_id: OwnProvider) -> dict[str, Any]:
    """Préfixes et libellés ; jamais les clés elles-mêmes."""
    rows = await _read(request, lambda s: mg.list_api_keys(s, provider_id))
    return {
        "api_keys": [
            {
                "prefix": row["prefix"],
                "label": row["label"],
                "created_at": _when(row["created_at"]),
                "revoked_at": _when(row["revoked_at"]),
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
async def create_key(request: Request, provider_id: OwnProvider) -> JSONResponse:
    """La clé n'est montrée qu'une fois : conservez-la ; le nœud n'en garde que l'empreinte."""
    body = validated(KeyIn, await read_json_object(request))
    key = await _write(request, lambda s: mg.create_api_key(s, provider_id, body.label))
    return JSONResponse(
        {"key": key, "prefix": key[:12], "label": body.label},
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@router.delete("/api-keys/{prefix}", status_code=204, summary="Révoquer une clé d'API")
async def revoke_key(request: Request, provider_id: OwnProvider, prefix: str) -> Response:
    if not await _write(request, lambda s: mg.revoke_api_key(s, provider_id, prefix)):
        raise not_found("Clé d'API active", "path.prefix")
    return Response(status_code=204)
