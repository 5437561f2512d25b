"""The buyer node's cart queries: carts, their lines, and one row per group of lines (a pôle
and its fulfilment option) once checked out, with the group's order.

Functions take a SQLAlchemy session; they never commit. ``key``: (seller node, pôle,
fulfilment option, ``''`` when none is named).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from reseau_poles.storage import all_rows, first_row, row_count

from ..tables import cart_lines, cart_poles, carts, orders

Key = tuple[str, str, str]  # seller node, pôle, fulfilment option ('' when none is named)

# --- carts -------------------------------------------------------------------------------------


def get_cart(
    session: Session, organisation_id: str, cart_id: str, *, lock: bool = False
) -> Mapping[str, Any] | None:
    query = select(carts).where(carts.c.id == cart_id, carts.c.organisation_id == organisation_id)
    if lock:
        query = query.with_for_update()
    return first_row(session.execute(query))


def insert_cart(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(carts.insert().values(**values))


def update_cart(session: Session, cart_id: str, values: Mapping[str, Any]) -> None:
    session.execute(update(carts).where(carts.c.id == cart_id).values(**values))


def check_out(session: Session, cart_id: str, now: datetime) -> bool:
    """Move an open cart to ``commande``; ``False`` when it was not open any more (a
    conditional update: two checkouts at once move it once)."""
    result = session.execute(
        update(carts)
        .where(carts.c.id == cart_id, carts.c.state == "ouvert")
        .values(state="commande", checked_out_at=now, updated_at=now)
    )
    return row_count(result) == 1


def carts_of(session: Session, organisation_id: str, limit: int = 100) -> list[Mapping[str, Any]]:
    """The organisation's carts, newest first."""
    return all_rows(
        session.execute(
            select(carts)
            .where(carts.c.organisation_id == organisation_id)
            .order_by(carts.c.created_at.desc(), carts.c.id)
            .limit(limit)
        )
    )


# --- lines -------------------------------------------------------------------------------------


def lines_of(session: Session, cart_id: str) -> list[Mapping[str, Any]]:
    return all_rows(
        session.execute(
            select(cart_lines).where(cart_lines.c.cart_id == cart_id).order_by(cart_lines.c.id)
        )
    )


def put_line(session: Session, cart_id: str, line: Mapping[str, Any], now: datetime) -> None:
    """Add a line (``bpp_id``, ``provider_id``, ``item_id``, ``quantity``,
    ``fulfilment_id``), or give an existing (pôle, item) line its new quantity."""
    existing = session.execute(
        select(cart_lines.c.id).where(
            cart_lines.c.cart_id == cart_id,
            cart_lines.c.bpp_id == line["bpp_id"],
            cart_lines.c.provider_id == line["provider_id"],
            cart_lines.c.item_id == line["item_id"],
        )
    ).scalar_one_or_none()
    values = {"quantity": line["quantity"], "fulfilment_id": line["fulfilment_id"]}
    if existing is not None:
        session.execute(update(cart_lines).where(cart_lines.c.id == existing).values(**values))
    else:
        session.execute(
            cart_lines.insert().values(
                cart_id=cart_id,
                bpp_id=line["bpp_id"],
                provider_id=line["provider_id"],
                item_id=line["item_id"],
                added_at=now,
                **values,
            )
        )


def delete_line(session: Session, cart_id: str, line_id: int) -> bool:
    result = session.execute(
        delete(cart_lines).where(cart_lines.c.cart_id == cart_id, cart_lines.c.id == line_id)
    )
    return bool(row_count(result))


# --- groups (checked out) ----------------------------------------------------------------------


def poles_of(session: Session, cart_id: str) -> list[Mapping[str, Any]]:
    return all_rows(
        session.execute(
            select(cart_poles).where(cart_poles.c.cart_id == cart_id).order_by(cart_poles.c.id)
        )
    )


def insert_pole(session: Session, cart_id: str, key: Key, now: datetime) -> None:
    """A group's row, waiting (``attente``) for its order."""
    session.execute(
        cart_poles.insert().values(
            cart_id=cart_id,
            bpp_id=key[0],
            provider_id=key[1],
            fulfilment_id=key[2],
            state="attente",
            updated_at=now,
        )
    )


def _of_key(cart_id: str, key: Key) -> tuple[Any, ...]:
    return (
        cart_poles.c.cart_id == cart_id,
        cart_poles.c.bpp_id == key[0],
        cart_poles.c.provider_id == key[1],
        cart_poles.c.fulfilment_id == key[2],
    )


def update_pole(session: Session, cart_id: str, key: Key, values: Mapping[str, Any]) -> None:
    session.execute(update(cart_poles).where(*_of_key(cart_id, key)).values(**values))


def retake_failed_pole(session: Session, pole_id: int, now: datetime) -> bool:
    """Move a failed group back to ``attente``; ``False`` when it was not failed any more (a
    conditional update: two retries at once take it once)."""
    result = session.execute(
        update(cart_poles)
        .where(cart_poles.c.id == pole_id, cart_poles.c.state == "echec")
        .values(state="attente", error=None, updated_at=now)
    )
    return row_count(result) == 1


def pole_order_id(session: Session, cart_id: str, key: Key) -> str | None:
    """The order the group's row names, if any."""
    found = session.execute(
        select(cart_poles.c.order_id).where(*_of_key(cart_id, key))
    ).scalar_one_or_none()
    return str(found) if found else None


def cart_order(session: Session, organisation_id: str, cart_id: str, key: Key) -> str | None:
    """An order made for this cart and group (by ``cart_id``, pôle and fulfilment option)."""
    rows = session.execute(
        select(orders.c.id, orders.c.request)
        .where(
            orders.c.organisation_id == organisation_id,
            orders.c.cart_id == cart_id,
            orders.c.bpp_id == key[0],
            orders.c.provider_id == key[1],
        )
        .order_by(orders.c.created_at)
    ).all()
    for order_id, request in rows:
        fulfilment = (request or {}).get("fulfilment") or {}
        if str(fulfilment.get("id") or "") == key[2]:
            return str(order_id)
    return None
