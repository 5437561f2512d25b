"""Retention of the buyer's searches: a search older than ``search_retention_days`` goes with
its ``on_search`` callbacks and its merged results, purged by the network layer's loop
(:class:`~reseau_poles.network.retention.PurgeTarget`) in the background and by
``reseau-poles buyer purge``.

Carts and orders keep their own lines, but two things still read the organisation's searches:
a line added to a cart is checked against the catalog as the organisation's searches showed it,
and a quote's lines take their snapshot (name, unit, certifications) from there. A search whose
results name a pôle of one of the organisation's open carts, or of one of its orders not yet
confirmed (``new``, ``selected``, ``initialized``), is therefore kept until the cart is checked
out or the order confirmed; the next purge takes it then.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.sql.elements import ColumnElement

from reseau_poles.network.retention import PurgeTarget

from ..settings import BuyerSettings
from ..tables import callbacks, cart_lines, carts, orders, search_results, searches

# Searches per transaction: each holds its callbacks' bodies and results (~0.8 MB with two
# sellers), so far fewer than the outbox's rows per batch.
SEARCHES_PER_BATCH = 20
OPEN_ORDER_STATES = ("new", "selected", "initialized")


def _still_needed() -> ColumnElement[bool]:
    """The search has a result from a pôle of an open cart or unconfirmed order of its
    organisation."""
    in_open_cart = exists(
        select(1)
        .select_from(search_results)
        .join(
            cart_lines,
            and_(
                cart_lines.c.bpp_id == search_results.c.bpp_id,
                cart_lines.c.provider_id == search_results.c.provider_id,
            ),
        )
        .join(carts, carts.c.id == cart_lines.c.cart_id)
        .where(
            search_results.c.transaction_id == searches.c.transaction_id,
            carts.c.organisation_id == searches.c.organisation_id,
            carts.c.state == "ouvert",
        )
    )
    in_open_order = exists(
        select(1)
        .select_from(search_results)
        .join(
            orders,
            and_(
                orders.c.bpp_id == search_results.c.bpp_id,
                orders.c.provider_id == search_results.c.provider_id,
            ),
        )
        .where(
            search_results.c.transaction_id == searches.c.transaction_id,
            orders.c.organisation_id == searches.c.organisation_id,
            orders.c.state.in_(OPEN_ORDER_STATES),
        )
    )
    return in_open_cart | in_open_order


def search_target(days: int) -> PurgeTarget:
    """Searches created more than ``days`` days ago, with their callbacks and results."""

    def old(now: datetime) -> ColumnElement[bool]:
        return and_(searches.c.created_at < now - timedelta(days=days), ~_still_needed())

    return PurgeTarget(
        kind="searches",
        label="Recherches (avec leurs rappels on_search et résultats)",
        days=days,
        table=searches,
        key=searches.c.transaction_id,
        condition=old,
        # Results first: they refer to both the search and the callback.
        dependents=(
            (search_results, search_results.c.transaction_id),
            (callbacks, callbacks.c.transaction_id),
        ),
        batch_size=SEARCHES_PER_BATCH,
    )


def retention_targets(settings: BuyerSettings) -> tuple[PurgeTarget, ...]:
    """The buyer's own purge targets (none when ``search_retention_days`` is 0)."""
    days = settings.search_retention_days
    return (search_target(days),) if days else ()
