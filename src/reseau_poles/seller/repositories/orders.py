"""The orders: created at confirm with their lines, then locked, read with lines and events,
listed per pôle, restocked, their lines and state changed. Callers hold the transaction.

An order's life cycle is not stored twice: :func:`lifecycle_of` rebuilds the protocol core's
:class:`OrderLifecycle` from the order's status and fulfilment columns, which every change
keeps up to date.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from reseau_poles.protocol.lifecycle import OrderLifecycle, Phase
from reseau_poles.storage import all_rows, first_row, one_or_none_row, utcnow

from ..tables import (
    items,
    order_events,
    order_lines,
    orders,
)
from .stock import add_stock
from .stock_movements import Reason


@dataclass(frozen=True, slots=True)
class OrderLine:
    item_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    tps: Decimal
    tvq: Decimal


def find_order(session: Session, order_id: str) -> Mapping[str, Any] | None:
    return one_or_none_row(session.execute(select(orders).where(orders.c.id == order_id)))


def find_order_by_transaction(
    session: Session, bap_id: str, transaction_id: str
) -> Mapping[str, Any] | None:
    return one_or_none_row(
        session.execute(
            select(orders).where(
                orders.c.bap_id == bap_id, orders.c.transaction_id == transaction_id
            )
        )
    )


def insert_order(
    session: Session, values: Mapping[str, Any], lines: Sequence[OrderLine], created_at: datetime
) -> None:
    session.execute(insert(orders).values(created_at=created_at, updated_at=created_at, **values))
    session.execute(
        insert(order_lines),
        [
            {"order_id": values["id"], "line_no": number, **asdict(line)}
            for number, line in enumerate(lines, start=1)
        ],
    )


_PHASES = {"ACTIVE": Phase.CONFIRMED, "COMPLETE": Phase.COMPLETED, "CANCELLED": Phase.CANCELLED}


def lifecycle_of(order: Mapping[str, Any]) -> OrderLifecycle:
    """The protocol core's life cycle of a stored order (one fulfilment per order here)."""
    return OrderLifecycle.from_dict(
        {
            "version": 1,
            "phase": _PHASES[order["status"]].value,
            "fulfillments": {
                order["fulfillment_id"]: {
                    "type": order["fulfillment_type"],
                    "state": order["fulfillment_state"],
                }
            },
            "cancelled_by": order.get("cancelled_by"),
            "cancellation_fee_applies": bool(order.get("cancellation_fee")),
        }
    )


def lock_order(session: Session, order_id: str) -> Mapping[str, Any] | None:
    """The order, locked for the rest of the transaction (``FOR UPDATE`` on PostgreSQL; on
    SQLite the write transaction already holds the database lock)."""
    return first_row(
        session.execute(select(orders).where(orders.c.id == order_id).with_for_update())
    )


def update_order(session: Session, order_id: str, **values: Any) -> None:
    values.setdefault("updated_at", utcnow())
    session.execute(update(orders).where(orders.c.id == order_id).values(**values))


def lines_of(session: Session, order_id: str) -> list[Mapping[str, Any]]:
    return all_rows(
        session.execute(
            select(order_lines, items.c.taxable, items.c.unit)
            .join(items, items.c.id == order_lines.c.item_id)
            .where(order_lines.c.order_id == order_id)
            .order_by(order_lines.c.line_no)
        )
    )


def events_of(session: Session, order_id: str) -> list[Mapping[str, Any]]:
    return all_rows(
        session.execute(
            select(order_events)
            .where(order_events.c.order_id == order_id)
            .order_by(order_events.c.id)
        )
    )


def add_event(
    session: Session, order_id: str, kind: str, detail: Mapping[str, Any] | None = None
) -> None:
    session.execute(
        order_events.insert().values(
            order_id=order_id, kind=kind, detail=dict(detail or {}), created_at=utcnow()
        )
    )


def restock(session: Session, order_id: str) -> dict[str, int]:
    """Give every line's units back to stock (a cancellation); returns them by SKU."""
    given: dict[str, int] = {}
    for line in lines_of(session, order_id):
        give_back(session, line["item_id"], line["quantity"], Reason.ANNULATION, order_id)
        given[line["sku"]] = line["quantity"]
    return given


def give_back(session: Session, item_id: int, quantity: int, reason: Reason, order_id: str) -> None:
    """Put ``quantity`` units of an order back in stock, as a movement of ``reason``."""
    add_stock(session, item_id, quantity, reason, order_id)


@dataclass(frozen=True, slots=True)
class LineChange:
    """A line's new quantity and amounts (``quantity == 0``: the line goes)."""

    line_no: int
    quantity: int
    amount: Decimal = Decimal(0)
    tps: Decimal = Decimal(0)
    tvq: Decimal = Decimal(0)


def change_lines(session: Session, order_id: str, changes: Sequence[LineChange]) -> None:
    for change in changes:
        where = (order_lines.c.order_id == order_id, order_lines.c.line_no == change.line_no)
        if change.quantity == 0:
            session.execute(delete(order_lines).where(*where))
        else:
            session.execute(
                update(order_lines)
                .where(*where)
                .values(
                    quantity=change.quantity, amount=change.amount, tps=change.tps, tvq=change.tvq
                )
            )


def list_orders(
    session: Session,
    provider_id: str,
    *,
    status: str | None = None,
    fulfillment_state: str | None = None,
    purchase_order_number: str | None = None,
    delivered_between: tuple[datetime, datetime] | None = None,
    limit: int = 50,
    offset: int = 0,
    by_delivery: bool = False,
) -> tuple[list[Mapping[str, Any]], int]:
    """A page of a pôle's orders, newest first, and how many match in all
    (``delivered_between``: a delivery window starting in ``[start, end)``). ``by_delivery``:
    by the start of their delivery window instead, the soonest first (orders without a window
    last), as a pôle prepares them."""
    conditions = [orders.c.provider_id == provider_id]
    if status:
        conditions.append(orders.c.status == status)
    if fulfillment_state:
        conditions.append(orders.c.fulfillment_state == fulfillment_state)
    if purchase_order_number:
        conditions.append(orders.c.purchase_order_number == purchase_order_number)
    if delivered_between:
        conditions.append(orders.c.delivery_start >= delivered_between[0])
        conditions.append(orders.c.delivery_start < delivered_between[1])
    total = session.execute(select(func.count()).select_from(orders).where(*conditions))
    order = (
        (orders.c.delivery_start.is_(None), orders.c.delivery_start, orders.c.id)
        if by_delivery
        else (orders.c.created_at.desc(), orders.c.id.desc())
    )
    page = all_rows(
        session.execute(
            select(orders).where(*conditions).order_by(*order).limit(limit).offset(offset)
        )
    )
    return page, int(total.scalar_one())


def to_deliver(
    session: Session, provider_id: str, start: datetime, end: datetime
) -> list[Mapping[str, Any]]:
    """The pôle's orders, not cancelled, whose delivery window starts in ``[start, end)``,
    by window then id (the pick list of a day)."""
    return all_rows(
        session.execute(
            select(orders)
            .where(
                orders.c.provider_id == provider_id,
                orders.c.status != "CANCELLED",
                orders.c.delivery_start >= start,
                orders.c.delivery_start < end,
            )
            .order_by(orders.c.delivery_start, orders.c.id)
        )
    )


def pick_lines(session: Session, order_ids: Sequence[str]) -> Iterator[Mapping[str, Any]]:
    """The lines of these orders (SKU, name, quantity, the item's unit and format), by order
    and line number."""
    for begin in range(0, len(order_ids), 500):
        yield from all_rows(
            session.execute(
                select(
                    order_lines.c.order_id,
                    order_lines.c.sku,
                    order_lines.c.name,
                    order_lines.c.quantity,
                    items.c.unit,
                    items.c.pack_size,
                )
                .join(items, items.c.id == order_lines.c.item_id)
                .where(order_lines.c.order_id.in_(order_ids[begin : begin + 500]))
                .order_by(order_lines.c.order_id, order_lines.c.line_no)
            )
        )
