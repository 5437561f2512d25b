"""The local-purchasing report (``GET /api/reports/local-purchasing``): what an organisation
bought over a period, by region of origin, and the share certified Aliments du Québec,
Aliments préparés au Québec and organic — the figures Québec's public institutions are asked
to report on their food purchases (Stratégie nationale d'achat d'aliments québécois).

What is counted (and why):

- orders ``confirmed`` or ``completed`` (never ``cancelled``, nor those not yet confirmed),
  by their **confirmation date** in Québec's time zone (America/Toronto), ``from`` and ``to``
  included;
- the **lines** of those orders, as the seller's latest quote priced them (``amount``, before
  taxes; ``unit_price × quantity`` when the quote gave no line amount; a line with neither is
  counted in ``lines_without_price`` and in no amount);
- the region and certifications are the catalog snapshot kept on each line when the quote came
  (``buyer_order_lines``): an item without an ``origine`` region is « Hors Québec ou
  inconnue » (the profile's origin region is a Québec region or nothing, so the two cannot be
  told apart);
- Aliments du Québec = ``aliments_du_quebec`` or ``aliments_du_quebec_bio``; Aliments
  préparés au Québec = ``aliments_prepares_au_quebec`` or ``…_bio``; the two together are
  « aliments québécois » (a line counted once); organic = any organic label
  (``Certification.is_organic``: Biologique Canada, Bio Québec, the two AQ Bio labels);
- shares are of the food spend before taxes (4 decimals; ``null`` when nothing was bought);
  TPS and TVQ are the lines' taxes; ``other_charges`` is what the orders' totals add beyond the
  lines and their taxes (delivery fees and their taxes).

CSV (``format=csv``): one table, UTF-8 with a BOM (Excel opens it as UTF-8), French headers
``Rubrique;Code;Libellé;Montant avant taxes ($);Part des achats (%)``; by default ``;``
separators and decimal commas (what Excel fr-CA expects); ``decimal=point`` gives a standard
CSV (``,`` separators, decimal points). Served as an attachment named
``achats-locaux_{organisation}_{from}_{to}.csv``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.participant import ApiError
from reseau_poles.protocol.moments import MomentError
from reseau_poles.protocol.moments import parse_day as parse_calendar_day
from reseau_poles.protocol.profile import Certification, Region
from reseau_poles.storage import read_session

from ..repositories import reports as repo

TIME_ZONE = ZoneInfo("America/Toronto")
COUNTED_STATES = ("confirmed", "completed")
UNKNOWN_REGION = "hors_quebec_ou_inconnue"
UNKNOWN_LABEL = "Hors Québec ou inconnue"
CENT = Decimal("0.01")
SHARE = Decimal("0.0001")

# The certified families of the report: code → (label, certification codes counted).
FAMILIES: dict[str, tuple[str, frozenset[str]]] = {
    "aliments_du_quebec": (
        "Aliments du Québec",
        frozenset(
            {Certification.ALIMENTS_DU_QUEBEC.value, Certification.ALIMENTS_DU_QUEBEC_BIO.value}
        ),
    ),
    "aliments_prepares_au_quebec": (
        "Aliments préparés au Québec",
        frozenset(
            {
                Certification.ALIMENTS_PREPARES_AU_QUEBEC.value,
                Certification.ALIMENTS_PREPARES_AU_QUEBEC_BIO.value,
            }
        ),
    ),
    "aliments_quebecois": (
        "Aliments québécois (Aliments du Québec ou Aliments préparés au Québec)",
        frozenset(
            {
                Certification.ALIMENTS_DU_QUEBEC.value,
                Certification.ALIMENTS_DU_QUEBEC_BIO.value,
                Certification.ALIMENTS_PREPARES_AU_QUEBEC.value,
                Certification.ALIMENTS_PREPARES_AU_QUEBEC_BIO.value,
            }
        ),
    ),
    "biologique": (
        "Biologique (Biologique Canada, Bio Québec, AQ Bio)",
        frozenset(c.value for c in Certification if c.is_organic),
    ),
}


@dataclass(frozen=True)
class ReportLine:
    """One order line as the report counts it, or ``lines`` of them summed (same region of
    origin and certifications, all priced or all without a price)."""

    amount: Decimal | None
    tps: Decimal
    tvq: Decimal
    certifications: frozenset[str]
    origin_region: str | None
    lines: int = 1


def _certifications(stored: str | None) -> frozenset[str]:
    """A line's certifications as stored (the JSON text of a list of codes)."""
    try:
        codes = json.loads(stored) if stored else None
    except ValueError:
        return frozenset()
    return (
        frozenset(c for c in codes if isinstance(c, str))
        if isinstance(codes, list)
        else frozenset()
    )


def line_amount(row: Mapping[str, Any]) -> Decimal | None:
    if row["amount"] is not None:
        return Decimal(row["amount"])
    if row["unit_price"] is not None:
        return (Decimal(row["unit_price"]) * row["quantity"]).quantize(CENT, ROUND_HALF_EVEN)
    return None


def _region_of(code: str | None) -> str:
    try:
        return Region(code).value if code else UNKNOWN_REGION
    except ValueError:
        return UNKNOWN_REGION


def _label(code: str) -> str:
    return UNKNOWN_LABEL if code == UNKNOWN_REGION else Region(code).label


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT, ROUND_HALF_EVEN):.2f}"


def _share(part: Decimal, whole: Decimal) -> str | None:
    if whole <= 0:
        return None
    return f"{(part / whole).quantize(SHARE, ROUND_HALF_EVEN):.4f}"


def aggregate(lines: Iterable[ReportLine], orders_total: Decimal = Decimal(0)) -> dict[str, Any]:
    """The report's figures from its lines (pure: no database). ``orders_total``: the
    counted orders' totals, taxes and delivery included."""
    food = tps = tvq = Decimal(0)
    regions: dict[str, Decimal] = {}
    families = dict.fromkeys(FAMILIES, Decimal(0))
    count = unpriced = 0
    for line in lines:
        count += line.lines
        tps += line.tps
        tvq += line.tvq
        if line.amount is None:
            unpriced += line.lines
            continue
        food += line.amount
        region = _region_of(line.origin_region)
        regions[region] = regions.get(region, Decimal(0)) + line.amount
        for code, (_, members) in FAMILIES.items():
            if line.certifications & members:
                families[code] += line.amount
    quebec = sum((v for k, v in regions.items() if k != UNKNOWN_REGION), Decimal(0))
    order = sorted(regions, key=lambda code: (code == UNKNOWN_REGION, code))
    taxes = tps + tvq
    return {
        "currency": "CAD",
        "lines": count,
        "lines_without_price": unpriced,
        "totals": {
            "food_before_tax": _money(food),
            "tps": _money(tps),
            "tvq": _money(tvq),
            "taxes": _money(taxes),
            "food_with_taxes": _money(food + taxes),
            "orders_total": _money(orders_total),
            "other_charges": _money(max(orders_total - food - taxes, Decimal(0))),
        },
        "by_region": [
            {
                "code": code,
                "label": _label(code),
                "amount": _money(regions[code]),
                "share": _share(regions[code], food),
            }
            for code in order
        ],
        "quebec_origin": {"amount": _money(quebec), "share": _share(quebec, food)},
        "certifications": {
            code: {
                "label": label,
                "codes": sorted(members),
                "amount": _money(families[code]),
                "share": _share(families[code], food),
            }
            for code, (label, members) in FAMILIES.items()
        },
    }


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in Québec's time zone, as aware datetimes."""
    return (
        datetime.combine(start, time(0), TIME_ZONE),
        datetime.combine(end + timedelta(days=1), time(0), TIME_ZONE),
    )


def local_purchasing(
    session: Session, organisation_id: str, start: date, end: date
) -> dict[str, Any]:
    """The report of ``organisation_id`` for ``start`` … ``end`` (both included)."""
    low, high = period_bounds(start, end)
    totals, grouped, per_unit = repo.counted_orders(
        session, organisation_id, COUNTED_STATES, low, high
    )
    lines = [
        ReportLine(
            amount=None if row["unpriced"] else Decimal(row["amount"]),
            tps=Decimal(row["tps"] or 0),
            tvq=Decimal(row["tvq"] or 0),
            certifications=_certifications(row["certifications"]),
            origin_region=row["origin_region"],
            lines=int(row["lines"]),
        )
        for row in grouped
    ]
    lines += [
        ReportLine(
            amount=line_amount({"amount": None, **row}),
            tps=Decimal(row["tps"] or 0),
            tvq=Decimal(row["tvq"] or 0),
            certifications=_certifications(row["certifications"]),
            origin_region=row["origin_region"],
        )
        for row in per_unit
    ]
    orders_total = sum((Decimal(v) for v in totals.values() if v is not None), Decimal(0))
    return {
        "organisation_id": organisation_id,
        "period": {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "time_zone": str(TIME_ZONE),
            "basis": "date de confirmation des commandes confirmées ou livrées",
        },
        "orders": len(totals),
        **aggregate(lines, orders_total),
    }


# --- CSV ---------------------------------------------------------------------------------------

CSV_HEADERS = ("Rubrique", "Code", "Libellé", "Montant avant taxes ($)", "Part des achats (%)")
TOTAL_LABELS = {
    "food_before_tax": "Achats d'aliments avant taxes",
    "tps": "TPS",
    "tvq": "TVQ",
    "taxes": "Taxes (TPS + TVQ)",
    "food_with_taxes": "Achats d'aliments, taxes comprises",
    "other_charges": "Autres frais (livraison, taxes comprises)",
    "orders_total": "Total des commandes, taxes comprises",
}


def report_csv(report: Mapping[str, Any], *, decimal_comma: bool = True) -> str:
    """The report as one CSV table (without the BOM; see :func:`csv_bytes`)."""

    def number(value: str | None) -> str:
        if value is None:
            return ""
        return value.replace(".", ",") if decimal_comma else value

    def percent(share: str | None) -> str:
        if share is None:
            return ""
        return number(f"{(Decimal(share) * 100).quantize(CENT, ROUND_HALF_EVEN):.2f}")

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if decimal_comma else ",", lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    period = report["period"]
    writer.writerow(("Période", "du", period["from"], "", ""))
    writer.writerow(("Période", "au", period["to"], "", ""))
    writer.writerow(("Période", "commandes", str(report["orders"]), "", ""))
    for code, label in TOTAL_LABELS.items():
        writer.writerow(("Totaux", code, label, number(report["totals"][code]), ""))
    for region in report["by_region"]:
        writer.writerow(
            (
                "Région d'origine",
                region["code"],
                region["label"],
                number(region["amount"]),
                percent(region["share"]),
            )
        )
    quebec = report["quebec_origin"]
    writer.writerow(
        (
            "Origine",
            "quebec",
            "Origine québécoise connue (toutes régions)",
            number(quebec["amount"]),
            percent(quebec["share"]),
        )
    )
    for code, family in report["certifications"].items():
        writer.writerow(
            (
                "Certification",
                code,
                family["label"],
                number(family["amount"]),
                percent(family["share"]),
            )
        )
    return buffer.getvalue()


def csv_bytes(report: Mapping[str, Any], *, decimal_comma: bool = True) -> bytes:
    """UTF-8 with a BOM, so that Excel reads the accents right."""
    return report_csv(report, decimal_comma=decimal_comma).encode("utf-8-sig")


def csv_filename(report: Mapping[str, Any]) -> str:
    """``achats-locaux_{organisation}_{from}_{to}.csv``, safe in a ``Content-Disposition``."""
    period = report["period"]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", report["organisation_id"]).strip("-.") or "organisation"
    return f"achats-locaux_{name[:64]}_{period['from']}_{period['to']}.csv"


# --- the service -------------------------------------------------------------------------------------


def parse_day(value: str | None, name: str) -> date:
    if value is None:
        raise ApiError(
            400, "parametres_invalides", f"{name} : date AAAA-MM-JJ attendue (obligatoire).", name
        )
    try:
        return parse_calendar_day(value)
    except MomentError as exc:
        raise ApiError(400, "parametres_invalides", f"{name} : {exc}", name) from None


def parse_period(start: str | None, end: str | None) -> tuple[date, date]:
    low, high = parse_day(start, "from"), parse_day(end, "to")
    if high < low:
        raise ApiError(
            400, "parametres_invalides", "to : la fin de la période précède son début.", "to"
        )
    return low, high


class ReportService:
    """The organisation's reports, read on the node's database."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    async def local_purchasing(
        self, organisation_id: str, start: date, end: date
    ) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            with read_session(self.factory) as session:
                return local_purchasing(session, organisation_id, start, end)

        return await asyncio.to_thread(read)
