"""Multi-pôle carts (``/api/carts``): lines picked from search results of several pôles, one
delivery site and window, a purchase-order number, payment terms; at checkout the cart becomes
**one order per pôle and fulfilment option** (``provider.id`` at its seller node ``bpp_id``;
two options of one pôle are two orders), each driven through select → init → confirm by
:mod:`.cart_checkout`, concurrently.

POST   /api/carts                        201 with the cart (fields and ``lines`` optional)
GET    /api/carts                        the organisation's carts, newest first
GET    /api/carts/{id}                   the cart, each group's order (state, quote total,
                                         error); ``?wait_ms=``: until every group is done
PATCH  /api/carts/{id}                   site, window, purchase order, payment, billing …
POST   /api/carts/{id}/lines             add a line (same pôle and item: new quantity)
DELETE /api/carts/{id}/lines/{line_id}   take a line out
POST   /api/carts/{id}/preview           each group's quote (:mod:`.cart_preview`)
POST   /api/carts/{id}/checkout          one order per group; 202 (200 once every group is
                                         done with ``?wait_ms=``)
POST   /api/carts/{id}/retry             the failed groups again, on their own orders

Lines and the delivery window are checked when they are set (:mod:`.cart_checks`: the item
seen in the pôle's catalogue, its minimum and maximum, the window against the pôle's declared
days, hours and lead time), a 400 naming the field. Checkout is idempotent
(:mod:`.cart_checkout`). One pôle refusing (40002 quantity unavailable, 30009 region not
served …) does not stop the others: its row keeps the refusal (code, message, path, step)
and the cart says ``partielle``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from reseau_poles.participant import ApiError, validation_error
from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.profile import parse_item_tags
from reseau_poles.storage import utcnow

from ..repositories import carts as repo
from ..repositories import catalog
from ..repositories import orders as order_repo
from ..repositories.carts import Key
from ..requests import MAX_LINES, CartFields, CartIn, CartLineIn, OrderIn
from .cart_approval import approval_document, check_editable, requires_approval, state_of
from .cart_checks import check_delivery_window, check_line, declared_rules
from .order_documents import order_summary
from .sites import SiteNotFound, get_site, site_fulfilment

MAX_LINES_PER_POLE = 200
# How long the checkout waits for each callback before it gives the pôle up as « délai ».
STEP_WAIT_MS = 30_000
# A pôle still « en cours » with no task of this process after this long is resumed.
RESUME_AFTER = timedelta(seconds=STEP_WAIT_MS / 1000 + 5)
DONE = ("confirmee", "echec")


class CartNotFound(LookupError):
    pass


def _time(value: datetime | None) -> str | None:
    return format_datetime(value) if value is not None else None


def _default_fulfilment(cart: Mapping[str, Any]) -> str:
    return str((cart["fulfilment"] or {}).get("id") or "")


def _pole_key(line: Mapping[str, Any], cart: Mapping[str, Any]) -> Key:
    """The order a line goes into: its pôle and its fulfilment option (the line's, else the
    cart's); two options of one pôle are two orders, never merged."""
    return (line["bpp_id"], line["provider_id"], line["fulfilment_id"] or _default_fulfilment(cart))


def _row_key(row: Mapping[str, Any]) -> Key:
    return (row["bpp_id"], row["provider_id"], row["fulfilment_id"] or "")


# --- reading -----------------------------------------------------------------------------------


def _cart_row(
    session: Session, organisation_id: str, cart_id: str, *, lock: bool = False
) -> Mapping[str, Any]:
    row = repo.get_cart(session, organisation_id, cart_id, lock=lock)
    if row is None:
        raise CartNotFound(cart_id)
    return row


def _pole_state(row: Mapping[str, Any], order: Mapping[str, Any] | None) -> str:
    """The pôle's checkout state; the order itself has the last word once it moved."""
    if order is not None:
        if order["state"] in ("confirmed", "completed"):
            return "confirmee"
        if order["state"] == "cancelled":
            return "annulee"
    return str(row["state"])


def cart_document(session: Session, cart: Mapping[str, Any]) -> dict[str, Any]:
    lines = repo.lines_of(session, cart["id"])
    pole_rows = repo.poles_of(session, cart["id"])
    counts: dict[Key, int] = {}
    for line in lines:
        key = _pole_key(line, cart)
        counts[key] = counts.get(key, 0) + 1
    poles: list[dict[str, Any]] = []
    confirmed_total = 0
    tally = {"confirmee": 0, "echec": 0, "en_cours": 0, "annulee": 0}
    for row in pole_rows:
        order = order_repo.get_order(session, row["order_id"]) if row["order_id"] else None
        state = _pole_state(row, order)
        summary = order_summary(order) if order is not None else None
        error = row["error"] or (summary["error"] if summary and state == "echec" else None)
        tally["en_cours" if state == "attente" else state] += 1
        if state == "confirmee" and order is not None and order["total"] is not None:
            confirmed_total += order["total"]
        poles.append(
            {
                "bpp_id": row["bpp_id"],
                "provider_id": row["provider_id"],
                "provider_name": summary["provider"]["name"] if summary else None,
                "fulfilment_id": row["fulfilment_id"] or None,
                "lines": counts.get(_row_key(row), 0),
                "checkout_state": state,
                "order_id": row["order_id"],
                "order_url": f"/api/orders/{row['order_id']}" if row["order_id"] else None,
                "order_state": summary["state"] if summary else None,
                "order_state_label": summary["state_label"] if summary else None,
                "status": summary["status"] if summary else None,
                "seller_order_id": summary["seller_order_id"] if summary else None,
                "total": summary["total"] if summary else None,
                "error": error,
            }
        )
    if cart["state"] == "ouvert":
        checkout = {"state": "non_commande", "done": False}
    else:
        if tally["en_cours"]:
            overall = "en_cours"
        elif tally["confirmee"] == len(poles):
            overall = "complete"
        elif tally["confirmee"]:
            overall = "partielle"
        else:
            overall = "echec"
        checkout = {
            "state": overall,
            "done": not tally["en_cours"],
            "poles": len(poles),
            "confirmed": tally["confirmee"],
            "failed": tally["echec"],
            "cancelled": tally["annulee"],
            "in_progress": tally["en_cours"],
            "confirmed_total": {"currency": "CAD", "value": f"{confirmed_total:.2f}"},
        }
    window = None
    if cart["delivery_window_start"]:
        window = {
            "start": _time(cart["delivery_window_start"]),
            "end": _time(cart["delivery_window_end"]),
        }
    return {
        "id": cart["id"],
        "name": cart["name"],
        "state": cart["state"],
        "approval": _approval(session, cart),
        "delivery_site_id": cart["delivery_site_id"],
        "fulfilment": cart["fulfilment"],
        "delivery_window": window,
        "purchase_order_number": cart["purchase_order_number"],
        "payment": (
            {"type": cart["payment_type"], "net_days": cart["payment_net_days"]}
            if cart["payment_type"]
            else None
        ),
        "billing": cart["billing"],
        "lines": [
            {
                "id": line["id"],
                "bpp_id": line["bpp_id"],
                "provider_id": line["provider_id"],
                "item_id": line["item_id"],
                "quantity": line["quantity"],
                "fulfilment_id": line["fulfilment_id"],
            }
            for line in lines
        ],
        "poles": poles,
        "checkout": checkout,
        "created_at": _time(cart["created_at"]),
        "updated_at": _time(cart["updated_at"]),
        "checked_out_at": _time(cart["checked_out_at"]),
    }


def _approval(session: Session, cart: Mapping[str, Any]) -> dict[str, Any]:
    found = approval_document(cart, requires_approval(session, cart["organisation_id"]))
    for name in ("submitted_at", "decided_at"):
        found[name] = _time(found[name])
    return found


def _field_values(fields: CartFields, present: set[str]) -> dict[str, Any]:
    """Column values for the fields given (``present``: names in the request body)."""
    values: dict[str, Any] = {}
    if "name" in present:
        values["name"] = fields.name
    if "delivery_site_id" in present:
        values["delivery_site_id"] = fields.delivery_site_id
    if "fulfilment" in present:
        values["fulfilment"] = (
            fields.fulfilment.model_dump(mode="json", exclude_none=True)
            if fields.fulfilment
            else None
        )
    if "delivery_window" in present:
        window = fields.delivery_window
        values["delivery_window_start"] = window.start if window else None
        values["delivery_window_end"] = window.end if window else None
    if "purchase_order_number" in present:
        values["purchase_order_number"] = fields.purchase_order_number
    if "payment" in present:
        values["payment_type"] = fields.payment.type if fields.payment else None
        values["payment_net_days"] = fields.payment.net_days if fields.payment else None
    if "billing" in present:
        values["billing"] = (
            fields.billing.model_dump(mode="json", exclude_none=True) if fields.billing else None
        )
    return values


def _check_site(session: Session, organisation_id: str, site_id: str | None) -> None:
    if site_id is None:
        return
    try:
        get_site(session, organisation_id, site_id)
    except SiteNotFound:
        raise ApiError(
            400, "site_inconnu", "Site de livraison inconnu.", "delivery_site_id"
        ) from None


def _count_lines(session: Session, cart_id: str) -> int:
    return len(repo.lines_of(session, cart_id))


def _open(cart: Mapping[str, Any]) -> None:
    if cart["state"] != "ouvert":
        raise ApiError(
            409,
            "panier_commande",
            "Ce panier est déjà commandé ; il ne change plus (créez-en un autre).",
            "id",
        )


# --- checkout ---------------------------------------------------------------------------------


def _fulfilment_for(
    cart: Mapping[str, Any], site: Mapping[str, Any] | None, fulfilment_id: str | None
) -> dict[str, Any] | None:
    if site is not None:
        chosen = site_fulfilment(site, fulfilment_id)
        if cart["fulfilment"] and cart["fulfilment"].get("instructions"):
            chosen["instructions"] = cart["fulfilment"]["instructions"]
        return chosen
    if cart["fulfilment"]:
        chosen = dict(cart["fulfilment"])
        if fulfilment_id:
            chosen["id"] = fulfilment_id
        return chosen
    return None


def _cold_chain_check(
    session: Session,
    organisation_id: str,
    site: Mapping[str, Any],
    lines: list[Mapping[str, Any]],
) -> None:
    """Refuse a line the site cannot receive (a frozen item at a site without a freezer),
    as far as the organisation's searches tell the item's conservation."""
    allowed = set(site["cold_chain"] or [])
    by_pole: dict[tuple[str, str], list[tuple[int, Mapping[str, Any]]]] = {}
    for index, line in enumerate(lines):
        by_pole.setdefault((line["bpp_id"], line["provider_id"]), []).append((index, line))
    for (bpp_id, provider_id), group in by_pole.items():
        known = catalog.catalog_items(
            session, organisation_id, bpp_id, provider_id, [line["item_id"] for _, line in group]
        )
        for index, line in group:
            item = known.get(line["item_id"])
            if not item:
                continue
            try:
                tags = parse_item_tags(item.get("tags") or [], path="item.tags")
            except (ProtocolError, ValueError, TypeError):
                continue
            kind = tags.conservation.value if tags.conservation is not None else None
            if kind is not None and kind not in allowed:
                raise ApiError(
                    400,
                    "chaine_froid_site",
                    f"Le site « {site['name']} » ne reçoit pas ce qui est {kind} "
                    f"(article « {line['item_id']} ») ; il reçoit : {', '.join(sorted(allowed))}.",
                    f"lines.{index}",
                )


def _plan(
    session: Session, organisation_id: str, cart: Mapping[str, Any], *, quote_only: bool = False
) -> list[tuple[Key, OrderIn]]:
    """One checked order per pôle and fulfilment option, or a 400 naming the field at fault
    (nothing written); ``quote_only`` (a preview): no billing needed yet."""
    lines = repo.lines_of(session, cart["id"])
    if not lines:
        raise ApiError(400, "panier_vide", "Le panier n'a aucune ligne.", "lines")
    if not cart["billing"] and not quote_only:
        raise ApiError(
            400, "parametres_invalides", "Indiquez à qui facturer (billing.name …).", "billing"
        )
    site = None
    if cart["delivery_site_id"]:
        try:
            site = get_site(session, organisation_id, cart["delivery_site_id"])
        except SiteNotFound:
            raise ApiError(
                400, "site_inconnu", "Site de livraison inconnu ou retiré.", "delivery_site_id"
            ) from None
        _cold_chain_check(session, organisation_id, site, lines)
    elif not cart["fulfilment"]:
        raise ApiError(
            400,
            "parametres_invalides",
            "Nommez un site de livraison (delivery_site_id) ou un mode d'exécution (fulfilment).",
            "delivery_site_id",
        )
    groups: dict[Key, list[Mapping[str, Any]]] = {}
    for line in lines:
        groups.setdefault(_pole_key(line, cart), []).append(line)
    plan = []
    for key, group in groups.items():
        if len(group) > MAX_LINES_PER_POLE:
            raise ApiError(
                400,
                "parametres_invalides",
                f"Au plus {MAX_LINES_PER_POLE} lignes par pôle.",
                "lines",
            )
        body: dict[str, Any] = {
            "provider": {"bpp_id": key[0], "id": key[1]},
            "items": [{"id": ln["item_id"], "quantity": ln["quantity"]} for ln in group],
            "cart_id": cart["id"],
        }
        if cart["billing"]:
            body["billing"] = cart["billing"]
        fulfilment = _fulfilment_for(cart, site, key[2] or None)
        if fulfilment is not None:
            body["fulfilment"] = fulfilment
        if cart["delivery_site_id"]:
            body["delivery_site_id"] = cart["delivery_site_id"]
        if cart["payment_type"]:
            body["payment"] = {"type": cart["payment_type"]}
            if cart["payment_net_days"] is not None:
                body["payment"]["net_days"] = cart["payment_net_days"]
        if cart["purchase_order_number"]:
            body["purchase_order_number"] = cart["purchase_order_number"]
        if cart["delivery_window_start"]:
            body["delivery_window"] = {
                "start": format_datetime(cart["delivery_window_start"]),
                "end": format_datetime(cart["delivery_window_end"]),
            }
        try:
            order = OrderIn.model_validate(body)
        except ValidationError as exc:
            error = validation_error(exc)
            raise ApiError(
                400, error.code, f"{error.message} (pôle {key[1]} de {key[0]})", error.path
            ) from None
        _check_window(session, organisation_id, cart, key, fulfilment)
        plan.append((key, order))
    return plan


def _check_window(
    session: Session,
    organisation_id: str,
    cart: Mapping[str, Any],
    key: Key,
    fulfilment: Mapping[str, Any] | None,
) -> None:
    """The cart's window against what the pôle's option declares (its catalogue as last
    seen): a 400 at ``delivery_window.start`` or ``.end``."""
    if not cart["delivery_window_start"]:
        return
    provider = catalog.catalog_provider(session, organisation_id, key[0], key[1])
    rules = declared_rules(provider, key[2] or None, (fulfilment or {}).get("type"))
    check_delivery_window(
        cart["delivery_window_start"], cart["delivery_window_end"], rules, pole=key[1]
    )


def check_window_alone(fields: CartFields) -> None:
    """A window given in a request, before anything is stored (past, inverted, too long,
    out of the calendar)."""
    window = fields.delivery_window
    if window is not None:
        check_delivery_window(window.start, window.end)


def _check_cart(session: Session, organisation_id: str, cart: Mapping[str, Any]) -> None:
    """What can be checked while the cart is being filled: its window, alone and against
    each of its pôles' declared rules."""
    if not cart["delivery_window_start"]:
        return
    check_delivery_window(cart["delivery_window_start"], cart["delivery_window_end"])
    site_delivery = {"type": "livraison"} if cart["delivery_site_id"] else None
    for key in dict.fromkeys(_pole_key(line, cart) for line in repo.lines_of(session, cart["id"])):
        _check_window(session, organisation_id, cart, key, cart["fulfilment"] or site_delivery)


# --- editing a cart ---------------------------------------------------------------------------


def create_cart(
    session: Session, organisation_id: str, cart_id: str, wanted: CartIn, now: datetime
) -> dict[str, Any]:
    """A new open cart with its fields and lines, each checked (:mod:`.cart_checks`)."""
    _check_site(session, organisation_id, wanted.delivery_site_id)
    repo.insert_cart(
        session,
        {
            "id": cart_id,
            "organisation_id": organisation_id,
            "state": "ouvert",
            "created_at": now,
            "updated_at": now,
            **_field_values(wanted, set(CartFields.model_fields)),
        },
    )
    seen: set[tuple[str, str, str]] = set()
    for index, line in enumerate(wanted.lines):
        triple = (line.bpp_id, line.provider_id, line.item_id)
        if triple in seen:
            raise ApiError(
                400,
                "parametres_invalides",
                "Même article du même pôle deux fois ; une ligne par article.",
                f"lines.{index}",
            )
        seen.add(triple)
        check_line(session, organisation_id, line.model_dump(), path=f"lines.{index}.")
        repo.put_line(session, cart_id, line.model_dump(), now)
    cart = _cart_row(session, organisation_id, cart_id)
    _check_cart(session, organisation_id, cart)
    return cart_document(session, cart)


def list_carts(session: Session, organisation_id: str) -> list[dict[str, Any]]:
    """The organisation's carts, newest first (100 at most)."""
    return [
        {
            "id": row["id"],
            "name": row["name"],
            "state": row["state"],
            "approval": state_of(row),
            "purchase_order_number": row["purchase_order_number"],
            "created_at": _time(row["created_at"]),
            "checked_out_at": _time(row["checked_out_at"]),
        }
        for row in repo.carts_of(session, organisation_id, limit=100)
    ]


def patch_cart(
    session: Session, organisation_id: str, cart_id: str, wanted: CartFields, present: set[str]
) -> dict[str, Any]:
    """Change the fields named in ``present`` (``None`` clears one) of an open cart."""
    cart = _cart_row(session, organisation_id, cart_id, lock=True)
    _open(cart)
    approval = check_editable(session, organisation_id, cart)
    _check_site(session, organisation_id, wanted.delivery_site_id)
    repo.update_cart(
        session,
        cart["id"],
        {"updated_at": utcnow(), **_field_values(wanted, present), **approval},
    )
    changed = _cart_row(session, organisation_id, cart["id"])
    _check_cart(session, organisation_id, changed)
    return cart_document(session, changed)


def add_line(
    session: Session, organisation_id: str, cart_id: str, line: CartLineIn
) -> dict[str, Any]:
    """Add a line to an open cart (the same pôle and item: its new quantity)."""
    cart = _cart_row(session, organisation_id, cart_id, lock=True)
    _open(cart)
    approval = check_editable(session, organisation_id, cart)
    if _count_lines(session, cart["id"]) >= MAX_LINES:
        raise ApiError(400, "parametres_invalides", f"Au plus {MAX_LINES} lignes par panier.", "$")
    now = utcnow()
    check_line(session, organisation_id, line.model_dump())
    repo.put_line(session, cart["id"], line.model_dump(), now)
    repo.update_cart(session, cart["id"], {"updated_at": now, **approval})
    _check_cart(session, organisation_id, cart)
    return cart_document(session, _cart_row(session, organisation_id, cart["id"]))


def remove_line(
    session: Session, organisation_id: str, cart_id: str, line_id: str
) -> dict[str, Any]:
    """Take a line out of an open cart; 404 ``ligne_inconnue``."""
    cart = _cart_row(session, organisation_id, cart_id, lock=True)
    _open(cart)
    approval = check_editable(session, organisation_id, cart)
    gone = (
        line_id.isdigit()
        and len(line_id) <= 18
        and repo.delete_line(session, cart["id"], int(line_id))
    )
    if not gone:
        raise ApiError(404, "ligne_inconnue", "Ligne inconnue dans ce panier.", "line_id")
    repo.update_cart(session, cart["id"], {"updated_at": utcnow(), **approval})
    return cart_document(session, _cart_row(session, organisation_id, cart["id"]))
