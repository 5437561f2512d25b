"""The buyer node's delivery-site queries (a deleted site is kept, marked ``deleted_at``, for
the orders that name it).

Functions take a SQLAlchemy session; they never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reseau_poles.storage import all_rows, first_row

from ..tables import delivery_sites


def get_site(session: Session, organisation_id: str, site_id: str) -> Mapping[str, Any] | None:
    """One of the organisation's sites, unless deleted."""
    return first_row(
        session.execute(
            select(delivery_sites).where(
                delivery_sites.c.id == site_id,
                delivery_sites.c.organisation_id == organisation_id,
                delivery_sites.c.deleted_at.is_(None),
            )
        )
    )


def sites_of(session: Session, organisation_id: str) -> list[Mapping[str, Any]]:
    """The organisation's sites (not deleted), by name."""
    return all_rows(
        session.execute(
            select(delivery_sites)
            .where(
                delivery_sites.c.organisation_id == organisation_id,
                delivery_sites.c.deleted_at.is_(None),
            )
            .order_by(delivery_sites.c.name, delivery_sites.c.id)
        )
    )


def insert_site(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(delivery_sites.insert().values(**values))


def update_site(session: Session, site_id: str, values: Mapping[str, Any]) -> None:
    session.execute(update(delivery_sites).where(delivery_sites.c.id == site_id).values(**values))


def delete_site(session: Session, site_id: str, at: datetime) -> None:
    update_site(session, site_id, {"deleted_at": at})
