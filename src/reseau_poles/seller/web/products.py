"""The pôle's products (``/gestion/produits``): the table, its quick edit, a product's whole
form, the CSV export.

GET  /gestion/produits                       the table (``q``, ``categorie``, ``etat``,
                                             ``page``); every role reads it, ``gestion`` edits
GET  /gestion/produits/export                the active products as CSV (``separateur=pv``:
                                             ``;`` and decimal commas, for Excel in French)
GET  /gestion/produits/nouveau               a new product's form
POST /gestion/produits/nouveau               create it
GET  /gestion/produits/{sku}/fiche           a product's whole form
POST /gestion/produits/{sku}/fiche           save it
GET  /gestion/produits/{sku}/rapide          price, stock, availability: for htmx the row as
                                             a small form, else a page
POST /gestion/produits/{sku}/rapide          save them: for htmx the row again (or the small
                                             form with its errors, 422), else 303 to the table
GET  /gestion/produits/{sku}/ligne           the row (htmx: « cancel » of the small form)

Every path of one product ends with a word after its SKU, so no SKU can take the place of
``nouveau``, ``export`` or ``import``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from reseau_poles.portal.accounts import User
from reseau_poles.portal.auth import CurrentUser, PageError, audit, see_other
from reseau_poles.portal.forms import Form, read_form
from reseau_poles.portal.i18n import format_number
from reseau_poles.portal.templating import language, render, wants_fragment
from reseau_poles.protocol.profile import Region, region_label

from ..api.deps import services
from ..repositories.products import ItemFilter
from ..services.products import QuickChange
from .common import (
    CERTIFICATION_KEYS,
    CONSERVATION_KEYS,
    MANAGE,
    UNIT_KEYS,
    Manager,
    call,
    part,
)
from .portal import PREFIX
from .product_form import (
    CHECKED,
    MONTHS,
    count,
    input_number,
    money,
    new_product_form,
    product_form,
    read_product,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

PAGE_SIZE = 25
MAX_PAGE = 40_000
STATES = {"actifs": True, "retires": False, "tous": None}
LIST = f"{PREFIX}/produits"


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) <= MAX_PAGE else 1


def product_url(sku: str, what: str) -> str:
    return f"{LIST}/{sku}/{what}"


def _shared(request: Request, user: User) -> dict[str, Any]:
    """What the table and each of its rows use."""
    return {
        "can_edit": user.has_role(MANAGE),
        "product_url": product_url,
        "input_number": input_number,
        "pack_size": lambda value: format_number(Decimal(value).normalize(), language(request)),
        "unit_keys": UNIT_KEYS,
        "lang": language(request),
        "back": _list_url(request),
    }


def _list_url(request: Request) -> str:
    """The table as the person left it (its filters and page): where to come back after a
    quick edit. This very request's, the page htmx is on, or ``?retour=``; else the table."""
    candidates = [
        request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        request.query_params.get("retour") or "",
    ]
    current = urlsplit(request.headers.get("hx-current-url") or "")
    candidates.insert(1, current.path + (f"?{current.query}" if current.query else ""))
    for candidate in candidates:
        if candidate == LIST or candidate.startswith(LIST + "?"):
            return candidate[:2000]
    return LIST


def _row_context(
    request: Request, user: User, row: Mapping[str, Any], **more: Any
) -> dict[str, Any]:
    return {**_shared(request, user), "p": row, **more}


@router.get("/produits", name="gestion_products")
async def products_page(request: Request, user: CurrentUser) -> HTMLResponse:
    params = request.query_params
    text = (params.get("q") or "").strip()[:200]
    category = (params.get("categorie") or "").strip()[:255]
    state = str(params.get("etat")) if params.get("etat") in STATES else "actifs"
    page = _page_number(params.get("page"))
    found = services(request)
    where = ItemFilter(text=text or None, category=category or None, active=STATES[state])
    rows, total = await call(
        found.products.page,
        user.organisation_id,
        where,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    categories = await call(found.products.categories, user.organisation_id)
    shown = (("q", text), ("categorie", category), ("etat", "" if state == "actifs" else state))
    kept = {k: v for k, v in shown if v}
    return render(
        request,
        "gestion/produits.html",
        {
            "products": rows,
            "total": total,
            "page": page,
            "pages": max(1, math.ceil(total / PAGE_SIZE)),
            "first": (page - 1) * PAGE_SIZE + 1 if rows else 0,
            "last": (page - 1) * PAGE_SIZE + len(rows),
            "paging_url": f"{LIST}?{urlencode(kept)}&" if kept else f"{LIST}?",
            "q": text,
            "category": category,
            "categories": sorted(categories),
            "state": state,
            "states": list(STATES),
            **_shared(request, user),
        },
    )


@router.get("/produits/export", name="gestion_products_export")
async def export(request: Request, user: CurrentUser) -> Response:
    semicolon = request.query_params.get("separateur") == "pv"
    text = await call(
        services(request).catalog_files.export,
        user.organisation_id,
        delimiter=";" if semicolon else ",",
        bom=semicolon,
    )
    await audit(request, user, "produits.exportes", user.organisation_id)
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{user.organisation_id}-produits.csv"',
            "Cache-Control": "no-store",
        },
    )


# --- one product's whole form --------------------------------------------------------------------


def _form_context(request: Request, form: Form, categories: dict[str, str]) -> dict[str, Any]:
    return {
        "form": form,
        "unit_keys": UNIT_KEYS,
        "conservation_keys": CONSERVATION_KEYS,
        "certification_keys": CERTIFICATION_KEYS,
        "regions": [(r.value, f"{region_label(r)} ({r.value})") for r in Region],
        "months": MONTHS,
        "categories": sorted(categories),
        "lang": language(request),
    }


async def _stored(request: Request, user: User, sku: str) -> Mapping[str, Any]:
    row = await call(services(request).products.product, user.organisation_id, sku)
    if row is None:
        raise PageError(404, "gestion.products.introuvable", sku=sku[:64])
    return row


@router.get("/produits/nouveau", name="gestion_product_new")
async def new_product(request: Request, user: Manager) -> HTMLResponse:
    categories = await call(services(request).products.categories, user.organisation_id)
    context = _form_context(request, new_product_form(), categories)
    return render(request, "gestion/produit_fiche.html", {**context, "sku": None})


@router.get("/produits/{sku}/fiche", name="gestion_product")
async def product_page(request: Request, sku: str, user: Manager) -> HTMLResponse:
    row = await _stored(request, user, sku)
    categories = await call(services(request).products.categories, user.organisation_id)
    context = _form_context(request, product_form(row, language(request)), categories)
    return render(request, "gestion/produit_fiche.html", {**context, "sku": sku, "row": row})


async def _save(request: Request, user: User, sku: str | None) -> Response:
    found = services(request)
    row = await _stored(request, user, sku) if sku is not None else None
    form = await read_form(request)
    categories = await call(found.products.categories, user.organisation_id)
    product, keep_stock = read_product(form, sku=sku, categories=categories)
    taken = (
        product is not None
        and sku is None
        and await call(found.products.product, user.organisation_id, product.sku) is not None
    )
    if taken:
        form.error("sku", "gestion.products.erreur.sku_pris")
        product = None
    if product is None:
        context = _form_context(request, form, categories)
        return render(
            request, "gestion/produit_fiche.html", {**context, "sku": sku, "row": row}, 422
        )
    active = form.get("active") == CHECKED
    await call(
        found.products.save, user.organisation_id, product, keep_stock=keep_stock, active=active
    )
    detail = {"prix": str(product.price), "offert": active}
    if not keep_stock:
        detail["stock"] = product.stock
    await audit(request, user, "produit.modifie" if sku else "produit.cree", product.sku, detail)
    return see_other(request, LIST, ok="gestion.products.enregistre", sku=product.sku)


@router.post("/produits/nouveau", name="gestion_product_create")
async def create_product(request: Request, user: Manager) -> Response:
    return await _save(request, user, None)


@router.post("/produits/{sku}/fiche", name="gestion_product_save")
async def save_product(request: Request, sku: str, user: Manager) -> Response:
    return await _save(request, user, sku)


# --- the quick edit of a row ---------------------------------------------------------------------


def _quick_form(row: Mapping[str, Any], lang: str) -> Form:
    form = Form()
    form.values = {
        "price": input_number(row["price"], lang, 2),
        "stock": str(row["available"]),
        "stock_avant": str(row["available"]),
    }
    if row["active"]:
        form.values["active"] = CHECKED
    return form


def _quick(
    request: Request, user: User, row: Mapping[str, Any], form: Form, status: int = 200
) -> Any:
    context = _row_context(request, user, row, form=form)
    if wants_fragment(request):
        return part(request, "gestion/_produit_edition.html", context, status)
    return render(request, "gestion/produit_rapide.html", context, status)


@router.get("/produits/{sku}/rapide", name="gestion_product_quick")
async def quick_form(request: Request, sku: str, user: Manager) -> Any:
    row = await _stored(request, user, sku)
    return _quick(request, user, row, _quick_form(row, language(request)))


@router.get("/produits/{sku}/ligne", name="gestion_product_row")
async def product_row(request: Request, sku: str, user: CurrentUser) -> Any:
    if not wants_fragment(request):
        return see_other(request, LIST)
    row = await _stored(request, user, sku)
    return part(request, "gestion/_produit_ligne.html", _row_context(request, user, row))


@router.post("/produits/{sku}/rapide", name="gestion_product_quick_save")
async def quick_save(request: Request, sku: str, user: Manager) -> Any:
    row = await _stored(request, user, sku)
    form = await read_form(request)
    price = money(form, "price")
    stock = count(form, "stock", minimum=0)
    if not form.ok or price is None or stock is None:
        return _quick(request, user, row, form, 422)
    changed = str(stock) != form.get("stock_avant").strip()
    active = form.get("active") == CHECKED
    note = f"portail : {user.email}"[:255]
    change = QuickChange(price=price, stock=stock if changed else None, active=active)
    saved = await call(
        services(request).products.quick_change, user.organisation_id, sku, change, note
    )
    if saved is None:
        raise PageError(404, "gestion.products.introuvable", sku=sku[:64])
    detail: dict[str, Any] = {"prix": str(price), "offert": active}
    if changed:
        detail["stock"] = stock
    if Decimal(row["price"]) != price or changed or bool(row["active"]) != active:
        await audit(request, user, "produit.modifie_rapide", sku, detail)
    if not wants_fragment(request):
        back = form.get("retour")
        target = back if back.startswith(LIST + "?") or back == LIST else LIST
        return see_other(request, target, ok="gestion.products.enregistre", sku=sku)
    return part(
        request, "gestion/_produit_ligne.html", _row_context(request, user, saved, saved=True)
    )
