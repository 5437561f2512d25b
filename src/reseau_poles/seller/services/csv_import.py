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

This module decides the steps, the batches and the transactions; the statements are in
:mod:`reseau_poles.seller.repositories.import_staging`.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.storage import read_session, utcnow, write_session

from ..repositories import import_staging as staging_repo
from ..repositories import products as product_repo
from ..repositories import providers as provider_repo
from ..requests import ItemIn
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
        self.factory, self.batch = factory, batch
        self.staged_import = staging_repo.StagedImport(uuid.uuid4().hex, provider_id, utcnow())
        self.pending: list[dict[str, Any]] = []
        self.purged = False
        self.staged = 0

    @property
    def provider_id(self) -> str:
        return self.staged_import.provider_id

    @property
    def started(self) -> datetime:
        return self.staged_import.started

    def add(self, item: ItemIn, item_id: int | None, keep_stock: bool) -> None:
        values = product_repo.item_values(item)
        del values["active"]
        self.pending.append(
            {
                "import_id": self.staged_import.import_id,
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
            before = self.started - STALE
            with read_session(self.factory) as session:
                unfinished = staging_repo.unfinished_imports(session, self.provider_id, before)
            for started in unfinished:
                drop_hidden(self.factory, self.provider_id, started)
            _purge(
                self.factory,
                lambda session: staging_repo.purge_stale(
                    session, self.provider_id, before, _PURGE_BATCH
                ),
            )
            self.purged = True
        if self.pending:
            with _batch_write(self.factory) as session:
                staging_repo.stage(session, self.pending)
            self.staged += len(self.pending)
            self.pending = []

    def discard(self) -> None:
        self.pending = []
        if self.staged:
            import_id = self.staged_import.import_id
            _purge(
                self.factory,
                lambda session: staging_repo.purge_import(session, import_id, _PURGE_BATCH),
            )


def _purge(factory: sessionmaker[Session], purge: Callable[[Session], int]) -> None:
    """Delete in short transactions (a large import's rows are many): ``purge`` deletes up to
    :data:`_PURGE_BATCH` rows and says how many."""
    while True:
        with _batch_write(factory) as session:
            done = purge(session)
        if done < _PURGE_BATCH:
            return


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
        self.staged_import = staging.staged_import

    def hidden(self) -> None:
        """The new products, withdrawn, a batch per short transaction."""
        last = 0
        while True:
            with _batch_write(self.factory) as session:
                ids = staging_repo.new_row_ids(
                    session, self.staged_import, after=last, limit=self.staging.batch
                )
                if not ids:
                    return
                staging_repo.add_withdrawn(session, self.staged_import, ids[0], ids[-1])
            last = ids[-1]

    def commit(self) -> None:
        """The one short transaction that changes the catalogue."""
        with write_session(self.factory) as session:
            staging_repo.apply(session, self.staged_import, utcnow())

    def undo(self) -> None:
        """Delete the new products this import added, still withdrawn (short transactions)."""
        drop_hidden(self.factory, self.staging.provider_id, self.staging.started)


def drop_hidden(factory: sessionmaker[Session], provider_id: str, started: datetime) -> None:
    """The products an unfinished import added (withdrawn, stamped with its start), their
    stock and movements: deleted, :data:`_PURGE_BATCH` a transaction."""
    while True:
        with _batch_write(factory) as session:
            found = staging_repo.withdrawn_items(session, provider_id, started, _PURGE_BATCH)
            if not found:
                return
            staging_repo.delete_items(session, found)


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
