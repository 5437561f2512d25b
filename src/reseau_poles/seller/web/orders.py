"""The pôle's orders to prepare (``/gestion/commandes``) and the pick list of a day
(``/gestion/preparation``).

GET  /gestion/commandes                      by delivery day, the soonest first (``jour``,
                                             ``etat``, ``statut``, ``bon``, ``page``)
GET  /gestion/commandes/{id}                 one order: lines, delivery, history
POST /gestion/commandes/{id}/etat            ``etat``: the fulfilment's next state, one of those
                                             the protocol's state machine allows (htmx: the
                                             order's row again; else 303 back)
GET  /gestion/commandes/{id}/annulation      the pôle cancels: the reason asked first
POST /gestion/commandes/{id}/annulation      cancel (no fee for the buyer, stock restored)
GET  /gestion/preparation?jour=AAAA-MM-JJ    the day's pick and pack list, to print
GET  /gestion/preparation.csv?jour=…         the same as CSV (Excel in French)

Every role reads; ``gestion`` and ``preparation`` move orders along; ``gestion`` cancels.
Each move goes through the seller's service (:meth:`~..services.fulfillment.PoleActions`),
which checks the life cycle, tells the buyer (``on_status``) and the pôle's webhooks, and is
audited here with who did it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from reseau_poles.portal.accounts import User
from reseau_poles.portal.auth import CurrentUser, PageError, audit, see_other
from reseau_poles.portal.forms import Form, read_form
from reseau_poles.portal.templating import render, text, wants_fragment
from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.lifecycle import next_fulfillment_states
from reseau_poles.protocol.profile import FulfillmentState, FulfillmentType

from ..api.deps import services
from ..services.order_view import TIME_ZONE, day_bounds, parse_time
from ..services.pick_list import pick_list_csv
from .common import MANAGE, PREPARE, TYPE_KEYS, Manager, Preparer, call, part, state_key
from .portal import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)

LIST = f"{PREFIX}/commandes"
PAGE_SIZE = 50
STATUSES = {"actives": "ACTIVE", "terminees": "COMPLETE", "annulees": "CANCELLED", "toutes": None}
STATES = [state.value for state in FulfillmentState]
REASONS = ("rupture_de_stock", "livraison_impossible", "demande_acheteur", "autre")


def order_url(order_id: str, what: str = "") -> str:
    return f"{LIST}/{order_id}" + (f"/{what}" if what else "")


def today() -> date:
    """Today in Québec."""
    return datetime.now(TIME_ZONE).date()


def next_states(order: Mapping[str, Any]) -> list[str]:
    """The states the fulfilment may move to now, in the flow's order (cancelling apart)."""
    if order["status"] != "ACTIVE":
        return []
    fulfillment = order["fulfillment"]
    try:
        kind = FulfillmentType(fulfillment["type"])
        state = FulfillmentState(fulfillment["state"])
    except ValueError:
        return []
    allowed = next_fulfillment_states(kind, state)
    return [
        s.value for s in FulfillmentState if s in allowed and s is not FulfillmentState.CANCELLED
    ]


def can_cancel(order: Mapping[str, Any]) -> bool:
    fulfillment = order["fulfillment"]
    try:
        allowed = next_fulfillment_states(
            FulfillmentType(fulfillment["type"]), FulfillmentState(fulfillment["state"])
        )
    except ValueError:
        return False
    return order["status"] == "ACTIVE" and FulfillmentState.CANCELLED in allowed


def view(order: Mapping[str, Any]) -> dict[str, Any]:
    """An order of the service (:func:`..services.orders.summary`) with its delivery window
    as times, its day in Québec, and what may be done to it."""
    window = order["delivery"]["window"] or {}
    start, end = parse_time(window.get("start")), parse_time(window.get("end"))
    return {
        **order,
        "start": start,
        "end": end,
        "day": start.astimezone(TIME_ZONE).date() if start else None,
        "next_states": next_states(order),
        "can_cancel": can_cancel(order),
    }


def _shared(user: User) -> dict[str, Any]:
    return {
        "may_move": user.has_role(MANAGE, PREPARE),
        "may_cancel": user.has_role(MANAGE),
        "state_key": state_key,
        "type_keys": TYPE_KEYS,
        "order_url": order_url,
    }


def _day(raw: str | None, form: Form, name: str = "jour") -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        form.values[name] = raw[:20]
        form.error(name, "gestion.prep.erreur.date")
        return None


@router.get("/commandes", name="gestion_orders")
async def orders_page(request: Request, user: CurrentUser) -> HTMLResponse:
    params = request.query_params
    form = Form(values={k: params.get(k, "")[:64] for k in ("jour", "etat", "statut", "bon")})
    day = _day(params.get("jour"), form)
    state = params.get("etat") if params.get("etat") in STATES else None
    status_name = str(params.get("statut")) if params.get("statut") in STATUSES else "actives"
    number = (params.get("bon") or "").strip()[:64] or None
    raw_page = params.get("page") or ""
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) <= 20_000 else 1
    found = await call(
        services(request).orders.page,
        user.organisation_id,
        status=STATUSES[status_name],
        fulfillment_state=state,
        purchase_order_number=number,
        delivered_between=_bounds(day),
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        by_delivery=True,
    )
    days: dict[date | None, list[dict[str, Any]]] = {}
    for order in found["orders"]:
        shown = view(order)
        days.setdefault(shown["day"], []).append(shown)
    kept = {
        k: v
        for k, v in (
            ("jour", day.isoformat() if day else ""),
            ("etat", state or ""),
            ("statut", "" if status_name == "actives" else status_name),
            ("bon", number or ""),
        )
        if v
    }
    return render(
        request,
        "gestion/commandes.html",
        {
            "days": list(days.items()),
            "total": found["total"],
            "page": page,
            "pages": max(1, math.ceil(found["total"] / PAGE_SIZE)),
            "paging_url": f"{LIST}?{urlencode(kept)}&" if kept else f"{LIST}?",
            "form": form,
            "state": state,
            "states": STATES,
            "status_name": status_name,
            "statuses": list(STATUSES),
            "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            **_shared(user),
        },
        422 if form.errors else 200,
    )


def _bounds(day: date | None) -> tuple[datetime, datetime] | None:
    return day_bounds(day) if day else None


async def _order(request: Request, user: User, order_id: str) -> dict[str, Any]:
    found = await call(services(request).orders.detail, user.organisation_id, order_id[:64])
    if found is None:
        raise PageError(404, "gestion.prep.introuvable", commande=order_id[:64])
    return found


@router.get("/commandes/{order_id}", name="gestion_order")
async def order_page(request: Request, order_id: str, user: CurrentUser) -> HTMLResponse:
    order = await _order(request, user, order_id)
    return render(
        request,
        "gestion/commande.html",
        {"o": view(order), "back": order_url(order["id"]), **_shared(user)},
    )


def _back(form: Form, order_id: str) -> str:
    given = form.get("retour")
    if given == LIST or given.startswith(LIST + "?") or given == order_url(order_id):
        return given[:2000]
    return LIST


@router.post("/commandes/{order_id}/etat", name="gestion_order_state")
async def move(request: Request, order_id: str, user: Preparer) -> Response:
    form = await read_form(request)
    wanted = form.get("etat")
    before = await _order(request, user, order_id)
    back = _back(form, before["id"])
    error: str | None = None
    if wanted not in next_states(before):
        error = "gestion.prep.erreur.transition"
    else:
        try:
            moved = await call(
                services(request).protocol.advance_fulfillment,
                user.organisation_id,
                before["id"],
                wanted,
            )
        except ProtocolError:  # LifecycleError: someone moved it meanwhile
            moved, error = None, "gestion.prep.erreur.transition"
        if error is None and moved is None:
            raise PageError(404, "gestion.prep.introuvable", commande=order_id[:64])
    if error is None:
        await audit(
            request,
            user,
            "commande.etat",
            before["id"],
            {"de": before["fulfillment"]["state"], "vers": wanted},
        )
    after = await _order(request, user, order_id)
    if wants_fragment(request) and form.get("vue") == "ligne":
        context = {"o": view(after), "back": back, "error": error, "moved": error is None}
        return part(
            request,
            "gestion/_commande_carte.html",
            {**context, **_shared(user)},
            409 if error else 200,
        )
    if error:
        return see_other(request, back, error=error)
    label = text(request, state_key(wanted, before["fulfillment"]["type"]))
    return see_other(
        request, back, ok="gestion.prep.etat_change", commande=before["id"], etat=label
    )


@router.get("/commandes/{order_id}/annulation", name="gestion_order_cancel_form")
async def cancel_form(request: Request, order_id: str, user: Manager) -> HTMLResponse:
    order = await _order(request, user, order_id)
    return render(
        request,
        "gestion/commande_annulation.html",
        {"o": view(order), "form": Form(), "reasons": REASONS, **_shared(user)},
    )


@router.post("/commandes/{order_id}/annulation", name="gestion_order_cancel")
async def cancel(request: Request, order_id: str, user: Manager) -> Response:
    order = await _order(request, user, order_id)
    form = await read_form(request)
    reason = form.choice("motif", REASONS)
    note = form.optional("note", max_length=1000)
    if form.ok and not can_cancel(order):
        form.error("motif", "gestion.prep.erreur.annulation")
    if not form.ok or reason is None:
        context = {"o": view(order), "form": form, "reasons": REASONS, **_shared(user)}
        return render(request, "gestion/commande_annulation.html", context, 422)
    try:
        done = await call(
            services(request).protocol.seller_cancel,
            user.organisation_id,
            order["id"],
            reason,
            note or "",
        )
    except ProtocolError:
        return see_other(request, order_url(order["id"]), error="gestion.prep.erreur.annulation")
    if done is None:
        raise PageError(404, "gestion.prep.introuvable", commande=order_id[:64])
    await audit(request, user, "commande.annulee", order["id"], {"motif": reason})
    return see_other(
        request, order_url(order["id"]), ok="gestion.prep.annulee", commande=order["id"]
    )


# --- the pick list -------------------------------------------------------------------------------


async def _pick_list(request: Request, user: User) -> tuple[Form, date | None, Any]:
    form = Form(values={"jour": request.query_params.get("jour", "")[:20]})
    day = _day(request.query_params.get("jour"), form) if form.get("jour") else today()
    if day is None:
        return form, None, None
    form.values["jour"] = day.isoformat()
    data = await call(services(request).pick_lists.of_day, user.organisation_id, day)
    return form, day, data


@router.get("/preparation", name="gestion_pick_list")
async def pick_list_page(request: Request, user: CurrentUser) -> HTMLResponse:
    form, day, data = await _pick_list(request, user)
    orders = []
    for order in (data or {}).get("orders", []):
        window = order["delivery"]["window"] or {}
        orders.append(
            {
                **order,
                "start": parse_time(window.get("start")),
                "end": parse_time(window.get("end")),
            }
        )
    return render(
        request,
        "gestion/preparation.html",
        {
            "form": form,
            "day": day,
            "orders": orders,
            "totals": (data or {}).get("totals", []),
            "generated": datetime.now(TIME_ZONE),
            **_shared(user),
        },
        422 if form.errors else 200,
    )


@router.get("/preparation.csv", name="gestion_pick_list_csv")
async def pick_list_download(request: Request, user: CurrentUser) -> Response:
    _form, day, data = await _pick_list(request, user)
    if day is None or data is None:
        raise PageError(400, "gestion.prep.erreur.date")
    return Response(
        pick_list_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="preparation-{day.isoformat()}.csv"',
            "Cache-Control": "no-store",
        },
    )
