"""Order guides (``/portail/guides``): the organisation's saved lists of usual products and
quantities, on :class:`~..services.guides.GuideService`; ordering one makes a cart
(``/portail/paniers/{id}``).

GET  /portail/guides                              the guides, each with « Commander ce guide »
POST /portail/guides                              a new guide: empty (``name``) or from an
                                                  order (``name``, ``commande``)
GET  /portail/guides/{id}                         the guide: its lines and quantities
POST /portail/guides/{id}/quantites               new quantities (0 takes a line out)
POST /portail/guides/{id}/lignes                  add a product already ordered
POST /portail/guides/{id}/lignes/{line}/retrait   take a line out
POST /portail/guides/{id}/nom                     rename
POST /portail/guides/{id}/suppression             delete
POST /portail/guides/{id}/commande                a new cart of its lines → its page

Reading: every signed-in person; changing and ordering: ``acheteur`` or ``approbateur``.
Every change is audited (``guide.*``).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from reseau_poles.participant import ApiError
from reseau_poles.portal.accounts import User
from reseau_poles.portal.auth import CurrentUser, PageError, audit, require_role, see_other
from reseau_poles.portal.forms import Form, read_form
from reseau_poles.portal.templating import render

from ..api.deps import Guides
from ..services.guides import MAX_QUANTITY, GuideError, GuideNotFound
from .portal import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)

Buyer = Annotated[User, Depends(require_role("acheteur", "approbateur"))]

# The service's refusals: code → catalogue key.
ERRORS = {
    "nom_requis": "champ.requis",
    "nom_trop_long": "champ.trop_long",
    "quantite_invalide": "champ.hors_limites",
    "commande_inconnue": "guides.erreur.commande_inconnue",
    "commande_vide": "guides.erreur.commande_vide",
    "produit_inconnu": "guides.erreur.produit_inconnu",
    "trop_de_lignes": "guides.erreur.trop_de_lignes",
    "guide_vide": "guides.erreur.guide_vide",
}
MAX_REFUSED_SHOWN = 3


def _guide_url(guide_id: str) -> str:
    return f"{PREFIX}/guides/{guide_id}"


def product_value(product: dict[str, Any]) -> str:
    """A product's value in the « add » list: its seller node, pôle and item."""
    return urlencode({"b": product["bpp_id"], "p": product["provider_id"], "i": product["item_id"]})


def read_product(value: str) -> tuple[str, str, str] | None:
    try:
        parts = parse_qs(value[:2000], max_num_fields=3)
        return parts["b"][0], parts["p"][0], parts["i"][0]
    except (KeyError, IndexError, ValueError):  # ValueError: more fields than a product has
        return None


async def _guide(guides: Guides, user: User, guide_id: str) -> dict[str, Any]:
    try:
        return await guides.get(user.organisation_id, guide_id)
    except GuideNotFound:
        raise PageError(404, "guides.introuvable") from None


# --- the list ----------------------------------------------------------------------------------


async def _list_page(
    request: Request, guides: Guides, user: User, form: Form | None = None, status: int = 200
) -> HTMLResponse:
    return render(
        request,
        "portail/guides.html",
        {"guides": await guides.list_guides(user.organisation_id), "form": form},
        status=status,
    )


@router.get("/guides", name="portail_guides")
async def guides_page(request: Request, user: CurrentUser, guides: Guides) -> HTMLResponse:
    return await _list_page(request, guides, user)


@router.post("/guides", name="portail_guides_create")
async def create_guide(request: Request, user: Buyer, guides: Guides) -> Response:
    form = await read_form(request)
    name = form.require("name")
    order_id = form.optional("commande", max_length=64)
    if not form.ok:
        if order_id:
            return see_other(request, f"{PREFIX}/commandes/{order_id}", error="guides.nom_requis")
        return await _list_page(request, guides, user, form, 400)
    try:
        if order_id:
            guide = await guides.from_order(user.organisation_id, order_id, name, user_id=user.id)
        else:
            guide = await guides.create(user.organisation_id, name, user_id=user.id)
    except GuideError as exc:
        if order_id:
            return see_other(
                request,
                f"{PREFIX}/commandes/{order_id}",
                error=ERRORS.get(exc.code, "erreur.requete"),
            )
        form.error("name", ERRORS.get(exc.code, "erreur.requete"))
        return await _list_page(request, guides, user, form, 400)
    await audit(
        request,
        user,
        "guide.cree",
        guide["id"],
        {"nom": guide["name"], "commande": order_id, "lignes": len(guide["lines"])},
    )
    return see_other(request, _guide_url(guide["id"]), ok="guides.cree", nom=guide["name"])


# --- one guide ---------------------------------------------------------------------------------


async def _guide_page(
    request: Request,
    guides: Guides,
    user: User,
    guide: dict[str, Any],
    form: Form | None = None,
    status: int = 200,
) -> HTMLResponse:
    taken = {(line["bpp_id"], line["provider_id"], line["item_id"]) for line in guide["lines"]}
    products = [
        {**p, "value": product_value(p)}
        for p in await guides.ordered_products(user.organisation_id)
        if (p["bpp_id"], p["provider_id"], p["item_id"]) not in taken
    ]
    return render(
        request,
        "portail/guide.html",
        {"guide": guide, "products": products, "form": form, "max_quantity": MAX_QUANTITY},
        status=status,
    )


@router.get("/guides/{guide_id}", name="portail_guide")
async def guide_page(
    request: Request, guide_id: str, user: CurrentUser, guides: Guides
) -> HTMLResponse:
    return await _guide_page(request, guides, user, await _guide(guides, user, guide_id))


@router.post("/guides/{guide_id}/quantites", name="portail_guide_quantities")
async def change_quantities(
    request: Request, guide_id: str, user: Buyer, guides: Guides
) -> Response:
    guide = await _guide(guides, user, guide_id)
    form = await read_form(request)
    quantities: dict[int, int] = {}
    for line in guide["lines"]:
        name = f"quantite_{line['id']}"
        if name not in form.values:
            continue
        value = form.integer(name, minimum=0, maximum=MAX_QUANTITY)
        if value is not None and value != line["quantity"]:
            quantities[line["id"]] = value
    if not form.ok:
        return await _guide_page(request, guides, user, guide, form, 400)
    if quantities:
        await guides.set_quantities(user.organisation_id, guide["id"], quantities)
        await audit(
            request,
            user,
            "guide.modifie",
            guide["id"],
            {"quantites": {str(k): v for k, v in quantities.items()}},
        )
    return see_other(request, _guide_url(guide["id"]), ok="guides.enregistre")


@router.post("/guides/{guide_id}/lignes", name="portail_guide_add")
async def add_product(request: Request, guide_id: str, user: Buyer, guides: Guides) -> Response:
    guide = await _guide(guides, user, guide_id)
    form = await read_form(request)
    product = read_product(form.require("produit", max_length=2000))
    quantity = form.integer("quantite", minimum=1, maximum=MAX_QUANTITY)
    if product is None and "produit" not in form.errors:
        form.error("produit", "champ.choix_invalide")
    if not form.ok or product is None or quantity is None:
        return await _guide_page(request, guides, user, guide, form, 400)
    try:
        await guides.add_product(user.organisation_id, guide["id"], *product, quantity)
    except GuideError as exc:
        form.error("produit", ERRORS.get(exc.code, "erreur.requete"))
        return await _guide_page(request, guides, user, guide, form, 400)
    await audit(
        request,
        user,
        "guide.modifie",
        guide["id"],
        {"ajout": {"pole": product[1], "article": product[2], "quantite": quantity}},
    )
    return see_other(request, _guide_url(guide["id"]), ok="guides.ligne_ajoutee")


@router.post("/guides/{guide_id}/lignes/{line_id}/retrait", name="portail_guide_remove")
async def remove_line(
    request: Request, guide_id: str, line_id: int, user: Buyer, guides: Guides
) -> Response:
    guide = await _guide(guides, user, guide_id)
    if not any(line["id"] == line_id for line in guide["lines"]):
        raise PageError(404, "guides.ligne_introuvable")
    await guides.set_quantities(user.organisation_id, guide["id"], {line_id: 0})
    await audit(request, user, "guide.modifie", guide["id"], {"retrait": line_id})
    return see_other(request, _guide_url(guide["id"]), ok="guides.ligne_retiree")


@router.post("/guides/{guide_id}/nom", name="portail_guide_rename")
async def rename(request: Request, guide_id: str, user: Buyer, guides: Guides) -> Response:
    guide = await _guide(guides, user, guide_id)
    form = await read_form(request)
    name = form.require("name")
    if form.ok:
        try:
            await guides.rename(user.organisation_id, guide["id"], name)
        except GuideError as exc:
            form.error("name", ERRORS.get(exc.code, "erreur.requete"))
    if not form.ok:
        return await _guide_page(request, guides, user, guide, form, 400)
    await audit(request, user, "guide.renomme", guide["id"], {"avant": guide["name"], "nom": name})
    return see_other(request, _guide_url(guide["id"]), ok="guides.renomme")


@router.post("/guides/{guide_id}/suppression", name="portail_guide_delete")
async def delete(request: Request, guide_id: str, user: Buyer, guides: Guides) -> Response:
    try:
        name = await guides.delete(user.organisation_id, guide_id)
    except GuideNotFound:
        raise PageError(404, "guides.introuvable") from None
    await audit(request, user, "guide.supprime", guide_id[:64], {"nom": name})
    return see_other(request, f"{PREFIX}/guides", ok="guides.supprime", nom=name)


@router.post("/guides/{guide_id}/commande", name="portail_guide_order")
async def order_guide(request: Request, guide_id: str, user: Buyer, guides: Guides) -> Response:
    """« Commander ce guide »: a new cart of the guide's lines, then the cart's page."""
    try:
        made = await guides.order(user.organisation_id, guide_id)
    except GuideNotFound:
        raise PageError(404, "guides.introuvable") from None
    except GuideError as exc:
        return see_other(
            request, _guide_url(guide_id[:64]), error=ERRORS.get(exc.code, "erreur.requete")
        )
    except ApiError:
        return see_other(request, _guide_url(guide_id[:64]), error="guides.erreur.panier")
    await audit(
        request,
        user,
        "guide.commande",
        guide_id[:64],
        {
            "panier": made.cart_id,
            "lignes": made.added,
            "refusees": [{"article": r.line["item_id"], "code": r.code} for r in made.refused[:20]],
        },
    )
    cart_url = f"{PREFIX}/paniers/{made.cart_id}"
    if not made.refused:
        return see_other(request, cart_url, ok="guides.panier_cree", lignes=made.added)
    names = ", ".join(
        str(r.line["name"] or r.line["item_id"]) for r in made.refused[:MAX_REFUSED_SHOWN]
    )
    if len(made.refused) > MAX_REFUSED_SHOWN:
        names += ", …"
    # The lines left out, and what to do: search for them again, then add them to the cart.
    return see_other(
        request,
        cart_url,
        error="guides.panier_partiel",
        lignes=made.added,
        nombre=len(made.refused),
        produits=names,
    )
