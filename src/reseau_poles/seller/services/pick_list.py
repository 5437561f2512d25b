"""The pick list of a delivery day: what a pôle prepares, order by order, and in all.

For one pôle and one day (Québec time), the orders whose delivery window starts that day and
that are not cancelled, by window then order id: each with its purchase-order number, buyer
organisation, delivery site, address, window, contact, instructions and lines (SKU, product,
quantity, format); then the totals per product (units and orders). Orders without a delivery
window have no day and are not listed (the order list shows them).

Three forms of the same data: JSON (:func:`pick_list`), CSV (:func:`pick_list_csv`: one row
per line, French headers, ``;``, UTF-8 with a BOM for Excel fr-CA; text cells the buyer wrote
are neutralised against spreadsheet formulas) and a printable HTML page
(:func:`pick_list_html`: fr-CA, self-contained, every text escaped).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from html import escape
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.profile import Unit
from reseau_poles.storage import read_session

from ..repositories import orders as order_repo
from ..repositories import providers as provider_repo
from .csv_io import neutralise_formula
from .order_view import TIME_ZONE, day_bounds, order_view, parse_time

CSV_HEADERS = (
    "Date de livraison",
    "Début de la plage",
    "Fin de la plage",
    "Commande",
    "Bon de commande",
    "Acheteur",
    "Site de livraison",
    "Adresse",
    "Contact",
    "Téléphone",
    "SKU",
    "Produit",
    "Quantité",
    "Format",
)


def pack_format(unit: str, pack_size: Any) -> str:
    """« 540 mL », « 1 kg », « 12 unité »: one unit of sale."""
    size = Decimal(str(pack_size)).normalize()
    try:
        symbol = Unit(unit).symbol
    except ValueError:
        symbol = unit
    return f"{format(size, 'f')} {symbol}"


def pick_list(session: Session, provider: Mapping[str, Any], day: date) -> dict[str, Any]:
    """The pick list of ``provider`` (its row) for ``day``, as the API's JSON."""
    start, end = day_bounds(day)
    rows = order_repo.to_deliver(session, provider["id"], start, end)
    lines: dict[str, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
    ids = list(lines)
    for line in order_repo.pick_lines(session, ids):
        lines[line["order_id"]].append(
            {
                "sku": line["sku"],
                "name": line["name"],
                "quantity": line["quantity"],
                "unit": line["unit"],
                "format": pack_format(line["unit"], line["pack_size"]),
            }
        )
    listed = []
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        view = order_view(row["document"])
        listed.append(
            {
                "id": row["id"],
                "status": row["status"],
                "fulfillment": {
                    "type": row["fulfillment_type"],
                    "state": row["fulfillment_state"],
                },
                "purchase_order_number": row["purchase_order_number"],
                "buyer": view["buyer"],
                "delivery": view["delivery"],
                "lines": lines[row["id"]],
            }
        )
        for line in lines[row["id"]]:
            total = totals.setdefault(
                line["sku"],
                {key: line[key] for key in ("sku", "name", "unit", "format")}
                | {"quantity": 0, "orders": 0},
            )
            total["quantity"] += line["quantity"]
            total["orders"] += 1
    return {
        "provider": {"id": provider["id"], "name": provider["name"]},
        "date": day.isoformat(),
        "time_zone": TIME_ZONE.key,
        "orders": listed,
        "totals": sorted(totals.values(), key=lambda total: (total["name"], total["sku"])),
    }


class PickLists:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def of_day(self, provider_id: str, day: date) -> dict[str, Any] | None:
        """The pick list of an active pôle for ``day``; ``None`` for no such pôle."""
        with read_session(self.factory) as session:
            provider = provider_repo.get_provider(session, provider_id)
            return pick_list(session, provider, day) if provider else None


def _local(value: str | None, pattern: str = "%H:%M") -> str:
    moment = parse_time(value)
    return moment.astimezone(TIME_ZONE).strftime(pattern) if moment else ""


def _contact(delivery: Mapping[str, Any]) -> str:
    contact = delivery["contact"]
    return " ".join(part for part in (contact["name"], contact["email"]) if part)


def pick_list_csv(data: Mapping[str, Any]) -> bytes:
    """One row per order line, French headers, ``;``, UTF-8 with a BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for order in data["orders"]:
        delivery, window = order["delivery"], order["delivery"]["window"] or {}
        head = [
            data["date"],
            _local(window.get("start")),
            _local(window.get("end")),
            order["id"],
            order["purchase_order_number"] or "",
            order["buyer"]["name"] or "",
            delivery["site"] or "",
            delivery["address"] or "",
            _contact(delivery),
            delivery["contact"]["phone"] or "",
        ]
        for line in order["lines"]:
            cells = [*head, line["sku"], line["name"], str(line["quantity"]), line["format"]]
            writer.writerow([neutralise_formula(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8-sig")


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#111}
h1{font-size:1.4rem;margin:0 0 .2rem}h2{font-size:1.1rem;margin:1.4rem 0 .3rem}
.sous-titre{color:#444;margin:0 0 1rem}
section.commande{border:1px solid #999;border-radius:4px;padding:.6rem .8rem;margin:0 0 1rem;
break-inside:avoid;page-break-inside:avoid}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.3rem 0}
dt{font-weight:600}dd{margin:0}
table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{border:1px solid #bbb;padding:.25rem .4rem;text-align:left;vertical-align:top}
td.nombre,th.nombre{text-align:right}td.coche{width:2rem}
@media print{body{margin:0}a{color:inherit;text-decoration:none}}
"""


def _e(value: Any) -> str:
    return escape(str(value)) if value not in (None, "") else "—"


def window_text(window: Mapping[str, Any] | None) -> str:
    """« 08:00 – 10:00 » in Québec time, « — » without a window."""
    if not window:
        return "—"
    start, end = _local(window.get("start")), _local(window.get("end"))
    return f"{start} – {end}" if end else start


def _order_html(order: Mapping[str, Any]) -> str:
    delivery = order["delivery"]
    contact = delivery["contact"]
    facts = [
        ("Bon de commande", order["purchase_order_number"]),
        ("Acheteur", order["buyer"]["name"]),
        ("Site de livraison", delivery["site"]),
        ("Adresse", delivery["address"]),
        ("Plage de livraison", window_text(delivery["window"])),
        (
            "Contact",
            " · ".join(p for p in (contact["name"], contact["phone"], contact["email"]) if p),
        ),
        ("Consignes", delivery["instructions"]),
    ]
    rows = "".join(f"<dt>{escape(label)}</dt><dd>{_e(value)}</dd>" for label, value in facts)
    lines = "".join(
        f'<tr><td class="coche">☐</td><td>{_e(line["sku"])}</td><td>{_e(line["name"])}</td>'
        f'<td class="nombre">{line["quantity"]}</td><td>{_e(line["format"])}</td></tr>'
        for line in order["lines"]
    )
    return (
        f'<section class="commande"><h2>Commande {_e(order["id"])}</h2><dl>{rows}</dl>'
        '<table><thead><tr><th></th><th>SKU</th><th>Produit</th><th class="nombre">Quantité</th>'
        f"<th>Format</th></tr></thead><tbody>{lines}</tbody></table></section>"
    )


def pick_list_html(data: Mapping[str, Any], *, generated: datetime | None = None) -> str:
    """A printable page (fr-CA, no outside resource): one block per order, then totals."""
    day = date.fromisoformat(data["date"])
    title = f"Liste de préparation du {day.isoformat()} — {data['provider']['name']}"
    count = len(data["orders"])
    blocks = "".join(_order_html(order) for order in data["orders"]) or (
        "<p>Aucune commande à livrer ce jour-là.</p>"
    )
    totals = "".join(
        f"<tr><td>{_e(total['sku'])}</td><td>{_e(total['name'])}</td>"
        f'<td class="nombre">{total["quantity"]}</td><td>{_e(total["format"])}</td>'
        f'<td class="nombre">{total["orders"]}</td></tr>'
        for total in data["totals"]
    )
    stamp = format_datetime(generated) if generated else ""
    return (
        '<!DOCTYPE html>\n<html lang="fr-CA"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="sous-titre">{count} commande(s) à livrer (heure du Québec)'
        + (f" · produite le {escape(stamp)}" if stamp else "")
        + "</p>"
        + blocks
        + "<h2>Totaux par produit</h2>"
        + '<table><thead><tr><th>SKU</th><th>Produit</th><th class="nombre">Quantité</th>'
        + '<th>Format</th><th class="nombre">Commandes</th></tr></thead>'
        + f"<tbody>{totals}</tbody></table></body></html>\n"
    )
