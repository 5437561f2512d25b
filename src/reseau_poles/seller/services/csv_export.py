"""A pôle's active products as the CSV the import reads back to the same models
(:mod:`.csv_io`: columns, cells, formulas neutralised)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from ..repositories import products as product_repo
from ..requests import ItemIn
from .csv_io import HEADER, LIST_SEPARATOR, format_season, neutralise_formula


def _number(value: Decimal, *, comma: bool, places: int | None = None) -> str:
    text = f"{value:.{places}f}" if places is not None else format(value.normalize(), "f")
    return text.replace(".", ",") if comma else text


def _code(value: Any) -> str:
    return str(getattr(value, "value", value))


def item_cells(item: ItemIn, *, comma: bool) -> list[str]:
    cells: dict[str, str] = {
        "sku": item.sku,
        "nom": item.name,
        "description": item.short_desc or "",
        "description_longue": item.long_desc or "",
        "nom_en": item.name_en or "",
        "description_en": item.short_desc_en or "",
        "categorie": item.category_name,
        "categorie_code": item.category_id,
        "unite": _code(item.unit),
        "format": _number(item.pack_size, comma=comma),
        "prix": _number(item.price, comma=comma, places=2),
        "quantite_min": str(item.minimum_quantity),
        "quantite_max": str(item.maximum_quantity) if item.maximum_quantity else "",
        "taxable": "oui" if item.taxable else "non",
        "certifications": LIST_SEPARATOR.join(_code(c) for c in item.certifications),
        "conservation": _code(item.conservation),
        "producteur": item.producer or "",
        "region_origine": item.origin_region or "",
        "saison": format_season(item.season_months) if item.season_months else "",
        "stock": str(item.stock),
        "image_url": item.image_url or "",
    }
    return [neutralise_formula(cells[name]) for name in HEADER]


def items_to_csv(products: Iterable[ItemIn], *, delimiter: str = ",", bom: bool = False) -> str:
    """The products as a CSV the import reads back to the same models. With ``;`` numbers
    take a decimal comma (Excel in French)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADER)
    for product in products:
        writer.writerow(item_cells(product, comma=delimiter == ";"))
    return ("\ufeff" if bom else "") + out.getvalue()


def export_csv(
    session: Session, provider_id: str, *, delimiter: str = ",", bom: bool = False
) -> str:
    """The provider's active products, by SKU."""
    rows = product_repo.all_items(session, provider_id)
    return items_to_csv(
        (product_repo.item_in_from_row(row) for row in rows), delimiter=delimiter, bom=bom
    )
