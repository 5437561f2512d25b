"""Carts (``/portail/paniers``): the organisation's carts, one cart grouped by pôle and
fulfilment option, its delivery, window and purchase-order number, its lines.

GET  /portail/paniers                          the carts (those awaiting approval first, for
                                               an approver); a form for a new one
POST /portail/paniers                          a new cart, the person's current one
POST /portail/paniers/courant                  choose the current cart (the one search cards
                                               add to), or a new one at the next addition
POST /portail/paniers/lignes                   add an offer of a search to the current cart
                                               (htmx: a line of text in the card)
GET  /portail/paniers/{id}                     the cart
POST /portail/paniers/{id}                     its name, delivery site, window, PO number,
                                               who is billed
POST /portail/paniers/{id}/lignes/{line}       a line's new quantity
POST /portail/paniers/{id}/lignes/{line}/retrait  the line taken out
POST /portail/paniers/{id}/mode                one fulfilment option for a pôle's lines

The quote, the approval step and the order are :mod:`.cart_orders`. Every change goes through
:class:`~reseau_poles.buyer.services.cart_checkout.CartService` (its checks, a 4xx naming the
field) and is audited; a refusal comes back as the page's message.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time
from typing import Any, Final

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from reseau_poles.participant import ApiError
from reseau_poles.portal.accounts import User
from reseau_poles.portal.auth import CurrentUser, PageError, audit, see_other
from reseau_poles.portal.forms import Form, read_form
from reseau_poles.portal.site import portal_of
from reseau_poles.portal.templating import render, text, wants_fragment
from reseau_poles.protocol.profile.delivery_window import QUEBEC
from reseau_poles.storage import read_session

from ..requests import CartFields, CartIn, CartLineIn
from ..services.cart_approval import allowed
from ..services.cart_lines import change_fulfilment, read_cart
from ..services.carts import CartNotFound
from .portal import PREFIX
from .shared import (
    Buyer,
    Carts,
    Sites,
    current_cart_id,
    keep_current_cart,
    refusal_params,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

# Which form field a service's refusal names (its path).
FIELD_OF: Final = {
    "name": "name",
    "delivery_site_id": "delivery_site_id",
    "delivery_window": "date",
    "delivery_window.start": "date",
    "delivery_window.end": "end",
    "purchase_order_number": "purchase_order_number",
    "billing": "billing_name",
    "quantity": "quantity",
}


def cart_url(cart_id: str, rest: str = "") -> str:
    return f"{PREFIX}/paniers/{cart_id}{rest}"


def unknown_cart() -> PageError:
    return PageError(404, "cart.erreur.inconnu")


def _names(request: Request, ids: list[int | None]) -> dict[int, str]:
    portal = portal_of(request)
    found: dict[int, str] = {}
    with read_session(portal.factory) as session:
        for user_id in {i for i in ids if i is not None}:
            person = portal.accounts.user(session, user_id)
            if person is not None:
                found[user_id] = person.name
    return found


def _editable_carts(carts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in carts if c["approval"] in ("brouillon", "renvoye", "approuve")]


# --- the list --------------------------------------------------------------------------------


@router.get("/paniers", name="portail_carts")
async def carts_page(request: Request, user: CurrentUser, carts: Carts) -> Response:
    listed = await carts.list_carts(user.organisation_id)
    waiting = [c for c in listed if c["approval"] == "soumis"]
    return render(
        request,
        "portail/paniers.html",
        {
            "carts": listed,
            "waiting": waiting if user.has_role("approbateur") else [],
            "current_cart": current_cart_id(request),
            "form": Form(),
        },
    )


def _default_billing(user: User) -> dict[str, str]:
    return {"name": (user.organisation_name or user.organisation_id)[:255]}


async def _new_cart(carts: Carts, user: User, name: str | None) -> dict[str, Any]:
    wanted = CartIn(name=name, billing=_default_billing(user))
    return await carts.create(user.organisation_id, wanted)


@router.post("/paniers", name="portail_carts_create")
async def create_cart(request: Request, user: Buyer, carts: Carts) -> Response:
    form = await read_form(request)
    name = form.optional("name", max_length=255)
    if not form.ok:
        listed = await carts.list_carts(user.organisation_id)
        return render(
            request,
            "portail/paniers.html",
            {"carts": listed, "waiting": [], "current_cart": None, "form": form},
            status=400,
        )
    cart = await _new_cart(carts, user, name)
    await audit(request, user, "panier.cree", cart["id"], {"nom": name})
    response = see_other(request, cart_url(cart["id"]), ok="cart.cree")
    keep_current_cart(response, request, cart["id"])
    return response


def _back(form: Form, default: str) -> str:
    """Where to go after a form: its ``suivant`` when it is a page of this portal."""
    target = form.get("suivant")
    if target.startswith(PREFIX + "/") and "//" not in target and "\\" not in target:
        return target
    return default


@router.post("/paniers/courant", name="portail_carts_current")
async def choose_current(request: Request, user: Buyer, carts: Carts) -> Response:
    form = await read_form(request)
    chosen = form.get("panier")
    back = _back(form, f"{PREFIX}/paniers")
    if chosen == "nouveau":
        cart = await _new_cart(carts, user, None)
        await audit(request, user, "panier.cree", cart["id"])
        chosen = cart["id"]
    else:
        listed = await carts.list_carts(user.organisation_id)
        if chosen not in {c["id"] for c in _editable_carts(listed)}:
            return see_other(request, back, error="cart.erreur.inconnu")
    response = see_other(request, back, ok="cart.courant_choisi")
    keep_current_cart(response, request, chosen)
    return response


@router.post("/paniers/lignes", name="portail_carts_add")
async def add_to_cart(request: Request, user: Buyer, carts: Carts) -> Response:
    """An offer of a search into the current cart (a new cart when there is none to fill)."""
    form = await read_form(request)
    back = _back(form, f"{PREFIX}/recherche")
    quantity = form.integer("quantity", minimum=1, maximum=1_000_000)
    ids = {name: form.require(name) for name in ("bpp_id", "provider_id", "item_id")}
    if not form.ok:
        key = form.errors.get("quantity", "cart.erreur.ligne")
        return _added(request, back, None, error=key)
    listed = await carts.list_carts(user.organisation_id)
    current = current_cart_id(request)
    target = next((c for c in _editable_carts(listed) if c["id"] == current), None)
    created = target is None
    if target is None:
        target = await _new_cart(carts, user, None)
        await audit(request, user, "panier.cree", target["id"])
    try:
        line = CartLineIn(quantity=quantity or 1, **ids)
        cart = await carts.add_line(user.organisation_id, target["id"], line)
    except ValidationError:
        return _added(request, back, target["id"] if created else None, error="cart.erreur.ligne")
    except ApiError as exc:
        return _added(request, back, target["id"] if created else None, refusal=refusal_params(exc))
    await audit(
        request,
        user,
        "panier.ligne_ajoutee",
        cart["id"],
        {**ids, "quantite": quantity},
    )
    return _added(request, back, target["id"] if created else None, cart=cart)


def _added(
    request: Request,
    back: str,
    new_cart: str | None,
    *,
    cart: dict[str, Any] | None = None,
    error: str | None = None,
    refusal: dict[str, str] | None = None,
) -> Response:
    """After an addition: for htmx the line of text the card shows, else 303 back."""
    response: Response
    if wants_fragment(request):
        response = render(
            request,
            "portail/_ajout.html",
            {"cart": cart, "error": error, "refusal": refusal},
            status=200 if cart else 400,
            fragment=None,
        )
    elif cart is not None:
        name = cart["name"] or text(request, "cart.sans_nom")
        response = see_other(request, back, ok="cart.ligne_ajoutee", panier=name)
    elif refusal is not None:
        response = see_other(request, back, error="cart.refus", **refusal)
    else:
        response = see_other(request, back, error=error or "cart.erreur.ligne")
    if new_cart:
        keep_current_cart(response, request, new_cart)
    return response


# --- one cart ---------------------------------------------------------------------------------


def _window(cart: dict[str, Any]) -> tuple[datetime, datetime] | None:
    """The cart's delivery window in Québec's time."""
    window = cart["delivery_window"]
    if not window:
        return None
    start = datetime.fromisoformat(window["start"].replace("Z", "+00:00")).astimezone(QUEBEC)
    end = datetime.fromisoformat(window["end"].replace("Z", "+00:00")).astimezone(QUEBEC)
    return start, end


def _window_values(cart: dict[str, Any]) -> dict[str, str]:
    window = _window(cart)
    if window is None:
        return {"date": "", "start": "", "end": ""}
    start, end = window
    return {"date": start.date().isoformat(), "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}


def _cart_form(cart: dict[str, Any]) -> Form:
    form = Form()
    form.values.update(
        {
            "name": cart["name"] or "",
            "delivery_site_id": cart["delivery_site_id"] or "",
            "purchase_order_number": cart["purchase_order_number"] or "",
            "billing_name": (cart["billing"] or {}).get("name", ""),
            **_window_values(cart),
        }
    )
    return form


async def cart_page(
    request: Request,
    user: User,
    carts: Carts,
    sites: Sites,
    cart_id: str,
    *,
    form: Form | None = None,
    refusal: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The cart's page (again with ``form``'s errors and a service's ``refusal``)."""
    try:
        cart, groups = await read_cart(carts.factory, user.organisation_id, cart_id[:64])
    except CartNotFound:
        raise unknown_cart() from None
    approval = cart["approval"]
    names = await asyncio.to_thread(
        _names, request, [approval["submitted_by"], approval["decided_by"]]
    )
    known_sites = await sites.list(user.organisation_id)
    actions = allowed(approval["state"], user.roles, approval["required"])
    return render(
        request,
        "portail/panier.html",
        {
            "cart": cart,
            "groups": groups,
            "estimate": sum((g["estimate"] for g in groups), start=0),
            "sites": known_sites,
            "site_options": [("", text(request, "cart.aucun_site"))]
            + [(site["id"], site["name"]) for site in known_sites],
            "actions": actions,
            "names": names,
            "window": _window(cart),
            "form": form or _cart_form(cart),
            "refusal": refusal,
            "current_cart": current_cart_id(request),
        },
        status=status,
    )


@router.get("/paniers/{cart_id}", name="portail_cart")
async def show_cart(
    request: Request, cart_id: str, user: CurrentUser, carts: Carts, sites: Sites
) -> Response:
    return await cart_page(request, user, carts, sites, cart_id)


def _clock(form: Form, name: str) -> time | None:
    raw = form.get(name).strip()
    if not raw:
        return None
    try:
        return time.fromisoformat(raw[:5])
    except ValueError:
        form.error(name, "cart.erreur.heure")
        return None


def _read_fields(form: Form, site_ids: set[str]) -> CartFields | None:
    name = form.optional("name", max_length=255)
    site = form.get("delivery_site_id").strip() or None
    if site is not None and site not in site_ids:
        form.error("delivery_site_id", "champ.choix_invalide")
    po = form.optional("purchase_order_number", max_length=64)
    billing = form.optional("billing_name", max_length=255)
    day_text = form.get("date").strip()
    day = None
    if day_text:
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            form.error("date", "cart.erreur.date")
    start, end = _clock(form, "start"), _clock(form, "end")
    window = None
    if day is not None or start is not None or end is not None:
        if day is None or start is None or end is None:
            form.error("date", "cart.erreur.plage_incomplete")
        elif end <= start:
            form.error("end", "cart.erreur.fin_avant_debut")
        else:
            window = {
                "start": datetime.combine(day, start, QUEBEC),
                "end": datetime.combine(day, end, QUEBEC),
            }
    if not form.ok:
        return None
    try:
        return CartFields.model_validate(
            {
                "name": name,
                "delivery_site_id": site,
                "purchase_order_number": po,
                "billing": {"name": billing} if billing else None,
                "delivery_window": window,
            }
        )
    except ValidationError:
        form.error("date", "cart.erreur.plage")
        return None


@router.post("/paniers/{cart_id}", name="portail_cart_fields")
async def change_fields(
    request: Request, cart_id: str, user: Buyer, carts: Carts, sites: Sites
) -> Response:
    cart_id = cart_id[:64]
    form = await read_form(request)
    known = {site["id"] for site in await sites.list(user.organisation_id)}
    fields = _read_fields(form, known)
    if fields is None:
        return await cart_page(request, user, carts, sites, cart_id, form=form, status=400)
    present = {"name", "delivery_site_id", "purchase_order_number", "billing", "delivery_window"}
    try:
        await carts.patch(user.organisation_id, cart_id, fields, present)
    except CartNotFound:
        raise unknown_cart() from None
    except ApiError as exc:
        field = FIELD_OF.get(exc.path or "")
        if field:
            form.error(field, "cart.erreur.champ_refuse")
        return await cart_page(
            request,
            user,
            carts,
            sites,
            cart_id,
            form=form,
            refusal=refusal_params(exc),
            status=exc.status if 400 <= exc.status < 500 else 400,
        )
    await audit(
        request,
        user,
        "panier.modifie",
        cart_id,
        {"site": fields.delivery_site_id, "bon_de_commande": fields.purchase_order_number},
    )
    return see_other(request, cart_url(cart_id), ok="cart.enregistre")


async def _line(carts: Carts, user: User, cart_id: str, line_id: str) -> dict[str, Any]:
    try:
        cart = await asyncio.to_thread(carts.read, user.organisation_id, cart_id)
    except CartNotFound:
        raise unknown_cart() from None
    line = next((ln for ln in cart["lines"] if str(ln["id"]) == line_id), None)
    if line is None:
        raise PageError(404, "cart.erreur.ligne_inconnue")
    return line


@router.post("/paniers/{cart_id}/lignes/{line_id}", name="portail_cart_line")
async def change_quantity(
    request: Request, cart_id: str, line_id: str, user: Buyer, carts: Carts
) -> Response:
    cart_id = cart_id[:64]
    line = await _line(carts, user, cart_id, line_id[:18])
    form = await read_form(request)
    quantity = form.integer("quantity", minimum=1, maximum=1_000_000)
    if not form.ok or quantity is None:
        return see_other(request, cart_url(cart_id), error="cart.erreur.quantite")
    wanted = CartLineIn(
        bpp_id=line["bpp_id"],
        provider_id=line["provider_id"],
        item_id=line["item_id"],
        quantity=quantity,
        fulfilment_id=line["fulfilment_id"],
    )
    try:
        await carts.add_line(user.organisation_id, cart_id, wanted)
    except ApiError as exc:
        return see_other(request, cart_url(cart_id), error="cart.refus", **refusal_params(exc))
    await audit(
        request,
        user,
        "panier.quantite_modifiee",
        cart_id,
        {"ligne": line["id"], "article": line["item_id"], "quantite": quantity},
    )
    return see_other(request, cart_url(cart_id), ok="cart.quantite_modifiee")


@router.post("/paniers/{cart_id}/lignes/{line_id}/retrait", name="portail_cart_line_remove")
async def remove_line(
    request: Request, cart_id: str, line_id: str, user: Buyer, carts: Carts
) -> Response:
    cart_id = cart_id[:64]
    line = await _line(carts, user, cart_id, line_id[:18])
    try:
        await carts.remove_line(user.organisation_id, cart_id, str(line["id"]))
    except ApiError as exc:
        return see_other(request, cart_url(cart_id), error="cart.refus", **refusal_params(exc))
    await audit(
        request,
        user,
        "panier.ligne_retiree",
        cart_id,
        {"ligne": line["id"], "article": line["item_id"]},
    )
    return see_other(request, cart_url(cart_id), ok="cart.ligne_retiree")


@router.post("/paniers/{cart_id}/mode", name="portail_cart_fulfilment")
async def choose_fulfilment(request: Request, cart_id: str, user: Buyer, carts: Carts) -> Response:
    cart_id = cart_id[:64]
    form = await read_form(request)
    bpp_id = form.require("bpp_id")
    provider_id = form.require("provider_id")
    option = form.optional("fulfilment_id") or None
    if not form.ok:
        return see_other(request, cart_url(cart_id), error="cart.erreur.mode")
    try:
        await change_fulfilment(
            carts.factory, user.organisation_id, cart_id, bpp_id, provider_id, option
        )
    except CartNotFound:
        raise unknown_cart() from None
    except ApiError as exc:
        return see_other(request, cart_url(cart_id), error="cart.refus", **refusal_params(exc))
    await audit(
        request, user, "panier.mode_modifie", cart_id, {"pole": provider_id, "mode": option}
    )
    return see_other(request, cart_url(cart_id), ok="cart.mode_modifie")
