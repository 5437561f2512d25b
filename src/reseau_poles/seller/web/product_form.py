"""A product as the pôle's pages edit it: the form's fields (every field of the catalogue's
product, :class:`~reseau_poles.seller.requests.ItemIn`) read and checked into an ``ItemIn``,
each refusal a catalogue key beside its field; and a stored product as the form's values.

The model's own rules stay the judge: what the form does not check itself (a reserved SKU,
a maximum below the minimum …) comes back from pydantic and is put beside its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError

from reseau_poles.portal.forms import Form
from reseau_poles.protocol.profile import Certification, Conservation, Region, Unit

from ..requests import MAX_COUNT, ItemIn, Money
from ..services.csv_io import slug
from .common import CERTIFICATION_KEYS, CONSERVATION_KEYS, UNIT_KEYS

TEXT_FIELDS = ("short_desc", "long_desc", "short_desc_en")
CHECKED = "on"
MONTHS = tuple(range(1, 13))
_MONEY: TypeAdapter[Decimal] = TypeAdapter(Money)


def money(form: Form, name: str) -> Decimal | None:
    """A price: a decimal number, at least 0, at most 2 decimals (the catalogue's money)."""
    value = form.decimal(name, minimum=Decimal(0))
    if value is None or name in form.errors:
        return None
    try:
        return _MONEY.validate_python(value)
    except ValidationError as exc:
        kind = exc.errors()[0]["type"]
        form.error(
            name,
            "gestion.products.erreur.decimales"
            if kind == "decimal_max_places"
            else "champ.hors_limites",
        )
        return None


def count(form: Form, name: str, *, minimum: int, required: bool = True) -> int | None:
    return form.integer(name, minimum=minimum, maximum=MAX_COUNT, required=required)


def input_number(value: Any, lang: str, places: int | None = None) -> str:
    """A number as a person types it back: ``12,50`` in French, ``12.50`` in English, no
    thousands separator (the form reads both marks)."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value))
    text = f"{number:.{places}f}" if places is not None else format(number.normalize(), "f")
    return text.replace(".", ",") if lang == "fr" else text


# The model's refusals that say more than « invalid »: field → catalogue key.
_FIELD_KEYS = {
    "sku": "gestion.products.erreur.sku",
    "image_url": "gestion.products.erreur.url",
    "maximum_quantity": "gestion.products.erreur.max_min",
    "origin_region": "champ.choix_invalide",
    "season_months": "champ.choix_invalide",
}
_TYPE_KEYS = {
    "string_too_short": "champ.requis",
    "missing": "champ.requis",
    "string_too_long": "champ.trop_long",
    "decimal_max_places": "gestion.products.erreur.decimales",
    "greater_than": "champ.hors_limites",
    "greater_than_equal": "champ.hors_limites",
    "less_than_equal": "champ.hors_limites",
    "decimal_max_digits": "champ.hors_limites",
    "decimal_whole_digits": "champ.hors_limites",
}


def _refusal(error: Mapping[str, Any]) -> tuple[str, str]:
    field = str(error["loc"][0]) if error.get("loc") else "sku"
    if field == "sku" and "réservé" in str(error.get("msg", "")):
        return field, "gestion.products.erreur.sku_reserve"
    key = _TYPE_KEYS.get(str(error.get("type")))
    if field in _FIELD_KEYS and error.get("type") in ("value_error", "string_pattern_mismatch"):
        key = _FIELD_KEYS[field]
    return field, key or "gestion.products.erreur.invalide"


def read_product(
    form: Form, *, sku: str | None, categories: Mapping[str, str]
) -> tuple[ItemIn | None, bool]:
    """The product the form describes, or ``None`` with ``form.errors`` filled; and whether
    its stock is left as it is (an edit whose stock field still shows the stock it was opened
    with: units sold meanwhile stay sold). ``sku``: the product edited (``None``: a new one,
    its SKU from the form). ``categories``: the pôle's category codes by name."""
    values: dict[str, Any] = {
        "sku": sku if sku is not None else form.require("sku", max_length=64),
        "name": form.require("name"),
        "name_en": form.optional("name_en"),
        "category_name": form.require("category_name"),
        "producer": form.optional("producer"),
        "image_url": form.optional("image_url", max_length=2048),
    }
    for name in TEXT_FIELDS:
        values[name] = form.optional(name, max_length=5000)
    values["unit"] = form.choice("unit", UNIT_KEYS)
    values["conservation"] = form.choice("conservation", CONSERVATION_KEYS)
    values["origin_region"] = form.choice(
        "origin_region", {r.value for r in Region}, required=False
    )
    values["pack_size"] = form.decimal("pack_size", minimum=Decimal("0.001"))
    values["price"] = money(form, "price")
    values["minimum_quantity"] = count(form, "minimum_quantity", minimum=1)
    values["maximum_quantity"] = count(form, "maximum_quantity", minimum=1, required=False)
    values["stock"] = count(form, "stock", minimum=0)
    values["taxable"] = form.get("taxable") == CHECKED
    chosen = form.getlist("certifications")
    if any(code not in CERTIFICATION_KEYS for code in chosen):
        form.error("certifications", "champ.choix_invalide")
    values["certifications"] = [code for code in chosen if code in CERTIFICATION_KEYS]
    months = form.getlist("season_months")
    if any(not (m.isdigit() and int(m) in MONTHS) for m in months):
        form.error("season_months", "champ.choix_invalide")
        months = []
    # Every month, or none ticked: all year (no season).
    values["season_months"] = (
        sorted({int(m) for m in months}) if 0 < len(set(months)) < len(MONTHS) else None
    )
    name = values["category_name"]
    given = form.optional("category_id", max_length=64)
    values["category_id"] = given or categories.get(name) or (slug(name) if name else None)
    keep_stock = (
        sku is not None
        and values["stock"] is not None
        and form.get("stock_avant").strip() == str(values["stock"])
    )
    if not form.ok:
        return None, keep_stock
    try:
        product = ItemIn.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            field, key = _refusal(error)
            form.error(field, key)
        return None, keep_stock
    return product, keep_stock


def product_form(row: Mapping[str, Any], lang: str) -> Form:
    """A stored product (a row of the products with ``available``) as the form's values."""
    form = Form()
    text = {
        "sku": row["sku"],
        "name": row["name"],
        "name_en": row["name_en"],
        "short_desc": row["short_desc"],
        "long_desc": row["long_desc"],
        "short_desc_en": row["short_desc_en"],
        "category_name": row["category_name"],
        "category_id": row["category_id"],
        "producer": row["producer"],
        "image_url": row["image_url"],
        "unit": row["unit"],
        "conservation": row["conservation"],
        "origin_region": row["origin_region"],
        "pack_size": input_number(row["pack_size"], lang),
        "price": input_number(row["price"], lang, 2),
        "minimum_quantity": row["minimum_quantity"],
        "maximum_quantity": row["maximum_quantity"],
        "stock": row["available"],
        "stock_avant": row["available"],
    }
    form.values = {k: "" if v is None else str(v) for k, v in text.items()}
    if row["taxable"]:
        form.values["taxable"] = CHECKED
    if row["active"]:
        form.values["active"] = CHECKED
    codes = [c for c in (row["certifications"] or "").split(",") if c]
    months = [m for m in (row["season_months"] or "").split(",") if m]
    form.lists = {"certifications": codes, "season_months": months}
    return form


def new_product_form() -> Form:
    """An empty product: one unit of sale, ambient, 1 minimum, offered."""
    form = Form()
    form.values = {
        "unit": Unit.UNITE.value,
        "conservation": Conservation.AMBIANT.value,
        "pack_size": "1",
        "minimum_quantity": "1",
        "stock": "0",
        "active": CHECKED,
    }
    return form


def certification_codes() -> list[str]:
    return [c.value for c in Certification]
