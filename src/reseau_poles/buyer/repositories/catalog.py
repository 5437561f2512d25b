"""The pôles' catalogues as an organisation last saw them (its searches' results): what a
cart line and an order line are checked against and take their snapshot from.

Functions take a SQLAlchemy session; they never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..tables import search_results, searches


def catalog_items(
    session: Session, organisation_id: str, bpp_id: str, provider_id: str, item_ids: Iterable[str]
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
    session: Session, organisation_id: str, bpp_id: str, provider_id: str
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
    session: Session, organisation_id: str, bpp_id: str, provider_id: str
) -> str | None:
    """The pôle's name as the organisation's newest search showed it."""
    provider = catalog_provider(session, organisation_id, bpp_id, provider_id)
    name = (provider or {}).get("descriptor", {}).get("name") if provider else None
    return str(name)[:255] if isinstance(name, str) and name else None
