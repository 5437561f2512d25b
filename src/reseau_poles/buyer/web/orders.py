"""The organisation's orders (``/portail/commandes``), on :class:`~..services.orders.
OrderService`:

GET  /portail/commandes                     the list: filters (pôle, state, purchase-order
                                            number, dates), 20 a page; htmx: the results only
GET  /portail/commandes/{id}                one order: lines, totals, taxes, delivery, PO, and
                                            its follow-up, live (:mod:`.order_stream`)
GET  /portail/commandes/{id}/suivi          the follow-up fragment (what the stream sends)
GET  /portail/commandes/{id}/flux           the follow-up as Server-Sent Events
GET  /portail/commandes/{id}/annulation     what cancelling costs now, to confirm
POST /portail/commandes/{id}/annulation     cancel (the pôle's answer comes on the page)

Reading: every signed-in person of the organisation; cancelling: ``acheteur`` or
``approbateur``, audited (``commande.annulation``) with the fee shown.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from reseau_poles.participant import ApiError
from reseau_poles.portal.accounts import User
from reseau_poles.portal.auth import CurrentUser, PageError, audit, require_role, see_other
from reseau_poles.portal.forms import read_form
from reseau_poles.portal.site import portal_of
from reseau_poles.portal.templating import page_context, render

from ..api.deps import Heartbeat, Orders, Streams
from ..services.order_documents import decimal_of
from ..services.order_timeline import (
    CancellationQuote,
    cancellation_quote,
    cancellation_terms,
    timeline,
)
from ..services.orders import OrderNotFound
from . import labels
from .order_stream import finished, open_order_stream, version
from .portal import PREFIX
from .queries import ORDER_STATES, PAGE_SIZE, parse_order_filters
from .shared import stream_response

router = APIRouter(prefix=PREFIX, include_in_schema=False)

Buyer = Annotated[User, Depends(require_role("acheteur", "approbateur"))]

# Reasons a buyer gives (``message.cancellation_reason_id``): code → catalogue key.
CANCEL_REASONS = (
    ("besoin_change", "orders.annulation.raison.besoin_change"),
    ("erreur_commande", "orders.annulation.raison.erreur_commande"),
    ("delai_trop_long", "orders.annulation.raison.delai_trop_long"),
    ("service_ferme", "orders.annulation.raison.service_ferme"),
    ("autre", "orders.annulation.raison.autre"),
)
# The service's refusals of a cancellation, by code: what the page says.
CANCEL_REFUSALS = {
    "demande_en_cours": "orders.annulation.refus.demande_en_cours",
    "action_impossible": "orders.annulation.refus.etat",
}


async def _order(orders: Orders, user: User, order_id: str) -> dict[str, Any]:
    try:
        return await orders.view(user.organisation_id, order_id[:64])
    except OrderNotFound:
        raise PageError(404, "orders.introuvable") from None


def _totals(order: dict[str, Any]) -> dict[str, Any]:
    """The lines' subtotal, the quote's other charges (delivery, TPS, TVQ: the pôle's words),
    the total; Decimals (``None`` before any quote)."""
    subtotal = Decimal(0)
    priced = False
    for line in order["lines"]:
        amount = decimal_of(line["amount"])
        if amount is not None:
            subtotal += amount
            priced = True
    charges = []
    quote = order.get("quote") or {}
    for part in quote.get("breakup") or []:
        if not isinstance(part, dict) or part.get("item"):
            continue
        value = decimal_of((part.get("price") or {}).get("value"))
        if value is not None:
            charges.append((str(part.get("title") or ""), value))
    total = decimal_of((order.get("total") or {}).get("value"))
    return {"subtotal": subtotal if priced else None, "charges": charges, "total": total}


def follow_context(order: dict[str, Any]) -> dict[str, Any]:
    """What the follow-up fragment needs (the page and the stream alike)."""
    fulfillment = order.get("fulfillment") or {}
    return {
        "order": order,
        "steps": timeline(order),
        "cancel": cancellation_quote(order),
        "phase_key": labels.phase_key(order["state"]),
        "fulfillment_key": labels.fulfillment_key(
            fulfillment.get("state"), fulfillment.get("type")
        ),
        "version": version(order),
        "order_url": f"{PREFIX}/commandes/{order['id']}",
    }


# --- the list ------------------------------------------------------------------------------------


@router.get("/commandes", name="portail_orders")
async def orders_page(request: Request, user: CurrentUser, orders: Orders) -> HTMLResponse:
    filters = parse_order_filters(request.query_params)
    found, providers = await asyncio.gather(
        asyncio.to_thread(
            orders.list,
            user.organisation_id,
            state=filters.state,
            provider=filters.pole,
            since=filters.since,
            until=filters.until,
            limit=PAGE_SIZE,
            offset=filters.offset,
            purchase_order_number=filters.purchase_order,
        ),
        asyncio.to_thread(orders.providers, user.organisation_id),
    )
    pages = max(1, -(-found["total"] // PAGE_SIZE))
    rows = [{**summary, "badge": labels.state_badge(summary)} for summary in found["orders"]]
    return render(
        request,
        "portail/commandes.html",
        {
            "filters": filters,
            "rows": rows,
            "total": found["total"],
            "page": filters.page,
            "pages": pages,
            "providers": providers,
            "states": ORDER_STATES,
        },
        status=400 if filters.errors else 200,
        # htmx asked for the results; a filter refused shows beside its field: the whole
        # content then, in place of the page's.
        fragment="content" if filters.errors else "resultats",
        headers={"HX-Retarget": "#contenu", "HX-Reswap": "innerHTML"} if filters.errors else None,
    )


# --- one order ----------------------------------------------------------------------------------


@router.get("/commandes/{order_id}", name="portail_order")
async def order_page(
    request: Request, order_id: str, user: CurrentUser, orders: Orders
) -> HTMLResponse:
    order = await _order(orders, user, order_id)
    given = (order.get("request") or {}).get("fulfilment") or {}
    fulfilment = {k: given.get(k) for k in ("type", "site_name", "address", "instructions")}
    contact = given.get("contact") or {}
    fulfilment["contact"] = {k: contact.get(k) for k in ("name", "phone", "email")}
    billing = order.get("billing") or {}
    lines = [
        {
            **line,
            "badges": labels.certification_badges(line["certifications"]),
            "region": labels.region_name(line["origin_region"]),
        }
        for line in order["lines"]
    ]
    return render(
        request,
        "portail/commande.html",
        {
            **follow_context(order),
            "lines": lines,
            "totals": _totals(order),
            "fulfilment": fulfilment,
            "billing": {k: billing.get(k) for k in ("name", "email")},
            "guide_name": _guide_name(order),
            "pole": order["provider"].get("name") or order["provider"]["id"],
            "window": _window(order),
            # Followed live until it ends (the SSE extension and the stream).
            "sse": not finished(order),
        },
    )


def _window(order: dict[str, Any]) -> tuple[datetime, datetime] | None:
    """The delivery window as datetimes (the document has them as text)."""
    window = order.get("delivery_window") or {}
    try:
        return datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
    except (KeyError, TypeError, ValueError):
        return None


def _guide_name(order: dict[str, Any]) -> str:
    """A first name for a guide made from the order: its pôle (and its PO number)."""
    name = order["provider"].get("name") or order["provider"]["id"]
    number = order.get("purchase_order_number")
    return f"{name} — {number}" if number else str(name)


@router.get("/commandes/{order_id}/suivi", name="portail_order_follow")
async def follow_fragment(
    request: Request, order_id: str, user: CurrentUser, orders: Orders
) -> HTMLResponse:
    order = await _order(orders, user, order_id)
    return render(request, "portail/_suivi.html", follow_context(order), fragment=None)


@router.get("/commandes/{order_id}/flux", name="portail_order_stream")
async def follow_stream(
    request: Request,
    order_id: str,
    user: CurrentUser,
    orders: Orders,
    streams: Streams,
    heartbeat: Heartbeat,
) -> Response:
    known = request.headers.get("last-event-id") or request.query_params.get("version")
    portal = portal_of(request)

    def rendered(order: dict[str, Any]) -> str:
        context = page_context(request, {**follow_context(order), "live": True})
        return portal.templates.render("portail/_suivi.html", context)

    try:
        stream = await open_order_stream(
            orders,
            streams,
            user.organisation_id,
            order_id[:64],
            known=(known or "")[:32] or None,
            render=rendered,
            heartbeat=heartbeat,
        )
    except OrderNotFound:
        raise PageError(404, "orders.introuvable") from None
    return stream_response(stream, "orders.flux.trop_de_flux")


# --- cancelling ---------------------------------------------------------------------------------


def _cancel_page(
    request: Request,
    order: dict[str, Any],
    quote: CancellationQuote,
    *,
    form: Any = None,
    refusal: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    kind = (order.get("fulfillment") or {}).get("type")
    terms = [
        (labels.fulfillment_key(state, kind), fee, percentage)
        for state, fee, percentage in cancellation_terms(order)
    ]
    return render(
        request,
        "portail/commande_annulation.html",
        {
            "order": order,
            "cancel": quote,
            "reasons": CANCEL_REASONS,
            "form": form,
            "refusal": refusal,
            "terms": terms,
            "pole": order["provider"].get("name") or order["provider"]["id"],
            "order_url": f"{PREFIX}/commandes/{order['id']}",
            "fulfillment_key": labels.fulfillment_key(quote.state, kind),
        },
        status=status,
    )


@router.get("/commandes/{order_id}/annulation", name="portail_order_cancel")
async def cancel_form(
    request: Request, order_id: str, user: CurrentUser, orders: Orders
) -> HTMLResponse:
    order = await _order(orders, user, order_id)
    quote = cancellation_quote(order)
    return _cancel_page(request, order, quote, status=200 if quote.allowed else 409)


@router.post("/commandes/{order_id}/annulation", name="portail_order_cancel_post")
async def cancel(request: Request, order_id: str, user: Buyer, orders: Orders) -> Response:
    order = await _order(orders, user, order_id)
    quote = cancellation_quote(order)
    form = await read_form(request)
    reason = form.choice("raison", [code for code, _ in CANCEL_REASONS])
    description = form.optional("precision", max_length=500)
    if not quote.allowed:
        return _cancel_page(request, order, quote, form=form, status=409)
    shown = form.get("frais_vus").strip()
    if shown != (f"{quote.fee:.2f}" if quote.fee is not None else ""):
        # The order moved since the page was shown (Packed: a fee now): confirm again.
        form.error("frais_vus", "orders.annulation.frais_changes")
        return _cancel_page(request, order, quote, form=form, status=409)
    if not form.ok:
        return _cancel_page(request, order, quote, form=form, status=400)
    body: dict[str, Any] = {"reason_code": reason}
    if description:
        body["description"] = description
    try:
        await orders.request(user.organisation_id, order["id"], "cancel", body)
    except OrderNotFound:
        raise PageError(404, "orders.introuvable") from None
    except ApiError as exc:
        key = CANCEL_REFUSALS.get(exc.code, "orders.annulation.refus.autre")
        return _cancel_page(request, order, quote, form=form, refusal=key, status=409)
    await audit(
        request,
        user,
        "commande.annulation",
        order["id"],
        {
            "raison": reason,
            "frais": f"{quote.fee:.2f}" if quote.fee is not None else None,
            "pourcentage": str(quote.percentage) if quote.percentage is not None else None,
            "etat": quote.state,
        },
    )
    return see_other(request, f"{PREFIX}/commandes/{order['id']}", ok="orders.annulation.demandee")
