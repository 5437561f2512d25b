"""The buyer node's order queries: orders, their lines and events, the callbacks behind them.

Functions take a SQLAlchemy session (``write_session`` / ``read_session``); they never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from reseau_poles.storage import all_rows, first_row, utcnow

from ..tables import callbacks, order_events, order_lines, orders

# --- orders ----------------------------------------------------------------------------------


def insert_order(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(insert(orders).values(**values))


def get_order(
    session: Session, order_id: str, *, for_update: bool = False
) -> Mapping[str, Any] | None:
    """One order; ``for_update`` locks its row on PostgreSQL (callbacks of one transaction are
    applied one after the other; SQLite's ``BEGIN IMMEDIATE`` already serialises writers)."""
    query = select(orders).where(orders.c.id == order_id)
    if for_update:
        query = query.with_for_update()
    return first_row(session.execute(query))


def update_order(session: Session, order_id: str, values: Mapping[str, Any]) -> None:
    session.execute(
        update(orders).where(orders.c.id == order_id).values(**{"updated_at": utcnow(), **values})
    )


def list_orders(
    session: Session,
    organisation_id: str,
    *,
    state: str | None = None,
    provider: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    purchase_order_number: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[Mapping[str, Any]], int]:
    """An organisation's orders, newest first, and how many match in all."""
    conditions = [orders.c.organisation_id == organisation_id]
    if purchase_order_number is not None:
        conditions.append(orders.c.purchase_order_number == purchase_order_number)
    if state is not None:
        conditions.append(orders.c.state == state)
    if provider is not None:
        conditions.append((orders.c.provider_id == provider) | (orders.c.bpp_id == provider))
    if since is not None:
        conditions.append(orders.c.created_at >= since)
    if until is not None:
        conditions.append(orders.c.created_at < until)
    total = session.execute(select(func.count()).select_from(orders).where(*conditions))
    page = all_rows(
        session.execute(
            select(orders)
            .where(*conditions)
            .order_by(orders.c.created_at.desc(), orders.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    return page, int(total.scalar_one())


def providers_of(
    session: Session, organisation_id: str, limit: int = 200
) -> list[Mapping[str, Any]]:
    """The pôles the organisation ordered from (``bpp_id``, ``provider_id``, ``name``: the
    latest name known), by name."""
    name = func.max(orders.c.provider_name).label("name")
    return all_rows(
        session.execute(
            select(orders.c.bpp_id, orders.c.provider_id, name)
            .where(orders.c.organisation_id == organisation_id)
            .group_by(orders.c.bpp_id, orders.c.provider_id)
            .order_by(name, orders.c.provider_id)
            .limit(limit)
        )
    )


# --- lines -----------------------------------------------------------------------------------


def replace_lines(session: Session, order_id: str, lines: Iterable[Mapping[str, Any]]) -> None:
    """The order's lines, as the latest request or quote says."""
    session.execute(delete(order_lines).where(order_lines.c.order_id == order_id))
    columns = [c.name for c in order_lines.columns if c.name != "id"]
    rows = [{**dict.fromkeys(columns), **line, "order_id": order_id} for line in lines]
    if rows:
        session.execute(insert(order_lines), rows)


def lines_of(session: Session, order_id: str) -> list[Mapping[str, Any]]:
    return all_rows(
        session.execute(
            select(order_lines)
            .where(order_lines.c.order_id == order_id)
            .order_by(order_lines.c.position)
        )
    )


# --- events ----------------------------------------------------------------------------------


def add_event(
    session: Session,
    order_id: str,
    kind: str,
    *,
    action: str | None = None,
    message_id: str | None = None,
    callback_id: int | None = None,
    state_from: str | None = None,
    state_to: str | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    session.execute(
        insert(order_events).values(
            order_id=order_id,
            kind=kind,
            action=action,
            message_id=message_id,
            callback_id=callback_id,
            state_from=state_from,
            state_to=state_to,
            detail=dict(detail) if detail is not None else None,
            occurred_at=at or utcnow(),
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


# --- callbacks -------------------------------------------------------------------------------


def stored_callback(
    session: Session, action: str, bpp_id: str, message_id: str
) -> Mapping[str, Any] | None:
    """The callback already kept under (action, sender, message id), with its body."""
    return first_row(
        session.execute(
            select(callbacks).where(
                callbacks.c.action == action,
                callbacks.c.bpp_id == bpp_id,
                callbacks.c.message_id == message_id,
            )
        )
    )
