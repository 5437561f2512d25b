"""The pôle's products as a CSV file (tag « gestion »).

POST   /api/providers/{id}/products/import          CSV (text/csv): all rows or nothing
GET    /api/providers/{id}/products/export          CSV of the active products

Routed before ``/products/{sku}`` (:data:`.ROUTERS`): ``export`` is not a SKU.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from reseau_poles.network.query import reads_query
from reseau_poles.participant import ApiError
from reseau_poles.participant.answers import answers, text_answer

from .. import answers as out
from ..requests import ExportQuery, ImportQuery
from ..services.csv_import import ImportBusy, ImportReport
from .common import read
from .deps import CatalogFilesService, OwnProvider
from .products import TRUE
from .upload import csv_upload

router = APIRouter(prefix="/api/providers/{provider_id}", tags=["gestion"])

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


def report_body(report: ImportReport) -> dict[str, Any]:
    return report.as_dict()


@router.post(
    "/products/import",
    summary="Importer des produits (CSV)",
    openapi_extra=_CSV_DOC,
    responses=answers(out.ImportAnswer, description="Tout est importé (ou validé, `dry_run`)."),
)
@reads_query(ImportQuery)
async def import_products(
    request: Request, provider_id: OwnProvider, files: CatalogFilesService
) -> JSONResponse:
    """Corps ``text/csv`` (UTF-8, séparateur ``,`` ou ``;``), ou formulaire
    ``multipart/form-data`` avec le fichier dans le champ ``file`` (``curl -F
    file=@produits.csv``). Chaque ligne est validée ; s'il
    y a une seule erreur, rien n'est importé et le rapport donne ligne, colonne et message.
    Un SKU déjà connu est mis à jour sur place. ``?dry_run=true`` : valider seulement.
    Un seul import (ou essai) à la fois par pôle : sinon 409 ``import_en_cours`` ; au plus
    deux imports à la fois sur le nœud : sinon 429 ``trop_d_imports`` avec ``Retry-After``."""
    dry_run = (request.query_params.get("dry_run") or "").lower() in TRUE
    try:
        with files.gate.hold(provider_id):  # before the body: a refusal comes at once
            async with csv_upload(request) as body:
                report = await asyncio.to_thread(
                    files.import_file, provider_id, body, dry_run=dry_run
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
async def export_products(
    request: Request, provider_id: OwnProvider, files: CatalogFilesService
) -> Response:
    """Les produits actifs, dans le format de l'import (``?delimiter=;`` : séparateur
    point-virgule et virgule décimale, pour Excel en français)."""
    delimiter = request.query_params.get("delimiter", ",")
    if delimiter not in {",", ";"}:
        raise ApiError(
            400, "parametres_invalides", "« delimiter » : « , » ou « ; ».", "query.delimiter"
        )
    text = await read(files.export, provider_id, delimiter=delimiter)
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{provider_id}-produits.csv"'},
    )
