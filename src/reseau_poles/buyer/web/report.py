"""The local-purchasing report (``/portail/rapport``), on :class:`~..services.reports.
ReportService`:

GET /portail/rapport?du=AAAA-MM-JJ&au=AAAA-MM-JJ    totals, the shares Aliments du Québec /
                                                    préparés au Québec / bio, spend by region
                                                    of origin: SVG charts and their tables
GET /portail/rapport/csv?du=…&au=…[&decimal=point]  the same as the API's CSV (its builder)

Every signed-in person of the organisation may read it. Without ``du`` and ``au``: the year
so far (:func:`~.queries.parse_period`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from reseau_poles.portal.auth import CurrentUser, PageError
from reseau_poles.portal.templating import render

from ..api.deps import Reports
from ..services.reports import TIME_ZONE, UNKNOWN_REGION, csv_bytes, csv_filename
from . import charts
from .labels import region_name
from .portal import PREFIX
from .queries import Period, parse_period

router = APIRouter(prefix=PREFIX, include_in_schema=False)

# The certified families shown, in this order (the report's codes).
FAMILIES = ("aliments_du_quebec", "aliments_prepares_au_quebec", "aliments_quebecois", "biologique")


def today() -> date:
    return datetime.now(TIME_ZONE).date()


def presets(day: date) -> list[tuple[str, Period]]:
    """Periods a person asks for often: this month, the school year (from 1 July), the year
    so far, the last twelve months."""
    school = date(day.year if day.month >= 7 else day.year - 1, 7, 1)
    return [
        ("report.preset.mois", Period(day.replace(day=1), day)),
        ("report.preset.annee_scolaire", Period(school, day)),
        ("report.preset.annee", Period(date(day.year, 1, 1), day)),
        ("report.preset.douze_mois", Period(day - timedelta(days=364), day)),
    ]


def _region_label(code: str) -> str | None:
    return None if code == UNKNOWN_REGION else region_name(code)


def report_view(report: dict[str, Any]) -> dict[str, Any]:
    """The report's figures ready for the page: charts' geometry, percentages."""
    regions = [
        (code, _region_label(code), Decimal(row["amount"]), row["share"])
        for row in report["by_region"]
        for code in [row["code"]]
    ]
    families = [
        (
            code,
            Decimal(report["certifications"][code]["amount"]),
            report["certifications"][code]["share"],
        )
        for code in FAMILIES
    ]
    quebec = report["quebec_origin"]
    return {
        "regions": [
            {"code": code, "label": label, "amount": amount, "percent": charts.percent(share)}
            for code, label, amount, share in regions
        ],
        "region_chart": charts.bar_chart(
            [(label or "", amount, share) for _, label, amount, share in regions]
        ),
        "families": [
            {"code": code, "amount": amount, "percent": charts.percent(share)}
            for code, amount, share in families
        ],
        "family_chart": charts.share_bars(families),
        "quebec": {
            "amount": Decimal(quebec["amount"]),
            "percent": charts.percent(quebec["share"]),
            "donut": charts.donut(quebec["share"]),
        },
        "totals": {key: Decimal(value) for key, value in report["totals"].items()},
    }


@router.get("/rapport", name="portail_report")
async def report_page(request: Request, user: CurrentUser, reports: Reports) -> HTMLResponse:
    day = today()
    period = parse_period(request.query_params, day)
    report = await reports.local_purchasing(user.organisation_id, period.start, period.end)
    query = urlencode(period.params())
    return render(
        request,
        "portail/rapport.html",
        {
            "period": period,
            "report": report,
            "view": report_view(report),
            "presets": [(key, urlencode(p.params())) for key, p in presets(day)],
            "csv_url": f"{PREFIX}/rapport/csv?{query}",
            "csv_point_url": f"{PREFIX}/rapport/csv?{query}&decimal=point",
        },
        status=400 if period.errors else 200,
    )


@router.get("/rapport/csv", name="portail_report_csv")
async def report_csv(request: Request, user: CurrentUser, reports: Reports) -> Response:
    period = parse_period(request.query_params, today())
    if period.errors:
        raise PageError(400, "report.periode.invalide")
    report = await reports.local_purchasing(user.organisation_id, period.start, period.end)
    decimal_comma = request.query_params.get("decimal") != "point"
    return Response(
        csv_bytes(report, decimal_comma=decimal_comma),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{csv_filename(report)}"',
            "Cache-Control": "no-store",
        },
    )
