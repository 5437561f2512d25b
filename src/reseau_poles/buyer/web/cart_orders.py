"""From a cart to its orders: the quote of each pôle, the approval step, the order.

POST /portail/paniers/{id}/apercu         ask each pôle for its quote (``select``), then 303 to:
GET  /portail/paniers/{id}/apercu         the quotes per pôle: lines, TPS and TVQ, delivery
                                          fees, minimum order met or not, the pôle's refusal
POST /portail/paniers/{id}/soumission     an acheteur submits it for approval
POST /portail/paniers/{id}/retrait        … withdraws the request
POST /portail/paniers/{id}/renvoi         an approbateur sends it back, with a comment
POST /portail/paniers/{id}/approbation    an approbateur approves it: ordered at once
POST /portail/paniers/{id}/commande       ordered (no approval required, or approved)
GET  /portail/paniers/{id}/progression    each pôle's order as it goes (htmx asks again until
                                          every pôle is done)

The rule of who may do what, when, is :mod:`reseau_poles.buyer.services.cart_approval`; an
order is one per pôle (:class:`~reseau_poles.buyer.services.cart_checkout.CartService`). The
pages of the orders themselves are ``/portail/commandes/{order_id}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request, Response

from reseau_poles.participant import ApiError
from reseau_poles.portal.accounts import User
from reseau_poles.portal.auth import CurrentUser, PageError, audit, require_role, see_other
from reseau_poles.portal.forms import read_form
from reseau_poles.portal.templating import render

from ..services.cart_approval import allowed
from ..services.cart_preview import PREVIEW_WAIT_MS, last_quotes
from ..services.carts import CartNotFound
from .carts import cart_url, unknown_cart
from .portal import PREFIX
from .shared import Approvals, Buyer, Carts, refusal_params

router = APIRouter(prefix=PREFIX, include_in_schema=False)

Approver = Annotated[User, Depends(require_role("approbateur"))]
# How long an order's page waits for the pôles before it shows how far they got.
CHECKOUT_WAIT_MS: Final = 5_000
# How long one poll of the progress waits for a change.
PROGRESS_WAIT_MS: Final = 10_000


def _refused(request: Request, cart_id: str, exc: ApiError) -> Response:
    return see_other(request, cart_url(cart_id), error="cart.refus", **refusal_params(exc))


# --- the quote --------------------------------------------------------------------------------


@router.post("/paniers/{cart_id}/apercu", name="portail_cart_preview_ask")
async def ask_quotes(request: Request, cart_id: str, user: Buyer, carts: Carts) -> Response:
    cart_id = cart_id[:64]
    try:
        preview = await carts.preview(user.organisation_id, cart_id, 0)
    except CartNotFound:
        raise unknown_cart() from None
    except ApiError as exc:
        return _refused(request, cart_id, exc)
    await audit(request, user, "panier.apercu", cart_id, {"poles": len(preview["poles"])})
    return see_other(request, cart_url(cart_id, "/apercu"))


@router.get("/paniers/{cart_id}/apercu", name="portail_cart_preview")
async def show_quotes(request: Request, cart_id: str, user: CurrentUser, carts: Carts) -> Response:
    cart_id = cart_id[:64]
    try:
        cart = await carts.view(user.organisation_id, cart_id)
        if cart["state"] != "ouvert":
            return see_other(request, cart_url(cart_id))
        quotes = await last_quotes(carts.orders, user.organisation_id, cart_id, PREVIEW_WAIT_MS)
        refusal = None
    except CartNotFound:
        raise unknown_cart() from None
    except ApiError as exc:
        quotes, refusal = None, refusal_params(exc)
    approval = cart["approval"]
    return render(
        request,
        "portail/apercu.html",
        {
            "cart": cart,
            "quotes": quotes,
            "refusal": refusal,
            "actions": allowed(approval["state"], user.roles, approval["required"]),
        },
    )


# --- the approval step and the order ---------------------------------------------------------


async def _approval_step(
    request: Request,
    cart_id: str,
    step: Awaitable[object],
    *,
    errors: Mapping[str, str] | None = None,
) -> Response | None:
    """Take one step of the approval rule (:mod:`..services.cart_approval`): ``None`` when
    it is taken, else the cart's page with why not (``errors``: a refusal's code → the
    message key shown instead of the generic refusal)."""
    try:
        await step
    except CartNotFound:
        raise unknown_cart() from None
    except ApiError as exc:
        if errors and exc.code in errors:
            return see_other(request, cart_url(cart_id), error=errors[exc.code])
        return _refused(request, cart_id, exc)
    return None


async def _decided(
    request: Request,
    user: User,
    cart_id: str,
    step: Awaitable[object],
    action: str,
    *,
    detail: dict[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Response:
    """A step that ends on the cart's page: taken, recorded under ``panier.{action}`` and
    said (``cart.{action}``); or refused."""
    refused = await _approval_step(request, cart_id, step, errors=errors)
    if refused is not None:
        return refused
    await audit(request, user, f"panier.{action}", cart_id, detail)
    return see_other(request, cart_url(cart_id), ok=f"cart.{action}")


@router.post("/paniers/{cart_id}/soumission", name="portail_cart_submit")
async def submit(request: Request, cart_id: str, user: Buyer, approvals: Approvals) -> Response:
    cart_id = cart_id[:64]
    step = approvals.submit(user.organisation_id, cart_id, user.id, user.roles)
    return await _decided(request, user, cart_id, step, "soumis")


@router.post("/paniers/{cart_id}/retrait", name="portail_cart_withdraw")
async def withdraw(request: Request, cart_id: str, user: Buyer, approvals: Approvals) -> Response:
    cart_id = cart_id[:64]
    step = approvals.withdraw(user.organisation_id, cart_id, user.id, user.roles)
    return await _decided(request, user, cart_id, step, "demande_retiree")


@router.post("/paniers/{cart_id}/renvoi", name="portail_cart_send_back")
async def send_back(
    request: Request, cart_id: str, user: Approver, approvals: Approvals
) -> Response:
    cart_id = cart_id[:64]
    comment = (await read_form(request)).get("comment")
    step = approvals.send_back(user.organisation_id, cart_id, user.id, user.roles, comment)
    return await _decided(
        request,
        user,
        cart_id,
        step,
        "renvoye",
        detail={"commentaire": (comment or "")[:500]},
        errors={"commentaire_requis": "cart.erreur.commentaire"},
    )


async def _ordered(
    request: Request, user: User, carts: Carts, cart_id: str, action: str
) -> Response:
    """After a checkout started: wait a little for the pôles, record who, show the cart."""
    cart = await carts.view(user.organisation_id, cart_id, CHECKOUT_WAIT_MS)
    await audit(
        request,
        user,
        action,
        cart_id,
        {"poles": len(cart["poles"]), "commandes": [p["order_id"] for p in cart["poles"]]},
    )
    return see_other(request, cart_url(cart_id), ok="cart.commande_lancee")


@router.post("/paniers/{cart_id}/approbation", name="portail_cart_approve")
async def approve(
    request: Request, cart_id: str, user: Approver, carts: Carts, approvals: Approvals
) -> Response:
    cart_id = cart_id[:64]
    step = approvals.approve(user.organisation_id, cart_id, user.id, user.roles)
    refused = await _approval_step(request, cart_id, step)
    if refused is not None:
        return refused
    await audit(request, user, "panier.approuve", cart_id)
    try:
        await carts.checkout(user.organisation_id, cart_id)
    except ApiError as exc:
        # Approved, but its checkout refused (a window now past …): it stays approved, to be
        # ordered once corrected (a change brings it back to brouillon: approve it again).
        return _refused(request, cart_id, exc)
    return await _ordered(request, user, carts, cart_id, "panier.commande")


@router.post("/paniers/{cart_id}/commande", name="portail_cart_order")
async def order(
    request: Request, cart_id: str, user: Buyer, carts: Carts, approvals: Approvals
) -> Response:
    cart_id = cart_id[:64]
    refused = await _approval_step(
        request, cart_id, approvals.order(user.organisation_id, cart_id, user.roles)
    )
    if refused is not None:
        return refused
    return await _ordered(request, user, carts, cart_id, "panier.commande")


@router.get("/paniers/{cart_id}/progression", name="portail_cart_progress")
async def progress(request: Request, cart_id: str, user: CurrentUser, carts: Carts) -> Response:
    """The pôles' orders as they go: for htmx, which asks again while some are not done."""
    try:
        cart = await carts.view(user.organisation_id, cart_id[:64], PROGRESS_WAIT_MS)
    except CartNotFound:
        raise PageError(404, "cart.erreur.inconnu") from None
    return render(request, "portail/_progression.html", {"cart": cart}, fragment=None)
