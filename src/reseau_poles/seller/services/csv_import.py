"""The CSV import of a pôle's products, without blocking the other pôles of the node.

Format and row rules: :mod:`.csv_io`. How it runs:

1. **Validation, outside any write transaction.** The file is read a line at a time
   (:class:`.csv_io.CsvRows`, a text stream over the upload's spool file); rows are checked in
   batches of :data:`BATCH` against the stored items of their SKUs, each batch read in its own
   short read transaction (on SQLite, WAL readers never block writers). The report keeps the
   first :data:`MAX_ERRORS` errors and counts the rest. A dry run stops here: it never opens a
   write transaction.
2. **Staging, in short batches.** While no error has been found, each valid row is written,
   as the columns it will have, to ``seller_import_rows`` under the import's id, one short
   write transaction per batch; other writers (stock updates, ``confirm``) run in between.
   Nothing but the import reads that table, so the catalogue does not change yet. Memory
   stays bounded: at most one batch of rows is held, plus the SKUs seen (for duplicates).
3. **Apply.** If every row is valid, the new products go in **withdrawn** (``active`` false:
   out of every search, select and confirm, like any withdrawn product), with their stock and
   its movement, a batch per short transaction. Then one short transaction sets the stock of
   the existing products that change (movement ``import_csv``), their changed columns
   (``UPDATE … FROM``; unchanged rows are not written), and makes the new ones active: the
   catalogue changes at that commit, whole. A failure in between deletes the new products
   again; an import cut short (a crash) leaves staged rows and withdrawn new products that
   the next import of the pôle deletes (:data:`STALE`). During the import the pôle's own
   management API may show the new products as withdrawn.

One import (or dry run) per pôle at a time, and at most :data:`MAX_IMPORTS` on the node:
:class:`ImportGate`, held by the HTTP route before the body is read.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.storage import UTCDateTime, read_session, utcnow, write_session

from ..repositories import products as product_repo
from ..repositories import providers as provider_repo
from ..repositories import stock_movements as movements
from ..repositories.stock_movements import Reason
from ..requests import ItemIn
from ..tables import import_rows, items, stock, stock_movements
from .csv_io import CsvRow, CsvRows, RowError, Source, build_item

BATCH = 1000
MAX_ERRORS = 1000
MAX_IMPORTS = 2
RETRY_AFTER_SECONDS = 5
# Staged rows older than this belong to an import that never finished (a crash): purged.
STALE = timedelta(hours=1)
_PURGE_BATCH = 5000
# After each of its batch transactions the import waits as long as the transaction took
# (within these bounds): SQLite's busy handler polls, so back-to-back transactions of one
# thread would starve another writer; this leaves it half of the write lock's time.
PAUSE_MIN, PAUSE_MAX = 0.02, 0.2

Progress = Callable[[str, int, int], None]


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    # Every error found; only the first MAX_ERRORS are in ``errors``.
    error_count: int = 0
    written: bool = False
    dry_run: bool = False

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "written": self.written,
            "dry_run": self.dry_run,
            "error_count": self.error_count,
            "errors": [error.as_dict() for error in self.errors],
        }


# --- one import per pôle ----------------------------------------------------------------------


class ImportBusy(Exception):
    """An import refused at once: this pôle's is running (409), or the node's cap (429)."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


class ImportGate:
    """The imports running in this process: one per pôle, at most ``limit`` in all."""

    def __init__(self, limit: int = MAX_IMPORTS) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._running: set[str] = set()

    @contextmanager
    def hold(self, provider_id: str) -> Iterator[None]:
        with self._lock:
            if provider_id in self._running:
                raise ImportBusy(
                    409,
                    "import_en_cours",
                    "Un import de ce pôle est déjà en cours : attendez son rapport, puis "
                    "réessayez (an import of this pôle is already running).",
                )
            if len(self._running) >= self.limit:
                raise ImportBusy(
                    429,
                    "trop_d_imports",
                    f"Déjà {len(self._running)} imports en cours sur ce nœud : réessayez dans "
                    f"{RETRY_AFTER_SECONDS} s (too many imports at once).",
                    RETRY_AFTER_SECONDS,
                )
            self._running.add(provider_id)
        try:
            yield
        finally:
            with self._lock:
                self._running.discard(provider_id)


GATE = ImportGate()


@contextmanager
def _batch_write(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One of the import's short write transactions, then a pause (:data:`PAUSE_MIN`)."""
    started = time.monotonic()
    with write_session(factory) as session:
        yield session
    time.sleep(min(PAUSE_MAX, max(PAUSE_MIN, time.monotonic() - started)))


# --- staging ----------------------------------------------------------------------------------


class _Staging:
    """Valid rows, written to ``seller_import_rows`` a batch per short write transaction."""

    def __init__(self, factory: sessionmaker[Session], provider_id: str, batch: int) -> None:
        self.factory, self.provider_id, self.batch = factory, provider_id, batch
        self.import_id = uuid.uuid4().hex
        self.pending: list[dict[str, Any]] = []
        self.started = utcnow()
        self.purged = False
        self.staged = 0

    def add(self, item: ItemIn, item_id: int | None, keep_stock: bool) -> None:
        values = product_repo.item_values(item)
        del values["active"]
        self.pending.append(
            {
                "import_id": self.import_id,
                "provider_id": self.provider_id,
                "created_at": self.started,
                "item_id": item_id,
                "keep_stock": keep_stock,
                "stock": item.stock,
                "sku": item.sku,
            }
            | values
        )
        if len(self.pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self.purged:  # an import of this pôle that never finished (a crash)
            stale = and_(
                import_rows.c.provider_id == self.provider_id,
                import_rows.c.created_at < self.started - STALE,
            )
            with read_session(self.factory) as session:
                unfinished = session.execute(
                    select(import_rows.c.import_id, import_rows.c.created_at)
                    .where(stale)
                    .distinct()
                ).all()
            for _import_id, started in unfinished:
                drop_hidden(self.factory, self.provider_id, started)
            self._purge(stale)
            self.purged = True
        if self.pending:
            with _batch_write(self.factory) as session:
                session.execute(insert(import_rows), self.pending)
            self.staged += len(self.pending)
            self.pending = []

    def discard(self) -> None:
        self.pending = []
        if self.staged:
            self._purge(import_rows.c.import_id == self.import_id)

    def _purge(self, where: Any) -> None:
        """Delete in short transactions (a large import's rows are many)."""
        while True:
            ids = select(import_rows.c.id).where(where).limit(_PURGE_BATCH).scalar_subquery()
            with _batch_write(self.factory) as session:
                done = session.execute(delete(import_rows).where(import_rows.c.id.in_(ids)))
            if done.rowcount < _PURGE_BATCH:
                return


# Columns copied from a staged row to the item; the full-text ones apart (SQLite: setting them
# re-indexes the row, so only rows whose text changed get them).
_ITEM_COLUMNS = [
    column.name
    for column in import_rows.columns
    if column.name in items.columns and column.name not in {"id", "provider_id", "created_at"}
]
_TEXT_COLUMNS = ["search_text", "name_normalized"]
_PLAIN_COLUMNS = [name for name in _ITEM_COLUMNS if name not in {"sku", *_TEXT_COLUMNS}]


def _differs(names: list[str]) -> Any:
    return sa.or_(*(items.c[name].is_distinct_from(import_rows.c[name]) for name in names))


class _Apply:
    """From the staged rows to the catalogue, readers seeing all of it or none of it.

    New products go in first, in short transactions of :data:`BATCH` rows, **withdrawn**
    (``active`` false: out of every search, select and confirm, as any withdrawn product),
    with their stock and its movement. Then one short transaction sets the stock of existing
    products, their changed columns, and makes the new ones active: the catalogue changes at
    that commit, whole. If the import fails in between, the new products it added (still
    withdrawn, stamped with the import's start time) are deleted again.
    """

    def __init__(self, factory: sessionmaker[Session], staging: _Staging) -> None:
        self.factory, self.staging = factory, staging
        s = import_rows
        self.mine = and_(s.c.import_id == staging.import_id, s.c.provider_id == staging.provider_id)
        self.new = and_(self.mine, s.c.item_id.is_(None))
        self.started = sa.literal(staging.started, UTCDateTime())
        self.reference_text = f"import-{staging.started:%Y%m%d-%H%M%S}"
        self.reference = sa.literal(self.reference_text, sa.String(128))

    def hidden(self) -> None:
        """The new products, withdrawn, a batch per short transaction."""
        s = import_rows
        last = 0
        while True:
            with _batch_write(self.factory) as session:
                ids = (
                    session.execute(
                        select(s.c.id)
                        .where(self.new, s.c.id > last)
                        .order_by(s.c.id)
                        .limit(self.staging.batch)
                    )
                    .scalars()
                    .all()
                )
                if not ids:
                    return
                rows = and_(self.new, s.c.id >= ids[0], s.c.id <= ids[-1])
                added = session.execute(
                    insert(items)
                    .from_select(
                        ["provider_id", *_ITEM_COLUMNS, "active", "created_at", "updated_at"],
                        select(
                            s.c.provider_id,
                            *(s.c[name] for name in _ITEM_COLUMNS),
                            sa.false(),
                            self.started,
                            self.started,
                        )
                        .where(rows)
                        .order_by(s.c.id),
                    )
                    .returning(items.c.id, items.c.sku)
                ).all()
                # By id, not by a join on the SKU: PostgreSQL plans such a join on the
                # staging table (no statistics yet) as a nested loop over every item.
                counts = dict(session.execute(select(s.c.sku, s.c.stock).where(rows)).all())
                when = self.staging.started
                session.execute(
                    insert(stock),
                    [
                        {"item_id": item_id, "quantity": counts[sku], "updated_at": when}
                        for item_id, sku in added
                    ],
                )
                movements.record_many(
                    session,
                    [(item_id, counts[sku], counts[sku]) for item_id, sku in added],
                    Reason.IMPORT_CSV,
                    self.reference_text,
                )
            last = ids[-1]

    def commit(self) -> None:
        """The one short transaction that changes the catalogue."""
        s = import_rows
        now = utcnow()
        at = sa.literal(now, UTCDateTime())
        counted = and_(self.mine, s.c.item_id.is_not(None), s.c.keep_stock.is_(False))
        with write_session(self.factory) as session:
            # PostgreSQL: the stock rows this import sets stay locked from their reading (for
            # the movements' deltas) to their writing, so a confirm in between is never undone.
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
                        self.reference,
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
                    self.mine,
                    sa.or_(_differs(_PLAIN_COLUMNS + _TEXT_COLUMNS), items.c.active.is_(False)),
                )
                .values(
                    {name: s.c[name] for name in _PLAIN_COLUMNS}
                    | {"active": True, "updated_at": now}
                )
            )
            session.execute(
                update(items)
                .where(items.c.id == s.c.item_id, self.mine, _differs(_TEXT_COLUMNS))
                .values({name: s.c[name] for name in _TEXT_COLUMNS})
            )
            session.execute(
                update(items)
                .where(*_hidden_by(self.staging.provider_id, self.staging.started))
                .values(active=True, updated_at=now)
            )

    def undo(self) -> None:
        """Delete the new products this import added, still withdrawn (short transactions)."""
        drop_hidden(self.factory, self.staging.provider_id, self.staging.started)


_MOVEMENT_COLUMNS = ["item_id", "reason", "delta", "quantity", "reference", "created_at"]
_REASON = sa.literal(Reason.IMPORT_CSV.value, sa.String(32))


def _hidden_by(provider_id: str, started: Any) -> list[Any]:
    """The products an import added, still withdrawn: the pôle's, stamped with its start."""
    return [
        items.c.provider_id == provider_id,
        items.c.created_at == sa.literal(started, UTCDateTime()),
        items.c.active.is_(False),
    ]


def drop_hidden(factory: sessionmaker[Session], provider_id: str, started: Any) -> None:
    """The products an unfinished import added (withdrawn, stamped with its start), their
    stock and movements: deleted, :data:`_PURGE_BATCH` a transaction."""
    ids = select(items.c.id).where(*_hidden_by(provider_id, started)).limit(_PURGE_BATCH)
    while True:
        with _batch_write(factory) as session:
            found = session.execute(ids).scalars().all()
            if not found:
                return
            session.execute(delete(stock_movements).where(stock_movements.c.item_id.in_(found)))
            session.execute(delete(stock).where(stock.c.item_id.in_(found)))
            session.execute(delete(items).where(items.c.id.in_(found)))


# --- the import -------------------------------------------------------------------------------


def _check(
    factory: sessionmaker[Session],
    provider_id: str,
    rows: list[CsvRow],
    report: ImportReport,
    categories: dict[str, str],
    staging: _Staging | None,
) -> None:
    """Validate a batch against the stored items of its SKUs (one short read)."""
    with read_session(factory) as session:
        stored = product_repo.items_by_sku(
            session, provider_id, (row.values["sku"] for row in rows)
        )
    for row in rows:
        report.rows += 1
        found = stored.get(row.values["sku"])
        item, errors = build_item(
            row, product_repo.item_in_from_row(found) if found else None, categories
        )
        for error in errors:
            report.add_error(error)
        if item is None:
            continue
        categories.setdefault(item.category_name, item.category_id)
        if found is None:
            report.created += 1
        else:
            report.updated += 1
        if staging is not None and not report.error_count:
            keep_stock = found is not None and row.values.get("stock") is None
            staging.add(item, found["id"] if found else None, keep_stock)


def run_import(
    factory: sessionmaker[Session],
    provider_id: str,
    data: Source,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    batch: int = BATCH,
) -> ImportReport:
    """Validate every row, then write them all, or none (module docstring).

    ``progress(stage, done, total)`` is called as rows are checked (``"validation"``, total
    0: unknown while the file streams) and once written (``"ecriture"``).
    """
    report = ImportReport(dry_run=dry_run)
    with read_session(factory) as session:
        if not provider_repo.provider_exists(session, provider_id):
            report.add_error(RowError(1, None, f"pôle « {provider_id} » inconnu"))
            return report
        categories = product_repo.category_codes(session, provider_id)
    staging = None if dry_run else _Staging(factory, provider_id, batch)
    try:
        pending: list[CsvRow] = []
        for row in CsvRows(data, report.add_error):
            pending.append(row)
            if len(pending) >= batch:
                _check(factory, provider_id, pending, report, categories, staging)
                pending = []
                if progress is not None:
                    progress("validation", report.rows, 0)
        _check(factory, provider_id, pending, report, categories, staging)
        if progress is not None:
            progress("validation", report.rows, report.rows)
        report.errors.sort(key=lambda error: error.row)
        if report.error_count or staging is None:
            return report
        staging.flush()
        applying = _Apply(factory, staging)
        try:
            applying.hidden()
            applying.commit()
        except (IntegrityError, DataError):
            applying.undo()
            # A concurrent change of the same SKUs (or a value the database refuses): rolled back.
            report.created = report.updated = 0
            report.add_error(
                RowError(
                    1, None, "import refusé par la base (modification simultanée ?) ; réessayez"
                )
            )
            return report
        except BaseException:
            applying.undo()
            raise
        report.written = True
        if progress is not None:
            progress("ecriture", report.rows, report.rows)
        return report
    finally:
        if staging is not None:
            staging.discard()


def import_csv(
    factory: sessionmaker[Session],
    provider_id: str,
    data: Source,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate every row, then write them all, or none (see the module's docstring)."""
    return run_import(factory, provider_id, data, dry_run=dry_run, progress=progress)
