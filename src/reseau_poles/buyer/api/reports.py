"""The organisation's reports (``/api/reports``).

GET /api/reports/local-purchasing   the local-purchasing report of a period, JSON or CSV
                                    (:mod:`reseau_poles.buyer.reports`)
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reseau_poles.network.query import reads_query
from reseau_poles.participant import ApiError
from reseau_poles.participant.answers import text_answer

from ..answers import LocalPurchasingReport
from ..requests import ReportQuery
from ..services.reports import csv_bytes, csv_filename, parse_period
from .deps import Organisation, Reports

router = APIRouter(prefix="/api/reports", tags=["rapports"])


@router.get(
    "/local-purchasing",
    responses=text_answer(
        "Le rapport en JSON, ou en CSV UTF-8 avec BOM (`format=csv`, en pièce jointe).",
        "text/csv",
        json_model=LocalPurchasingReport,
    ),
    summary="Rapport d'achat local d'une période",
)
@reads_query(ReportQuery)
async def local_purchasing_report(
    request: Request, service: Reports, organisation_id: Organisation
) -> Response:
    """Rapport d'achat local de la période (``from``, ``to`` : AAAA-MM-JJ, inclus) : achats par
    région d'origine, parts certifiées Aliments du Québec, Aliments préparés au Québec et
    biologiques ; ``format=csv`` (``decimal=point`` : CSV standard) pour un fichier."""
    params = request.query_params
    start, end = parse_period(params.get("from"), params.get("to"))
    kind = params.get("format", "json")
    if kind not in ("json", "csv"):
        raise ApiError(400, "parametres_invalides", "format : json ou csv.", "format")
    style = params.get("decimal", "virgule")
    if style not in ("virgule", "point"):
        raise ApiError(400, "parametres_invalides", "decimal : virgule ou point.", "decimal")
    report = await service.local_purchasing(organisation_id, start, end)
    if kind == "json":
        return Response(
            json.dumps(report, ensure_ascii=False).encode(), media_type="application/json"
        )
    return Response(
        csv_bytes(report, decimal_comma=style == "virgule"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{csv_filename(report)}"'},
    )
