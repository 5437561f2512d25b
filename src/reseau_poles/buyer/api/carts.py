"""Multi-pôle carts (``/api/carts``): lines picked from search results of several pôles, one
delivery site and window, a purchase-order number, payment terms; at checkout the cart becomes
one order per pôle and fulfilment option (:mod:`reseau_poles.buyer.carts`).

POST   /api/carts                        201 with the cart (fields and ``lines`` optional)
GET    /api/carts                        the organisation's carts, newest first
GET    /api/carts/{id}                   the cart, each group's order (state, quote total,
                                         error); ``?wait_ms=``: until every group is done
PATCH  /api/carts/{id}                   site, window, purchase order, payment, billing …
POST   /api/carts/{id}/lines             add a line (same pôle and item: new quantity)
DELETE /api/carts/{id}/lines/{line_id}   take a line out
POST   /api/carts/{id}/preview           each group's quote (:mod:`..services.cart_preview`)
POST   /api/carts/{id}/checkout          one order per group; 202 (200 once every group is
                                         done with ``?wait_ms=``)
POST   /api/carts/{id}/retry             the failed groups again, on their own orders
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reseau_poles.participant import ApiError, read_json_object, validated
from reseau_poles.participant.answers import answers
from reseau_poles.participant.api import body_doc

from .. import answers as out
from ..requests import CartFields, CartIn, CartLineIn
from ..services.cart_checkout import CartService
from ..services.cart_preview import PREVIEW_WAIT_MS
from ..services.carts import CartNotFound
from ..services.sites import refuse_nul
from .deps import Carts, Organisation, Settings, wait_of

router = APIRouter(prefix="/api/carts", tags=["paniers"])

_CHECKOUT = "202 : des pôles sont en cours ; 200 : chaque pôle a fini (confirmé ou en échec)."
# At most 9 digits in ``?wait_ms=``.
WAIT_DIGITS = 9


def _unknown() -> ApiError:
    return ApiError(404, "panier_inconnu", "Panier inconnu.", "id")


@router.post(
    "",
    status_code=201,
    openapi_extra=body_doc(CartIn, required=False),
    responses=answers(out.Cart, 201, description="Le panier créé (en-tête Location)."),
    summary="Créer un panier",
)
async def create_cart(request: Request, service: Carts, organisation_id: Organisation) -> Any:
    """Créer un panier (champs et lignes facultatifs)."""
    data = await read_json_object(request)
    refuse_nul(data)
    wanted = validated(CartIn, data)
    document = await service.create(organisation_id, wanted)
    return JSONResponse(
        document, status_code=201, headers={"Location": f"/api/carts/{document['id']}"}
    )


@router.get("", responses=answers(out.CartList), summary="Paniers de l'organisation")
async def list_carts(service: Carts, organisation_id: Organisation) -> Any:
    """Les paniers de l'organisation, les plus récents d'abord (100 au plus)."""
    return {"carts": await service.list_carts(organisation_id)}


@router.get(
    "/{cart_id}", responses=answers(out.Cart), summary="Un panier et ses commandes par pôle"
)
async def read_cart(
    cart_id: str,
    service: Carts,
    settings: Settings,
    organisation_id: Organisation,
    wait_ms: str | None = None,
) -> Any:
    """Le panier, et pour chaque pôle sa commande (état, total du devis, erreur) ;
    ``wait_ms`` : attendre que chaque pôle ait fini."""
    wait = wait_of(wait_ms, settings.max_wait_ms, max_digits=WAIT_DIGITS)
    try:
        return await service.view(organisation_id, cart_id[:64], wait)
    except CartNotFound:
        raise _unknown() from None


@router.patch(
    "/{cart_id}",
    openapi_extra=body_doc(CartFields),
    responses=answers(out.Cart),
    summary="Modifier un panier",
)
async def patch_cart(
    request: Request, cart_id: str, service: Carts, organisation_id: Organisation
) -> Any:
    """Changer le site, la plage de livraison, le bon de commande, le paiement, la facturation
    (``null`` efface un champ)."""
    data = await read_json_object(request, allow_empty=False)
    refuse_nul(data)
    wanted = validated(CartFields, data)
    try:
        return await service.patch(organisation_id, cart_id[:64], wanted, set(data))
    except CartNotFound:
        raise _unknown() from None


@router.post(
    "/{cart_id}/lines",
    status_code=201,
    openapi_extra=body_doc(CartLineIn),
    responses=answers(out.Cart, 201, description="Le panier avec la ligne."),
    summary="Ajouter un article au panier",
)
async def add_line(
    request: Request, cart_id: str, service: Carts, organisation_id: Organisation
) -> Any:
    """Ajouter un article trouvé dans une recherche (``bpp_id``, ``provider_id``,
    ``item_id``, ``quantity``) ; le même article du même pôle prend la nouvelle quantité."""
    data = await read_json_object(request, allow_empty=False)
    refuse_nul(data)
    line = validated(CartLineIn, data)
    try:
        return await service.add_line(organisation_id, cart_id[:64], line)
    except CartNotFound:
        raise _unknown() from None


@router.delete(
    "/{cart_id}/lines/{line_id}", responses=answers(out.Cart), summary="Retirer une ligne du panier"
)
async def remove_line(
    cart_id: str, line_id: str, service: Carts, organisation_id: Organisation
) -> Any:
    """Retirer une ligne du panier."""
    try:
        return await service.remove_line(organisation_id, cart_id[:64], line_id)
    except CartNotFound:
        raise _unknown() from None


@router.post(
    "/{cart_id}/checkout",
    status_code=202,
    responses=answers(out.Cart, 200, 202, description=_CHECKOUT),
    summary="Commander le panier (une commande par pôle)",
)
async def checkout(
    cart_id: str,
    service: Carts,
    settings: Settings,
    organisation_id: Organisation,
    wait_ms: str | None = None,
) -> JSONResponse:
    """Commander : une commande par pôle, chacune menée select → init → confirm en même temps.
    Une deuxième demande ne commande pas deux fois : elle rend le panier tel qu'il est."""
    wait = wait_of(wait_ms, settings.max_wait_ms, max_digits=WAIT_DIGITS)
    return await _ordered(service.checkout, service, organisation_id, cart_id[:64], wait)


@router.post(
    "/{cart_id}/retry",
    status_code=202,
    responses=answers(out.Cart, 200, 202, description=_CHECKOUT),
    summary="Relancer les commandes en échec du panier",
)
async def retry(
    cart_id: str,
    service: Carts,
    settings: Settings,
    organisation_id: Organisation,
    wait_ms: str | None = None,
) -> JSONResponse:
    """Recommander les pôles en échec seulement, sur leur propre commande (même transaction) :
    un pôle confirmé n'est jamais commandé deux fois ; aucune commande n'est laissée pour
    compte. 202 (200 une fois chaque pôle fini avec ``?wait_ms=``)."""
    wait = wait_of(wait_ms, settings.max_wait_ms, max_digits=WAIT_DIGITS)
    return await _ordered(service.retry, service, organisation_id, cart_id[:64], wait)


async def _ordered(
    start: Callable[[str, str], Awaitable[None]],
    service: CartService,
    organisation_id: str,
    cart_id: str,
    wait: int,
) -> JSONResponse:
    """Checkout or retry: ``start`` the cart's orders, then the cart as it is after ``wait``
    — 200 once every pôle is done, 202 before."""
    try:
        await start(organisation_id, cart_id)
        document = await service.view(organisation_id, cart_id, wait)
    except CartNotFound:
        raise _unknown() from None
    return JSONResponse(
        document,
        status_code=200 if document["checkout"]["done"] else 202,
        headers={"Location": f"/api/carts/{document['id']}"},
    )


@router.post(
    "/{cart_id}/preview",
    responses=answers(
        out.CartPreview, 200, 202, description="200 : chaque pôle a répondu ; 202 : pas encore."
    ),
    summary="Devis du panier, pôle par pôle",
)
async def preview_cart(
    cart_id: str,
    service: Carts,
    settings: Settings,
    organisation_id: Organisation,
    wait_ms: str | None = None,
) -> JSONResponse:
    """Le prix avant de commander : chaque pôle du panier le chiffre (``select``) — lignes,
    TPS et TVQ, frais de livraison, commande minimale atteinte ou non — ou dit son refus.
    200 quand chaque pôle a répondu, 202 sinon (``wait_ms``, 10 s par défaut)."""
    wait = wait_of(wait_ms, settings.max_wait_ms, default=PREVIEW_WAIT_MS, max_digits=WAIT_DIGITS)
    try:
        document = await service.preview(organisation_id, cart_id[:64], wait)
    except CartNotFound:
        raise _unknown() from None
    return JSONResponse(document, status_code=200 if document["complete"] else 202)
