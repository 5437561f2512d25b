"""The CSV import's SQL: its staging rows (``seller_import_rows``) and the statements that take
them to the catalogue.

Each function runs in the session it is given; how the import cuts its work into short
transactions, and in which order it calls these, is the service's
(:mod:`reseau_poles.seller.services.csv_import`). An import is known by its id, its pôle and
its start time (:class:`StagedImport`): the new products it adds go in withdrawn (``active``
false), stamped with that time, until :func:`apply` makes them active.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, and_, delete, insert, select, update
from sqlalchemy.orm import Session

from reseau_poles.storage import UTCDateTime

from ..tables import import_rows, items, stock, stock_movements
from . import stock_movements as movements
from .stock_movements import Reason

# Columns copied from a staged row to the item; the full-text ones apart (SQLite: setting them
# re-indexes the row, so only rows whose text changed get them).
_ITEM_COLUMNS = [
    column.name
    for column in import_rows.columns
    if column.name in items.columns and column.name not in {"id", "provider_id", "created_at"}
]
_TEXT_COLUMNS = ["search_text", "name_normalized"]
_PLAIN_COLUMNS = [name for name in _ITEM_COLUMNS if name not in {"sku", *_TEXT_COLUMNS}]
_MOVEMENT_COLUMNS = ["item_id", "reason", "delta", "quantity", "reference", "created_at"]
_REASON = sa.literal(Reason.IMPORT_CSV.value, sa.String(32))


@dataclass(frozen=True, slots=True)
class StagedImport:
    """One import: its staged rows are under ``import_id``, its new products stamped with
    ``started``."""

    import_id: str
    provider_id: str
    started: datetime

    @property
    def reference(self) -> str:
        """The reference of the stock movements it writes."""
        return f"import-{self.started:%Y%m%d-%H%M%S}"

    def rows(self) -> ColumnElement[bool]:
        """Its staged rows."""
        s = import_rows
        return and_(s.c.import_id == self.import_id, s.c.provider_id == self.provider_id)

    def new_rows(self) -> ColumnElement[bool]:
        """Its staged rows of SKUs the pôle does not have yet."""
        return and_(self.rows(), import_rows.c.item_id.is_(None))


# --- staging rows -------------------------------------------------------------------------------


def stage(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Staged rows: the columns each item will have, under its import (``import_id``,
    ``provider_id``, ``created_at``), with ``item_id`` (``None``: a new SKU), ``stock`` and
    ``keep_stock`` (an existing item whose row leaves its stock as it is)."""
    session.execute(insert(import_rows), list(rows))


def unfinished_imports(session: Session, provider_id: str, before: datetime) -> list[datetime]:
    """The start times of the pôle's imports that staged rows before ``before`` and never
    finished (a crash): their rows are still there."""
    stale = _stale(provider_id, before)
    found = session.execute(select(import_rows.c.created_at).where(stale).distinct())
    return list(found.scalars())


def purge_stale(session: Session, provider_id: str, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` of the pôle's rows staged before ``before``; how many were."""
    return _purge(session, _stale(provider_id, before), limit)


def purge_import(session: Session, import_id: str, limit: int) -> int:
    """Delete up to ``limit`` of an import's staged rows; how many were."""
    return _purge(session, import_rows.c.import_id == import_id, limit)


def _stale(provider_id: str, before: datetime) -> ColumnElement[bool]:
    return and_(import_rows.c.provider_id == provider_id, import_rows.c.created_at < before)


def _purge(session: Session, where: ColumnElement[bool], limit: int) -> int:
    ids = select(import_rows.c.id).where(where).limit(limit).scalar_subquery()
    done = session.execute(delete(import_rows).where(import_rows.c.id.in_(ids)))
    return int(done.rowcount)  # type: ignore[attr-defined]  # a DELETE's CursorResult


# --- new products, withdrawn --------------------------------------------------------------------


def new_row_ids(session: Session, staged: StagedImport, after: int, limit: int) -> list[int]:
    """The ids of up to ``limit`` staged rows of new SKUs, beyond ``after``, in order."""
    s = import_rows
    found = session.execute(
        select(s.c.id).where(staged.new_rows(), s.c.id > after).order_by(s.c.id).limit(limit)
    )
    return list(found.scalars())


def add_withdrawn(session: Session, staged: StagedImport, first: int, last: int) -> None:
    """The new products of the staged rows ``first`` to ``last`` (ids), withdrawn and stamped
    with the import's start, with their stock and its movement."""
    s = import_rows
    rows = and_(staged.new_rows(), s.c.id >= first, s.c.id <= last)
    started = sa.literal(staged.started, UTCDateTime())
    added = session.execute(
        insert(items)
        .from_select(
            ["provider_id", *_ITEM_COLUMNS, "active", "created_at", "updated_at"],
            select(
                s.c.provider_id,
                *(s.c[name] for name in _ITEM_COLUMNS),
                sa.false(),
                started,
                started,
            )
            .where(rows)
            .order_by(s.c.id),
        )
        .returning(items.c.id, items.c.sku)
    ).all()
    # By id, not by a join on the SKU: PostgreSQL plans such a join on the staging table (no
    # statistics yet) as a nested loop over every item.
    counts: dict[str, int] = {
        sku: quantity for sku, quantity in session.execute(select(s.c.sku, s.c.stock).where(rows))
    }
    session.execute(
        insert(stock),
        [
            {"item_id": item_id, "quantity": counts[sku], "updated_at": staged.started}
            for item_id, sku in added
        ],
    )
    movements.record_many(
        session,
        [(item_id, counts[sku], counts[sku]) for item_id, sku in added],
        Reason.IMPORT_CSV,
        staged.reference,
    )


def withdrawn_items(session: Session, provider_id: str, started: datetime, limit: int) -> list[int]:
    """Up to ``limit`` ids of the products an import begun at ``started`` added, still
    withdrawn."""
    found = session.execute(select(items.c.id).where(*_added_by(provider_id, started)).limit(limit))
    return list(found.scalars())


def delete_items(session: Session, item_ids: Sequence[int]) -> None:
    """Products, with their stock and its movements."""
    session.execute(delete(stock_movements).where(stock_movements.c.item_id.in_(item_ids)))
    session.execute(delete(stock).where(stock.c.item_id.in_(item_ids)))
    session.execute(delete(items).where(items.c.id.in_(item_ids)))


def _added_by(provider_id: str, started: datetime) -> list[ColumnElement[bool]]:
    """The products an import added, still withdrawn: the pôle's, stamped with its start."""
    return [
        items.c.provider_id == provider_id,
        items.c.created_at == sa.literal(started, UTCDateTime()),
        items.c.active.is_(False),
    ]


# --- the catalogue changes ----------------------------------------------------------------------


def apply(session: Session, staged: StagedImport, now: datetime) -> None:
    """What makes the import the catalogue, in one transaction (the caller's): the stock of
    the existing products it sets (with its movements), their changed columns, and its new
    products made active."""
    s = import_rows
    at = sa.literal(now, UTCDateTime())
    mine = staged.rows()
    counted = and_(mine, s.c.item_id.is_not(None), s.c.keep_stock.is_(False))
    # PostgreSQL: the stock rows this import sets stay locked from their reading (for the
    # movements' deltas) to their writing, so a confirm in between is never undone.
    session.execute(
        select(stock.c.item_id)
        .join(s, s.c.item_id == stock.c.item_id)
        .where(counted)
        .with_for_update(of=stock)
    ).all()
    session.execute(
        insert(stock_movements).from_select(
            _MOVEMENT_COLUMNS,
            select(
                s.c.item_id,
                _REASON,
                s.c.stock - stock.c.quantity,
                s.c.stock,
                sa.literal(staged.reference, sa.String(128)),
                at,
            )
            .join(stock, stock.c.item_id == s.c.item_id)
            .where(counted, s.c.stock != stock.c.quantity),
        )
    )
    session.execute(
        update(stock)
        .where(stock.c.item_id == s.c.item_id, counted, s.c.stock != stock.c.quantity)
        .values(quantity=s.c.stock, updated_at=now)
    )
    # Only the items that change: an export imported again writes nothing.
    session.execute(
        update(items)
        .where(
            items.c.id == s.c.item_id,
            mine,
            sa.or_(_differs(_PLAIN_COLUMNS + _TEXT_COLUMNS), items.c.active.is_(False)),
        )
        .values({name: s.c[name] for name in _PLAIN_COLUMNS} | {"active": True, "updated_at": now})
    )
    session.execute(
        update(items)
        .where(items.c.id == s.c.item_id, mine, _differs(_TEXT_COLUMNS))
        .values({name: s.c[name] for name in _TEXT_COLUMNS})
    )
    session.execute(
        update(items)
        .where(*_added_by(staged.provider_id, staged.started))
        .values(active=True, updated_at=now)
    )


def _differs(names: list[str]) -> ColumnElement[bool]:
    return sa.or_(*(items.c[name].is_distinct_from(import_rows.c[name]) for name in names))
