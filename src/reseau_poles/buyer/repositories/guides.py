"""The buyer node's order-guide queries: guides, their lines, and the products an organisation
already ordered (what a guide made from scratch picks from).

Functions take a SQLAlchemy session; they never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from reseau_poles.storage import all_rows, first_row, row_count

from ..tables import order_guide_lines, order_guides, order_lines, orders

# --- guides ------------------------------------------------------------------------------------


def insert_guide(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(insert(order_guides).values(**values))


def get_guide(
    session: Session, organisation_id: str, guide_id: str, *, lock: bool = False
) -> Mapping[str, Any] | None:
    query = select(order_guides).where(
        order_guides.c.id == guide_id, order_guides.c.organisation_id == organisation_id
    )
    if lock:
        query = query.with_for_update()
    return first_row(session.execute(query))


def update_guide(session: Session, guide_id: str, values: Mapping[str, Any]) -> None:
    session.execute(update(order_guides).where(order_guides.c.id == guide_id).values(**values))


def delete_guide(session: Session, guide_id: str) -> None:
    session.execute(delete(order_guide_lines).where(order_guide_lines.c.guide_id == guide_id))
    session.execute(delete(order_guides).where(order_guides.c.id == guide_id))


def guides_of(session: Session, organisation_id: str, limit: int = 200) -> list[Mapping[str, Any]]:
    """The organisation's guides by name, each with its number of lines and of pôles."""
    counts = (
        select(
            order_guide_lines.c.guide_id,
            func.count().label("lines"),
            func.count(
                func.distinct(order_guide_lines.c.bpp_id + "|" + order_guide_lines.c.provider_id)
            ).label("poles"),
        )
        .group_by(order_guide_lines.c.guide_id)
        .subquery()
    )
    return all_rows(
        session.execute(
            select(
                order_guides,
                func.coalesce(counts.c.lines, 0).label("lines"),
                func.coalesce(counts.c.poles, 0).label("poles"),
            )
            .outerjoin(counts, counts.c.guide_id == order_guides.c.id)
            .where(order_guides.c.organisation_id == organisation_id)
            .order_by(func.lower(order_guides.c.name), order_guides.c.id)
            .limit(limit)
        )
    )


# --- lines -------------------------------------------------------------------------------------


def lines_of(session: Session, guide_id: str) -> list[Mapping[str, Any]]:
    return all_rows(
        session.execute(
            select(order_guide_lines)
            .where(order_guide_lines.c.guide_id == guide_id)
            .order_by(order_guide_lines.c.position, order_guide_lines.c.id)
        )
    )


def insert_lines(session: Session, guide_id: str, lines: Iterable[Mapping[str, Any]]) -> None:
    rows = [{**line, "guide_id": guide_id} for line in lines]
    if rows:
        session.execute(insert(order_guide_lines), rows)


def find_line(
    session: Session, guide_id: str, bpp_id: str, provider_id: str, item_id: str
) -> Mapping[str, Any] | None:
    return first_row(
        session.execute(
            select(order_guide_lines).where(
                order_guide_lines.c.guide_id == guide_id,
                order_guide_lines.c.bpp_id == bpp_id,
                order_guide_lines.c.provider_id == provider_id,
                order_guide_lines.c.item_id == item_id,
            )
        )
    )


def next_position(session: Session, guide_id: str) -> int:
    found = session.execute(
        select(func.max(order_guide_lines.c.position)).where(
            order_guide_lines.c.guide_id == guide_id
        )
    ).scalar_one_or_none()
    return 0 if found is None else int(found) + 1


def set_quantity(session: Session, guide_id: str, line_id: int, quantity: int) -> bool:
    return (
        row_count(
            session.execute(
                update(order_guide_lines)
                .where(order_guide_lines.c.guide_id == guide_id, order_guide_lines.c.id == line_id)
                .values(quantity=quantity)
            )
        )
        == 1
    )


def delete_line(session: Session, guide_id: str, line_id: int) -> bool:
    return (
        row_count(
            session.execute(
                delete(order_guide_lines).where(
                    order_guide_lines.c.guide_id == guide_id, order_guide_lines.c.id == line_id
                )
            )
        )
        == 1
    )


# --- what the organisation already ordered -----------------------------------------------------


def ordered_products(
    session: Session, organisation_id: str, limit: int = 300
) -> list[Mapping[str, Any]]:
    """The items of the organisation's orders, one row per (seller node, pôle, item), the most
    recently ordered first: ``bpp_id``, ``provider_id``, ``provider_name``, ``item_id``,
    ``name``, ``unit``, ``last_ordered``."""
    last = func.max(orders.c.created_at).label("last_ordered")
    return all_rows(
        session.execute(
            select(
                orders.c.bpp_id,
                orders.c.provider_id,
                func.max(orders.c.provider_name).label("provider_name"),
                order_lines.c.item_id,
                func.max(order_lines.c.name).label("name"),
                func.max(order_lines.c.unit).label("unit"),
                last,
            )
            .join(orders, orders.c.id == order_lines.c.order_id)
            .where(orders.c.organisation_id == organisation_id)
            .group_by(orders.c.bpp_id, orders.c.provider_id, order_lines.c.item_id)
            .order_by(last.desc(), order_lines.c.item_id)
            .limit(limit)
        )
    )
