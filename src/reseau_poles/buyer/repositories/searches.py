"""The buyer node's queries of searches: the searches, their callbacks and results.

Functions take a SQLAlchemy session (from :func:`reseau_poles.storage.write_session` or
``read_session``); they never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from reseau_poles.storage import all_rows, first_row, insert_for, utcnow

from ..tables import callbacks, search_results, searches

# --- searches --------------------------------------------------------------------------------


def insert_search(
    session: Session,
    *,
    transaction_id: str,
    message_id: str,
    organisation_id: str,
    params: Mapping[str, Any],
) -> None:
    session.execute(
        insert(searches).values(
            transaction_id=transaction_id,
            message_id=message_id,
            organisation_id=organisation_id,
            params=dict(params),
            dispatch="envoi",
            targets={},
            created_at=utcnow(),
        )
    )


def mark_dispatched(
    session: Session,
    transaction_id: str,
    targets: Mapping[str, Any],
    *,
    via_gateway: str | None,
    failed: bool,
) -> None:
    session.execute(
        update(searches)
        .where(searches.c.transaction_id == transaction_id)
        .values(
            targets=dict(targets),
            via_gateway=via_gateway,
            dispatch="echec" if failed else "envoyee",
            dispatched_at=utcnow(),
        )
    )


def add_pages(session: Session, transaction_id: str, pages: Iterable[Mapping[str, Any]]) -> None:
    """Record follow-up pages asked for (``buyer_searches.pages``, a JSON list)."""
    current = session.execute(
        select(searches.c.pages).where(searches.c.transaction_id == transaction_id)
    ).scalar_one()
    session.execute(
        update(searches)
        .where(searches.c.transaction_id == transaction_id)
        .values(pages=[*(current or []), *(dict(page) for page in pages)])
    )


def get_search(session: Session, transaction_id: str) -> Mapping[str, Any] | None:
    return first_row(
        session.execute(select(searches).where(searches.c.transaction_id == transaction_id))
    )


# --- callbacks and results -------------------------------------------------------------------


def insert_callback(
    session: Session,
    *,
    action: str,
    transaction_id: str,
    message_id: str,
    bpp_id: str,
    bpp_uri: str | None,
    body: bytes,
    received_at: datetime,
) -> int | None:
    """Keep a verified callback; ``None`` when the same one (action, sender, message id) is
    already kept. One ``INSERT … ON CONFLICT DO NOTHING``: the caller's transaction goes on
    either way (no savepoint, no error to catch)."""
    statement = (
        insert_for(session, callbacks)
        .values(
            action=action,
            transaction_id=transaction_id,
            message_id=message_id,
            bpp_id=bpp_id,
            bpp_uri=bpp_uri,
            body=body.decode("utf-8"),
            received_at=received_at,
        )
        .on_conflict_do_nothing(index_elements=["action", "bpp_id", "message_id"])
        .returning(callbacks.c.id)
    )
    found = session.execute(statement).scalar()
    return None if found is None else int(found)


def search_exists(session: Session, transaction_id: str) -> bool:
    """Whether this node started the search (one indexed read, no JSON decoded)."""
    return (
        session.execute(
            select(searches.c.transaction_id).where(searches.c.transaction_id == transaction_id)
        ).first()
        is not None
    )


def insert_results(
    session: Session,
    *,
    transaction_id: str,
    callback_id: int,
    bpp_id: str,
    bpp_uri: str | None,
    providers: Iterable[tuple[str, dict[str, Any], list[Any]]],
    received_at: datetime,
) -> list[dict[str, Any]]:
    """Store one callback's catalogue, one row per provider; returns the rows written."""
    rows = [
        {
            "transaction_id": transaction_id,
            "callback_id": callback_id,
            "bpp_id": bpp_id,
            "bpp_uri": bpp_uri,
            "provider_id": provider_id,
            "provider": provider,
            "items": items,
            "received_at": received_at,
        }
        for provider_id, provider, items in providers
    ]
    if rows:
        session.execute(insert(search_results), rows)
    return rows


def results_of(
    session: Session, transaction_id: str, *, callback_ids: Iterable[int] | None = None
) -> list[Mapping[str, Any]]:
    """The search's stored results, in the order of their answers (the callbacks' numbers,
    the order a stream sends them in), then as stored (those of ``callback_ids`` only, when
    given). By answer and not by row: on PostgreSQL two answers stored at once may
    interleave their rows' numbers, and a page drawn whole would then order equal offers
    otherwise than the stream that brought them."""
    query = select(search_results).where(search_results.c.transaction_id == transaction_id)
    if callback_ids is not None:
        query = query.where(search_results.c.callback_id.in_(list(callback_ids)))
    return all_rows(
        session.execute(query.order_by(search_results.c.callback_id, search_results.c.id))
    )


def callbacks_of(
    session: Session, transaction_id: str, action: str, *, with_ids: bool = False
) -> list[Mapping[str, Any]]:
    """Who answered and when (without the bodies); ``with_ids``: each callback's number on
    this node too (``id``, increasing)."""
    columns = [callbacks.c.bpp_id, callbacks.c.bpp_uri, callbacks.c.message_id]
    if with_ids:
        columns.insert(0, callbacks.c.id)
    return all_rows(
        session.execute(
            select(*columns, callbacks.c.received_at)
            .where(callbacks.c.transaction_id == transaction_id, callbacks.c.action == action)
            .order_by(callbacks.c.id)
        )
    )


def count_callbacks(session: Session, transaction_id: str | None = None) -> int:
    query = select(func.count()).select_from(callbacks)
    if transaction_id is not None:
        query = query.where(callbacks.c.transaction_id == transaction_id)
    return int(session.execute(query).scalar_one())
