"""A CSV import as the pôle's pages run it: a preview first, then the import in the
background with its progress, which the page reads until the report.

1. :meth:`ImportJobs.preview` checks every row of the file (the import's dry run: nothing is
   written to the catalogue) and, when no row is refused, keeps the file under a new id
   (``seller_portal_imports``, state ``apercu``), so that the same bytes are imported once the
   person confirms.
2. :meth:`ImportJobs.start` takes the pôle's import gate (one import per pôle; refused at
   once with :class:`~.csv_import.ImportBusy`), marks the import ``en_cours`` (a second
   confirmation does nothing) and runs :func:`~.csv_import.import_csv` on a thread, which
   writes the progress (``validation`` rows checked, then ``ecriture``) to the import's row.
3. The import ends ``termine`` (its report) or ``echec`` (the rows refused after all, a
   concurrent change, or an error of the node); its file is dropped either way.

The progress lives in the database, not in the process, so any worker of the node answers
the page that polls it. An import still ``en_cours`` but silent for :data:`STALE` was cut
short (the node stopped): :attr:`ImportJob.state` says ``interrompu``.
"""

from __future__ import annotations

import io
import itertools
import logging
import threading
import uuid
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.storage import read_session, utcnow, write_session

from ..repositories import import_jobs as job_repo
from ..repositories import products as product_repo
from .csv_import import STALE, ImportGate, ImportReport, import_csv
from .csv_io import CsvRows

log = logging.getLogger(__name__)

# Kept this long after its preview (an unconfirmed file, a report read later), then purged.
KEEP = timedelta(days=1)
# Errors kept with a finished import's report (the preview shows them all, up to the
# import's own MAX_ERRORS).
KEPT_ERRORS = 100


@dataclass(frozen=True, slots=True)
class ImportJob:
    """An import of the pôle's pages, without its file."""

    id: str
    provider_id: str
    user_id: int | None
    filename: str
    size: int
    state: str  # apercu, en_cours, termine, echec, interrompu
    stage: str | None  # validation, ecriture (while en_cours)
    done: int
    total: int
    report: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Mapping[str, Any], now: datetime | None = None) -> ImportJob:
        state = row["state"]
        if state == "en_cours" and (now or utcnow()) - row["updated_at"] > STALE:
            state = "interrompu"
        return cls(
            id=row["id"],
            provider_id=row["provider_id"],
            user_id=row["user_id"],
            filename=row["filename"],
            size=int(row["size"]),
            state=state,
            stage=row["stage"],
            done=int(row["done"]),
            total=int(row["total"]),
            report=dict(row["report"] or {}),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    @property
    def running(self) -> bool:
        return self.state == "en_cours"

    @property
    def finished(self) -> bool:
        return self.state in ("termine", "echec", "interrompu")

    @property
    def percent(self) -> int:
        """How far along, 0 to 100: checking the rows is the first 80, writing them the
        rest."""
        if self.state == "termine":
            return 100
        if self.state == "apercu" or self.total <= 0:
            return 0
        if self.stage == "ecriture":
            return 90
        return min(80, 80 * self.done // self.total)


@dataclass(frozen=True, slots=True)
class SampleRow:
    """A line of the file as the preview shows it."""

    line: int
    sku: str
    name: str | None
    category: str | None
    price: Any
    stock: Any
    new: bool


def _report(report: ImportReport) -> dict[str, Any]:
    body = report.as_dict()
    body["errors"] = body["errors"][:KEPT_ERRORS]
    return body


class ImportJobs:
    """Previews and background imports of one node; ``gate`` is the node's import gate
    (:data:`.csv_import.GATE`, shared with the management API)."""

    def __init__(self, factory: sessionmaker[Session], gate: ImportGate) -> None:
        self.factory = factory
        self.gate = gate
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def preview(
        self, provider_id: str, user_id: int | None, filename: str, content: bytes
    ) -> tuple[ImportReport, ImportJob | None]:
        """Check every row (nothing written to the catalogue); the report, and the import
        waiting for its confirmation when the file has rows and none is refused.
        :class:`~.csv_import.ImportBusy` while an import of the pôle runs. Blocking."""
        with self.gate.hold(provider_id):
            report = import_csv(self.factory, provider_id, io.BytesIO(content), dry_run=True)
        with write_session(self.factory) as session:
            now = utcnow()
            job_repo.purge(session, provider_id, now - KEEP, now - STALE)
            if report.error_count or not report.rows:
                return report, None
            job_id = uuid.uuid4().hex
            job_repo.add(
                session,
                job_id,
                provider_id,
                user_id,
                filename[:255],
                content,
                report.rows,
                _report(report),
            )
        return report, self.job(provider_id, job_id)

    def recent(self, provider_id: str, limit: int = 5) -> list[ImportJob]:
        """The pôle's newest imports."""
        with read_session(self.factory) as session:
            rows = job_repo.recent(session, provider_id, limit)
        now = utcnow()
        return [ImportJob.of(row, now) for row in rows]

    def sample(self, provider_id: str, content: bytes, limit: int = 10) -> list[SampleRow]:
        """The file's first ``limit`` product lines as read (each cell's value, or ``None``
        where the file does not give it), and whether each SKU is new to the pôle."""
        rows = list(itertools.islice(CsvRows(io.BytesIO(content), lambda _error: None), limit))
        skus = [str(row.values.get("sku") or "") for row in rows]
        with read_session(self.factory) as session:
            known = product_repo.items_by_sku(session, provider_id, [s for s in skus if s])
        return [
            SampleRow(
                line=row.line,
                sku=sku,
                name=row.values.get("name"),
                category=row.values.get("category_name"),
                price=row.values.get("price"),
                stock=row.values.get("stock"),
                new=sku not in known,
            )
            for row, sku in zip(rows, skus, strict=True)
        ]

    def job(self, provider_id: str, job_id: str) -> ImportJob | None:
        """The pôle's import, or ``None`` (unknown, another pôle's, or purged)."""
        if not (len(job_id) == 32 and job_id.isascii() and job_id.isalnum()):
            return None
        with read_session(self.factory) as session:
            row = job_repo.get(session, provider_id, job_id)
        return ImportJob.of(row) if row is not None else None

    def start(self, provider_id: str, job_id: str) -> ImportJob | None:
        """Start a previewed import on a thread; the import as it is then (already started
        or finished: as it is, nothing more done), ``None`` if unknown.
        :class:`~.csv_import.ImportBusy` while another import of the pôle runs (the import
        stays waiting for its confirmation)."""
        found = self.job(provider_id, job_id)
        if found is None or found.state != "apercu":
            return found
        stack = ExitStack()
        stack.enter_context(self.gate.hold(provider_id))  # ImportBusy: nothing changed
        try:
            with write_session(self.factory) as session:
                content = job_repo.claim(session, provider_id, job_id)
            if content is None:  # confirmed twice at once: the other one runs it
                stack.close()
                return self.job(provider_id, job_id)
            thread = threading.Thread(
                target=self._run,
                args=(stack, provider_id, job_id, content),
                name=f"import-{job_id[:8]}",
                daemon=True,
            )
            with self._lock:
                self._threads[job_id] = thread
            thread.start()
        except BaseException:
            stack.close()
            raise
        return self.job(provider_id, job_id)

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        """Until the import's thread (in this process) ends."""
        with self._lock:
            thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)

    def _run(self, stack: ExitStack, provider_id: str, job_id: str, content: bytes) -> None:
        with stack:
            try:
                report = import_csv(
                    self.factory,
                    provider_id,
                    io.BytesIO(content),
                    progress=lambda stage, done, total: self._progress(job_id, stage, done, total),
                )
                state = "termine" if report.written else "echec"
                body = _report(report)
            except Exception:
                log.exception("import CSV %s du pôle %s : échec", job_id, provider_id)
                state, body = "echec", {"failed": True}
            try:
                with write_session(self.factory) as session:
                    job_repo.finish(session, job_id, state, body)
            except Exception:
                log.exception("import CSV %s : rapport non enregistré", job_id)
            finally:
                with self._lock:
                    self._threads.pop(job_id, None)

    def _progress(self, job_id: str, stage: str, done: int, total: int) -> None:
        # Every row checked: the writing begins (the import tells its end only).
        if stage == "validation" and total and done >= total:
            stage = "ecriture"
        with write_session(self.factory) as session:
            job_repo.progress(session, job_id, stage, done)
