"""The buyer node's order queries: orders, their lines and events, the callbacks behind them.

Functions take a SQLAlchemy session (``write_session`` / ``read_session``); they never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, select, update

from reseau_poles.storage import utcnow

from .tables import callbacks, order_events, order_lines, orders, search_results, searches

# --- orders ----------------------------------------------------------------------------------


def insert_order(session: Any, values: Mapping[str, Any]) -> None:
    session.execute(insert(orders).values(**values))


def get_order(session: Any, order_id: str, *, for_update: bool = False) -> RowMapping | None:
    """One order; ``for_update`` locks its row on PostgreSQL (callbacks of one transaction are
    applied one after the other; SQLite's ``BEGIN IMMEDIATE`` already serialises writers)."""
    query = select(orders).where(orders.c.id == order_id)
    if for_update:
        query = query.with_for_update()
    return session.execute(query).mappings().first()


def update_order(session: Any, order_id: str, values: Mapping[str, Any]) -> None:
    session.execute(
        update(orders).where(orders.c.id == order_id).values(**{"updated_at": utcnow(), **values})
    )


def list_orders(
    session: Any,
    organisation_id: str,
    *,
    state: str | None = None,
    provider: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    purchase_order_number: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[RowMapping], int]:
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
    rows = session.execute(
        select(orders)
        .where(*conditions)
        .order_by(orders.c.created_at.desc(), orders.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).mappings()
    return list(rows), int(total.scalar_one())


# --- lines -----------------------------------------------------------------------------------


def replace_lines(session: Any, order_id: str, lines: Iterable[Mapping[str, Any]]) -> None:
    """The order's lines, as the latest request or quote says."""
    session.execute(delete(order_lines).where(order_lines.c.order_id == order_id))
    columns = [c.name for c in order_lines.columns if c.name != "id"]
    rows = [{**dict.fromkeys(columns), **line, "order_id": order_id} for line in lines]
    if rows:
        session.execute(insert(order_lines), rows)


def lines_of(session: Any, order_id: str) -> list[RowMapping]:
    return list(
        session.execute(
            select(order_lines)
            .where(order_lines.c.order_id == order_id)
            .order_by(order_lines.c.position)
        ).mappings()
    )


# --- events ----------------------------------------------------------------------------------


def add_event(
    session: Any,
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


def events_of(session: Any, order_id: str) -> list[RowMapping]:
    return list(
        session.execute(
            select(order_events)
            .where(order_events.c.order_id == order_id)
            .order_by(order_events.c.id)
        ).mappings()
    )


# --- callbacks -------------------------------------------------------------------------------


def stored_callback(session: Any, action: str, bpp_id: str, message_id: str) -> RowMapping | None:
    """The callback already kept under (action, sender, message id), with its body."""
    return (
        session.execute(
            select(callbacks).where(
                callbacks.c.action == action,
                callbacks.c.bpp_id == bpp_id,
                callbacks.c.message_id == message_id,
            )
        )
        .mappings()
        .first()
    )


# --- the catalog as the organisation last saw it -------------------------------------------------


def catalog_items(
    session: Any, organisation_id: str, bpp_id: str, provider_id: str, item_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The newest catalog entry of each item (from this organisation's searches), for the
    lines' snapshot: name, unit, tags (certifications, origin, conservation)."""
    wanted = set(item_ids)
    found: dict[str, dict[str, Any]] = {}
    rows = session.execute(
        select(search_results.c["items"])
        .join(searches, searches.c.transaction_id == search_results.c.transaction_id)
        .where(
            searches.c.organisation_id == organisation_id,
            search_results.c.bpp_id == bpp_id,
            search_results.c.provider_id == provider_id,
        )
        .order_by(search_results.c.id.desc())
        .limit(50)
    ).scalars()
    for items in rows:
        for item in items or []:
            if isinstance(item, dict) and item.get("id") in wanted and item["id"] not in found:
                found[item["id"]] = item
        if len(found) == len(wanted):
            break
    return found


def catalog_provider(
    session: Any, organisation_id: str, bpp_id: str, provider_id: str
) -> dict[str, Any] | None:
    """The pôle (without its items: descriptor, fulfilments and their terms, payments) as the
    organisation's newest search showed it; ``None`` when it never saw it."""
    provider = session.execute(
        select(search_results.c.provider)
        .join(searches, searches.c.transaction_id == search_results.c.transaction_id)
        .where(
            searches.c.organisation_id == organisation_id,
            search_results.c.bpp_id == bpp_id,
            search_results.c.provider_id == provider_id,
        )
        .order_by(search_results.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return provider if isinstance(provider, dict) else None


def catalog_provider_name(
    session: Any, organisation_id: str, bpp_id: str, provider_id: str
) -> str | None:
    """The pôle's name as the organisation's newest search showed it."""
    provider = catalog_provider(session, organisation_id, bpp_id, provider_id)
    name = (provider or {}).get("descriptor", {}).get("name") if provider else None
    return str(name)[:255] if isinstance(name, str) and name else None
