"""The price of a cart before it is ordered: ``POST /api/carts/{id}/preview``.

Each group of the cart (a pôle and its fulfilment option) is quoted by its seller node: the
buyer node sends ``select`` on the group's own order (made for this cart, reused by every
later preview and by the checkout: one transaction per group, never a second order) and
gathers the ``on_select`` answers. Per group: the quoted lines with TPS and TVQ, the delivery
fees, the taxes, the total, the pôle's minimum order and whether the cart meets it, or the
pôle's refusal with its code and path.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from reseau_poles.participant import ApiError
from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.profile import TPS_LABEL, TVQ_LABEL, delivery_rules_from_tags
from reseau_poles.storage import read_session

from ..repositories.carts import Key, cart_order
from ..requests import OrderIn
from .carts import _cart_row, _open, _plan
from .orders import OrderService

PREVIEW_WAIT_MS = 10_000
LINE_FIELDS = (
    *("item_id", "name", "quantity", "unit"),
    *("unit_price", "amount", "taxable", "tps", "tvq"),
)


def _money(value: Decimal) -> dict[str, str]:
    return {"currency": "CAD", "value": f"{value:.2f}"}


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except (InvalidOperation, ValueError):
        return None


def _minimum(document: Mapping[str, Any]) -> Decimal | None:
    """The minimum order the seller's quoted fulfilment declares (``modalites``)."""
    seller = document.get("seller_document") or {}
    for fulfilment in seller.get("fulfillments") or []:
        if isinstance(fulfilment, Mapping):
            try:
                return delivery_rules_from_tags(fulfilment.get("tags") or []).minimum_order
            except ProtocolError:
                return None
    return None


def group_quote(key: Key, document: Mapping[str, Any]) -> dict[str, Any]:
    """One group's answer, from its order as the seller quoted it (or refused it)."""
    entry: dict[str, Any] = {
        "bpp_id": key[0],
        "provider_id": key[1],
        "provider_name": document["provider"]["name"],
        "fulfilment_id": key[2] or None,
        "order_id": document["id"],
        "order_url": f"/api/orders/{document['id']}",
    }
    if document["pending"] is not None:
        return {**entry, "state": "sans_reponse", "error": None}
    if document["error"] is not None or document["quote"] is None:
        return {**entry, "state": "refus", "error": document["error"]}
    quote = document["quote"]
    items_total = sum(
        (_decimal(line["amount"]) or Decimal(0) for line in document["lines"]), Decimal(0)
    )
    fees, taxes = [], {"tps": Decimal(0), "tvq": Decimal(0)}
    for part in quote.get("breakup") or []:
        if not isinstance(part, Mapping) or part.get("item"):
            continue
        amount = _decimal((part.get("price") or {}).get("value")) or Decimal(0)
        title = str(part.get("title") or "")
        if title == TPS_LABEL:
            taxes["tps"] += amount
        elif title == TVQ_LABEL:
            taxes["tvq"] += amount
        else:
            fees.append({"title": title, "amount": _money(amount)})
    minimum = _minimum(document)
    return {
        **entry,
        "state": "devis",
        "lines": [{name: line[name] for name in LINE_FIELDS} for line in document["lines"]],
        "items_total": _money(items_total),
        "delivery_fees": fees,
        "taxes": {"tps": _money(taxes["tps"]), "tvq": _money(taxes["tvq"])},
        "total": document["total"],
        "minimum_order": (
            {"value": _money(minimum), "met": items_total >= minimum}
            if minimum is not None
            else None
        ),
        "valid_for": quote.get("ttl"),
        "error": None,
    }


def _compared(request: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(request.get(k) for k in ("items", "fulfilment", "delivery_window"))


def needs_select(document: Mapping[str, Any], order: OrderIn) -> bool:
    """Whether an existing order must be quoted again before it goes on: its select was
    refused (still ``new``), or the cart changed since (lines, delivery, window)."""
    if document["state"] == "new":
        return True
    if document["state"] not in ("selected", "initialized"):
        return False
    wanted = order.model_dump(mode="json", exclude_none=True)
    return _compared(document["request"] or {}) != _compared(wanted)


async def _quote(
    orders: OrderService, organisation_id: str, cart_id: str, key: Key, order: OrderIn
) -> str:
    """Send select for one group on its own order (made once per cart and group)."""

    def find() -> str | None:
        with read_session(orders.factory) as session:
            return cart_order(session, organisation_id, cart_id, key)

    order_id = await asyncio.to_thread(find)
    if order_id is None:
        return str((await orders.create(organisation_id, order))["id"])
    current = await orders.view(organisation_id, order_id)
    if current["pending"] is None:
        # the life cycle may refuse (confirmed elsewhere): the order is shown as it is
        with contextlib.suppress(ApiError):
            await orders.reselect(organisation_id, order_id, order)
    return order_id


async def preview(
    orders: OrderService, cart_lock: asyncio.Lock, organisation_id: str, cart_id: str, wait_ms: int
) -> dict[str, Any]:
    """Each group's quote, its order found or made under ``cart_lock`` (the cart's: two
    previews, or a preview and the checkout, at once make one order per group all the same)."""

    def plan() -> list[tuple[Key, OrderIn]]:
        with read_session(orders.factory) as session:
            cart = _cart_row(session, organisation_id, cart_id)
            _open(cart)
            return _plan(session, organisation_id, cart, quote_only=True)

    async with cart_lock:
        groups = await asyncio.to_thread(plan)
        ids = [await _quote(orders, organisation_id, cart_id, key, order) for key, order in groups]
    documents = await asyncio.gather(
        *(orders.view(organisation_id, order_id, wait_ms) for order_id in ids)
    )
    poles = [group_quote(key, doc) for (key, _), doc in zip(groups, documents, strict=True)]
    return _summary(cart_id, poles)


def _summary(cart_id: str, poles: list[dict[str, Any]]) -> dict[str, Any]:
    quoted = [p for p in poles if p["state"] == "devis"]
    total = sum(
        (_decimal(p["total"]["value"]) or Decimal(0) for p in quoted if p["total"]), Decimal(0)
    )
    return {
        "cart_id": cart_id,
        "complete": all(p["state"] != "sans_reponse" for p in poles),
        "quoted": len(quoted),
        "refused": sum(1 for p in poles if p["state"] == "refus"),
        "total": _money(total),
        "poles": poles,
    }


async def last_quotes(
    orders: OrderService, organisation_id: str, cart_id: str, wait_ms: int
) -> dict[str, Any]:
    """The quotes of the cart's last preview as they stand, nothing sent (a page reads them
    after :func:`preview` sent its ``select`` requests): as :func:`preview`, each group's ``state``
    also ``non_demande`` (never previewed) or ``perime`` (the cart changed since: lines,
    delivery or window). Waits ``wait_ms`` at most for answers due."""

    def plan() -> tuple[list[tuple[Key, OrderIn]], list[str | None]]:
        with read_session(orders.factory) as session:
            cart = _cart_row(session, organisation_id, cart_id)
            _open(cart)
            groups = _plan(session, organisation_id, cart, quote_only=True)
            return groups, [cart_order(session, organisation_id, cart_id, k) for k, _ in groups]

    groups, ids = await asyncio.to_thread(plan)
    asked = [order_id for order_id in ids if order_id is not None]
    documents = dict(
        zip(
            asked,
            await asyncio.gather(
                *(orders.view(organisation_id, order_id, wait_ms) for order_id in asked)
            ),
            strict=True,
        )
    )
    poles = []
    for (key, order), order_id in zip(groups, ids, strict=True):
        if order_id is None:
            poles.append(
                {
                    "bpp_id": key[0],
                    "provider_id": key[1],
                    "provider_name": None,
                    "fulfilment_id": key[2] or None,
                    "order_id": None,
                    "state": "non_demande",
                    "error": None,
                }
            )
            continue
        document = documents[order_id]
        entry = group_quote(key, document)
        if document["pending"] is None and needs_select(document, order):
            entry["state"] = "perime"
        poles.append(entry)
    return _summary(cart_id, poles)
