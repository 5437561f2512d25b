"""Stock only ever goes down through :func:`take_stock` (or :func:`add_stock`), one guarded
``UPDATE`` that cannot oversell whatever the concurrency; every change is a stock movement
(:mod:`.stock_movements`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reseau_poles.storage import utcnow

from ..tables import (
    items,
    stock,
)
from . import Conflict
from . import stock_movements as movements
from .stock_movements import Reason


def set_stock(
    session: Session,
    item_id: int,
    quantity: int,
    *,
    reason: Reason = Reason.INVENTAIRE,
    reference: str | None = None,
    note: str | None = None,
) -> None:
    """Set the stock to ``quantity``; a change (not the same count again) is a movement."""
    before = session.execute(
        select(stock.c.quantity).where(stock.c.item_id == item_id).with_for_update()
    ).scalar_one()
    session.execute(
        update(stock)
        .where(stock.c.item_id == item_id)
        .values(quantity=quantity, updated_at=utcnow())
    )
    if quantity != before:
        movements.record(session, item_id, reason, quantity - before, quantity, reference, note)


def available(session: Session, item_id: int) -> int:
    return int(
        session.execute(select(stock.c.quantity).where(stock.c.item_id == item_id)).scalar_one()
    )


def take_stock(
    session: Session,
    item_id: int,
    quantity: int,
    *,
    reason: Reason = Reason.COMMANDE,
    reference: str | None = None,
) -> bool:
    """Take ``quantity`` units if there are that many; ``False`` (nothing taken) otherwise.

    One statement: the check and the decrement happen together under the row's lock, so two
    transactions can never both take the last units (PostgreSQL re-checks the ``WHERE`` on
    the row's newest version after waiting for its lock; SQLite writers are serialised).
    What is left comes back from the same statement, for the movement it records.
    """
    left = session.execute(
        update(stock)
        .where(stock.c.item_id == item_id, stock.c.quantity >= quantity)
        .values(quantity=stock.c.quantity - quantity, updated_at=utcnow())
        .returning(stock.c.quantity)
    ).scalar_one_or_none()
    if left is None:
        return False
    movements.record(session, item_id, reason, -quantity, int(left), reference)
    return True


def add_stock(
    session: Session,
    item_id: int,
    delta: int,
    reason: Reason,
    reference: str | None = None,
    note: str | None = None,
) -> int | None:
    """Add ``delta`` (negative: remove) unless the stock would go below zero; the new stock
    (and its movement), or ``None`` when nothing changed."""
    now = session.execute(
        update(stock)
        .where(stock.c.item_id == item_id, stock.c.quantity + delta >= 0)
        .values(quantity=stock.c.quantity + delta, updated_at=utcnow())
        .returning(stock.c.quantity)
    ).scalar_one_or_none()
    if now is None:
        return None
    if delta:
        movements.record(session, item_id, reason, delta, int(now), reference, note)
    return int(now)


def locked_stock(session: Session, item_id: int) -> int:
    return int(
        session.execute(
            select(stock.c.quantity).where(stock.c.item_id == item_id).with_for_update()
        ).scalar_one()
    )


def locked_stocks(session: Session, item_ids: Sequence[int]) -> dict[int, int]:
    """The stock of each item, its row locked (``FOR UPDATE``) until the transaction ends."""
    found: dict[int, int] = {}
    for start in range(0, len(item_ids), 500):
        found.update(
            session.execute(
                select(stock.c.item_id, stock.c.quantity)
                .where(stock.c.item_id.in_(item_ids[start : start + 500]))
                .with_for_update()
            ).all()
        )
    return found


def item_id_of(session: Session, provider_id: str, sku: str) -> int | None:
    return session.execute(
        select(items.c.id).where(items.c.provider_id == provider_id, items.c.sku == sku)
    ).scalar_one_or_none()


def set_item_stock(
    session: Session, provider_id: str, sku: str, quantity: int, note: str | None = None
) -> int | None:
    """Set the stock to ``quantity`` (a count, so never negative); ``None`` for no such item."""
    item_id = item_id_of(session, provider_id, sku)
    if item_id is None:
        return None
    set_stock(session, item_id, quantity, note=note)
    return quantity


def adjust_item_stock(
    session: Session, provider_id: str, sku: str, delta: int, note: str | None = None
) -> int | None:
    """Add ``delta`` (negative: remove) in one guarded statement; the new stock, ``None`` for
    no such item, :class:`Conflict` when it would go below zero (nothing changed)."""
    item_id = item_id_of(session, provider_id, sku)
    if item_id is None:
        return None
    changed = add_stock(session, item_id, delta, Reason.AJUSTEMENT, note=note)
    if changed is not None:
        return changed
    now = available(session, item_id)
    raise Conflict(
        f"Stock insuffisant : {now} en stock, impossible de retirer {-delta}.",
        "delta",
        available=now,
    )
