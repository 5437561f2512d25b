"""A cart's lines as a person reads them, and one change a person makes to a whole group.

:func:`cart_groups` — the lines grouped as they will be ordered (one order per pôle and
fulfilment option, :func:`.carts._pole_key`), each line with what the pôle's catalogue said of
its item when the organisation last searched (name, pack, price, price per unit, taxes: an
offer card, :mod:`.offer_cards`), each group with its option and the pôle's other options,
and an estimate before taxes and fees (the pôle's quote, :mod:`.cart_preview`, is the price).

:func:`set_fulfilment` — one fulfilment option for all the lines of one pôle (checked like
a line, :func:`.cart_checks.check_line`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.participant import ApiError
from reseau_poles.storage import read_session, utcnow, write_session

from ..repositories import carts as repo
from ..repositories import catalog
from .cart_approval import check_editable
from .cart_checks import check_line
from .carts import _cart_row, _open, _pole_key, cart_document
from .offer_cards import fulfilment_option, offer_card
from .results import read_offer


def _group(
    session: Session,
    organisation_id: str,
    key: tuple[str, str, str],
    lines: list[Mapping[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    bpp_id, provider_id, fulfilment_id = key
    stored = catalog.catalog_provider(session, organisation_id, bpp_id, provider_id) or {}
    provider = {**stored, "bpp_id": bpp_id, "id": provider_id}
    items = catalog.catalog_items(
        session, organisation_id, bpp_id, provider_id, [line["item_id"] for line in lines]
    )
    options = [
        fulfilment_option(option, now)
        for option in provider.get("fulfillments") or []
        if isinstance(option, Mapping)
    ]
    found = []
    estimate = Decimal(0)
    for line in lines:
        item = items.get(line["item_id"])
        card = offer_card(read_offer(provider, item), now) if item else None
        amount = card["price"] * line["quantity"] if card and card["price"] is not None else None
        estimate += amount or Decimal(0)
        found.append(
            {
                "id": line["id"],
                "item_id": line["item_id"],
                "quantity": line["quantity"],
                "fulfilment_id": line["fulfilment_id"],
                "card": card,
                "amount": amount,
            }
        )
    name = (provider.get("descriptor") or {}).get("name")
    return {
        "bpp_id": bpp_id,
        "provider_id": provider_id,
        "provider_name": name if isinstance(name, str) else None,
        "fulfilment_id": fulfilment_id or None,
        "option": next((o for o in options if o["id"] == fulfilment_id), None),
        "options": options,
        "lines": found,
        "estimate": estimate,
    }


def cart_groups(
    session: Session, organisation_id: str, cart: Mapping[str, Any], now: datetime
) -> list[dict[str, Any]]:
    """The cart's lines by group (pôle and option), in the order they were added."""
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for line in repo.lines_of(session, cart["id"]):
        groups.setdefault(_pole_key(line, cart), []).append(line)
    return [_group(session, organisation_id, key, lines, now) for key, lines in groups.items()]


async def read_cart(
    factory: sessionmaker[Session], organisation_id: str, cart_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The cart's document (:func:`.carts.cart_document`) and its groups; raises
    :class:`.carts.CartNotFound`."""

    def read() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        with read_session(factory) as session:
            cart = _cart_row(session, organisation_id, cart_id)
            return cart_document(session, cart), cart_groups(
                session, organisation_id, cart, utcnow()
            )

    return await asyncio.to_thread(read)


def set_fulfilment(
    session: Session,
    organisation_id: str,
    cart_id: str,
    bpp_id: str,
    provider_id: str,
    fulfilment_id: str | None,
) -> int:
    """Give every line of one pôle the option ``fulfilment_id`` (``None``: the cart's
    delivery); how many lines changed. Raises :class:`ApiError` (400 for an option the pôle
    does not offer for one of its items, 409 for a cart that does not change)."""
    cart = _cart_row(session, organisation_id, cart_id, lock=True)
    _open(cart)
    approval = check_editable(session, organisation_id, cart)
    lines = [
        line
        for line in repo.lines_of(session, cart["id"])
        if line["bpp_id"] == bpp_id and line["provider_id"] == provider_id
    ]
    if not lines:
        raise ApiError(
            404, "pole_inconnu", "Aucune ligne de ce pôle dans le panier.", "provider_id"
        )
    now = utcnow()
    for line in lines:
        wanted = {
            "bpp_id": bpp_id,
            "provider_id": provider_id,
            "item_id": line["item_id"],
            "quantity": line["quantity"],
            "fulfilment_id": fulfilment_id,
        }
        check_line(session, organisation_id, wanted)
        repo.put_line(session, cart["id"], wanted, now)
    repo.update_cart(session, cart["id"], {"updated_at": now, **approval})
    return len(lines)


async def change_fulfilment(
    factory: sessionmaker[Session],
    organisation_id: str,
    cart_id: str,
    bpp_id: str,
    provider_id: str,
    fulfilment_id: str | None,
) -> int:
    def write() -> int:
        with write_session(factory) as session:
            return set_fulfilment(
                session, organisation_id, cart_id, bpp_id, provider_id, fulfilment_id
            )

    return await asyncio.to_thread(write)
