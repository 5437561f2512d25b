"""The queries of the buyer's reports: the orders a period counts and their lines.

Functions take a SQLAlchemy session; they never commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Text, and_, cast, func, select
from sqlalchemy.orm import Session

from reseau_poles.storage import all_rows

from ..tables import order_lines, orders


def counted_orders(
    session: Session, organisation_id: str, states: Sequence[str], low: datetime, high: datetime
) -> tuple[dict[str, Decimal | None], list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The organisation's orders in ``states`` confirmed in [``low``, ``high``): their totals
    by id; their lines summed by region of origin and certifications (``certifications``:
    the JSON text; ``lines``, ``amount``, ``tps``, ``tvq``; ``amount`` is ``None`` for the
    lines without a price); and, one by one, the lines priced by unit only (their amount
    is rounded line by line, as the seller's quote would).

    A year is thousands of lines: summed by the database, the report reads a few dozen rows
    instead of every line."""
    counted = (
        select(orders.c.id, orders.c.total)
        .where(
            orders.c.organisation_id == organisation_id,
            orders.c.state.in_(states),
            orders.c.confirmed_at >= low,
            orders.c.confirmed_at < high,
        )
        .order_by(orders.c.confirmed_at, orders.c.id)
    )
    totals = {row.id: row.total for row in session.execute(counted)}
    lines = order_lines.c
    mine = lines.order_id.in_(counted.with_only_columns(orders.c.id))
    by_unit = and_(lines.amount.is_(None), lines.unit_price.is_not(None))
    certifications = cast(lines.certifications, Text).label("certifications")
    unpriced = lines.amount.is_(None)
    grouped = all_rows(
        session.execute(
            select(
                lines.origin_region,
                certifications,
                unpriced.label("unpriced"),
                func.count().label("lines"),
                func.sum(lines.amount).label("amount"),
                func.sum(func.coalesce(lines.tps, 0)).label("tps"),
                func.sum(func.coalesce(lines.tvq, 0)).label("tvq"),
            )
            .where(mine, ~by_unit)
            .group_by(lines.origin_region, certifications, unpriced)
        )
    )
    per_unit = all_rows(
        session.execute(
            select(
                lines.origin_region,
                certifications,
                lines.quantity,
                lines.unit_price,
                lines.tps,
                lines.tvq,
            ).where(mine, by_unit)
        )
    )
    return totals, grouped, per_unit
