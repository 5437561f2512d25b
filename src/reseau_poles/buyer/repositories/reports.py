"""The queries of the buyer's reports: the orders a period counts and their lines.

Functions take a SQLAlchemy session; they never commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reseau_poles.storage import all_rows

from ..tables import order_lines, orders

# What the report reads of each line (``reseau_poles.buyer.services.reports``).
LINE_COLUMNS = (
    "order_id",
    "quantity",
    "unit_price",
    "amount",
    "tps",
    "tvq",
    "certifications",
    "origin_region",
)


def counted_orders(
    session: Session, organisation_id: str, states: Sequence[str], low: datetime, high: datetime
) -> tuple[dict[str, Decimal | None], list[Mapping[str, Any]]]:
    """The organisation's orders in ``states`` confirmed in [``low``, ``high``): their totals
    by id, and their lines (only the columns the report counts: a year of lines is thousands
    of rows, and reading every column doubled the query's time)."""
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
    lines = all_rows(
        session.execute(
            select(*(order_lines.c[name] for name in LINE_COLUMNS)).where(
                order_lines.c.order_id.in_(counted.with_only_columns(orders.c.id))
            )
        )
    )
    return totals, lines
