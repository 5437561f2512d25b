"""Retention: the network layer's finished rows are deleted once they are old enough.

The outbox keeps every call it delivered (callbacks, webhook deliveries) and every call it gave
up on; the transcript table keeps every message. They are plumbing, not business records, and
without a purge a node fills its disk within a year. :func:`purge` deletes

* delivered outbox rows delivered more than ``delivered_days`` ago;
* transcript rows recorded more than ``delivered_days`` ago;
* dead outbox rows (``failed``: NACKed, ``expired``: deadline passed) whose deadline is more
  than ``dead_days`` ago — kept longer, so an operator can still look into a failure.

``0`` days keeps that kind forever. Pending and in-flight (``delivering``) rows are never
touched, nor any table of the role (orders, their history, the registry's audit) unless the
role registers a :class:`PurgeTarget` of its own in ``Retention.targets`` (the buyer's old
searches with their callbacks and results): the same loop then deletes those too, a batch of
parent rows and their dependents per transaction. Deletion goes by batches of ``batch_size`` rows, one short transaction each, so the
purge never holds a long lock on SQLite or PostgreSQL; index ``ix_network_outbox_retention``
(status, created_at) and ``ix_network_transcript_recorded_at`` (migration 0002) keep each batch
a range read. The JSONL transcript file (``transcript_path``) is the operator's to rotate.

:class:`RetentionTask` runs the purge in a running node (hourly by default, jittered); the
``reseau-poles seller purge`` / ``buyer purge`` commands run it on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Engine, Table, and_, delete, func, select
from sqlalchemy.sql.elements import ColumnElement

from ..storage import is_sqlite, utcnow
from ..storage.engine import SQLITE_IMMEDIATE
from .outbox import DELIVERED, EXPIRED, FAILED
from .settings import NetworkSettings
from .tables import outbox_table, transcript_table

log = logging.getLogger(__name__)

DEAD = (FAILED, EXPIRED)


@dataclass(frozen=True)
class PurgeTarget:
    """A role's own old rows: ``table``'s rows matching ``condition(now)`` go, with, first and
    in the same transaction, the rows of each ``dependents`` table whose column refers to
    their ``key``; ``batch_size`` parent rows per transaction (``None``: the retention's).
    ``label`` names them in French for the ``… purge`` command, ``days`` is what it keeps."""

    kind: str
    label: str
    days: int
    table: Table
    key: Column[Any]
    condition: Callable[[datetime], ColumnElement[bool]]
    dependents: tuple[tuple[Table, Column[Any]], ...] = ()
    batch_size: int | None = None

    def tables(self) -> list[str]:
        """The tables it deletes from, dependents first."""
        return [table.name for table, _ in self.dependents] + [self.table.name]


@dataclass(frozen=True)
class Retention:
    """How long finished rows are kept, in days (``0``: forever), and the batch size; the
    role's own ``targets`` beside the outbox and transcript."""

    delivered_days: int = 30
    dead_days: int = 90
    batch_size: int = 1000
    targets: tuple[PurgeTarget, ...] = ()

    def __post_init__(self) -> None:
        if self.delivered_days < 0 or self.dead_days < 0:
            raise ValueError("une durée de rétention ne peut pas être négative")
        if self.batch_size < 1:
            raise ValueError("retention_batch_size doit être au moins 1")

    @classmethod
    def from_settings(cls, settings: NetworkSettings, **overrides: Any) -> Retention:
        values: dict[str, Any] = {
            "delivered_days": settings.retention_delivered_days,
            "dead_days": settings.retention_dead_days,
            "batch_size": settings.retention_batch_size,
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)

    @property
    def active(self) -> bool:
        return bool(self.delivered_days or self.dead_days or self.targets)


@dataclass(frozen=True)
class PurgeCounts:
    """Rows deleted (or, in a dry run, that would be); ``tables``: the role's targets' rows by
    table name (in a dry run, only their parent rows are counted)."""

    outbox_delivered: int = 0
    outbox_dead: int = 0
    transcript: int = 0
    tables: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return (
            self.outbox_delivered + self.outbox_dead + self.transcript + sum(self.tables.values())
        )

    def per_table(self) -> dict[str, int]:
        return {
            outbox_table.name: self.outbox_delivered + self.outbox_dead,
            transcript_table.name: self.transcript,
            **self.tables,
        }


def _targets(retention: Retention, now: datetime) -> list[tuple[str, Table, ColumnElement[bool]]]:
    """(kind, table, condition) for each kind of row old enough to go."""
    outbox = outbox_table.c
    targets: list[tuple[str, Table, ColumnElement[bool]]] = []
    if retention.delivered_days:
        cutoff = now - timedelta(days=retention.delivered_days)
        # created_at <= delivered_at: the first bound narrows the index range, the second is
        # the rule.
        targets.append(
            (
                "outbox_delivered",
                outbox_table,
                and_(
                    outbox.status == DELIVERED,
                    outbox.created_at < cutoff,
                    outbox.delivered_at < cutoff,
                ),
            )
        )
    if retention.dead_days:
        cutoff = now - timedelta(days=retention.dead_days)
        # A row is given up at the latest at its deadline (created_at <= deadline).
        targets.append(
            (
                "outbox_dead",
                outbox_table,
                and_(
                    outbox.status.in_(DEAD),
                    outbox.created_at < cutoff,
                    outbox.deadline < cutoff,
                ),
            )
        )
    if retention.delivered_days:
        cutoff = now - timedelta(days=retention.delivered_days)
        targets.append(("transcript", transcript_table, transcript_table.c.recorded_at < cutoff))
    return targets


def _delete_batch(engine: Engine, table: Table, condition: ColumnElement[bool], size: int) -> int:
    batch = select(table.c.id).where(condition).limit(size).scalar_subquery()
    with _begin(engine) as connection, connection.begin():
        result = connection.execute(delete(table).where(table.c.id.in_(batch)))
        return max(int(result.rowcount or 0), 0)


def _begin(engine: Engine) -> Any:
    connection = engine.connect()
    if is_sqlite(engine):
        connection = connection.execution_options(**{SQLITE_IMMEDIATE: True})
    return connection


def _delete_target_batch(
    engine: Engine, target: PurgeTarget, now: datetime, size: int
) -> dict[str, int]:
    """One transaction: up to ``size`` of ``target``'s parent rows, their dependents first."""
    deleted: dict[str, int] = {}
    with _begin(engine) as connection, connection.begin():
        keys = list(
            connection.execute(
                select(target.key).where(target.condition(now)).limit(size)
            ).scalars()
        )
        if not keys:
            return {target.table.name: 0}
        for table, column in target.dependents:
            result = connection.execute(delete(table).where(column.in_(keys)))
            deleted[table.name] = max(int(result.rowcount or 0), 0)
        result = connection.execute(delete(target.table).where(target.key.in_(keys)))
        deleted[target.table.name] = max(int(result.rowcount or 0), 0)
    return deleted


def _purge_target(
    engine: Engine,
    target: PurgeTarget,
    now: datetime,
    size: int,
    counts: dict[str, int],
    dry_run: bool,
    stop: threading.Event | None,
    pause: float,
) -> None:
    for name in target.tables():
        counts.setdefault(name, 0)
    if dry_run:
        with engine.connect() as connection:
            counts[target.table.name] += int(
                connection.execute(
                    select(func.count()).select_from(target.table).where(target.condition(now))
                ).scalar_one()
            )
        return
    while not (stop is not None and stop.is_set()):
        deleted = _delete_target_batch(engine, target, now, size)
        for name, number in deleted.items():
            counts[name] += number
        if deleted[target.table.name] < size:
            break
        if pause:
            time.sleep(pause)


def purge(
    engine: Engine,
    retention: Retention,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    stop: threading.Event | None = None,
    pause: float = 0.0,
) -> PurgeCounts:
    """Delete the finished rows older than ``retention`` allows, ``retention.batch_size`` per
    transaction; returns how many went, by kind. ``dry_run``: count them, delete nothing.
    ``stop``: set by the caller to end between two batches (a node shutting down);
    ``pause``: seconds between batches, to let other writers in."""
    now = now or utcnow()
    counts = dict.fromkeys(("outbox_delivered", "outbox_dead", "transcript"), 0)
    for kind, table, condition in _targets(retention, now):
        if dry_run:
            with engine.connect() as connection:
                counts[kind] = int(
                    connection.execute(
                        select(func.count()).select_from(table).where(condition)
                    ).scalar_one()
                )
            continue
        while not (stop is not None and stop.is_set()):
            deleted = _delete_batch(engine, table, condition, retention.batch_size)
            counts[kind] += deleted
            if deleted < retention.batch_size:
                break
            if pause:
                time.sleep(pause)
    tables: dict[str, int] = {}
    for target in retention.targets:
        if stop is not None and stop.is_set():
            break
        size = target.batch_size or retention.batch_size
        _purge_target(engine, target, now, size, tables, dry_run, stop, pause)
    return PurgeCounts(**counts, tables=tables)


def describe(counts: PurgeCounts) -> str:
    """The counts in a French sentence, for the log."""
    text = (
        f"{counts.outbox_delivered} envoi(s) livré(s) et {counts.outbox_dead} abandonné(s) "
        f"de la boîte d'envoi, {counts.transcript} message(s) du journal"
    )
    for name, number in counts.tables.items():
        text += f", {number} ligne(s) de {name}"
    return text


class RetentionTask:
    """Purges in the background of a running node: a first time shortly after start-up
    (within a minute, so a node restarted often still purges), then every ``interval``
    seconds, ±10 % so that the processes sharing a database do not purge in step. A failure
    is logged and retried at the next turn; it never stops the node."""

    def __init__(
        self,
        engine: Engine,
        retention: Retention,
        interval: float,
        *,
        first_delay: float | None = None,
        pause: float = 0.01,
    ) -> None:
        self.engine = engine
        self.retention = retention
        self.interval = interval
        self.first_delay = (
            random.uniform(0.5, 1.0) * min(interval, 60.0) if first_delay is None else first_delay
        )
        self.pause = pause
        self.runs = 0
        self.last: PurgeCounts | None = None
        self._halt = threading.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(
        cls, engine: Engine, settings: NetworkSettings, targets: Sequence[PurgeTarget] = ()
    ) -> RetentionTask | None:
        """The task the settings ask for, or ``None`` (no interval, or everything kept);
        ``targets``: the role's own (:class:`PurgeTarget`)."""
        retention = Retention.from_settings(settings, targets=tuple(targets))
        if not settings.retention_interval or not retention.active:
            return None
        return cls(engine, retention, settings.retention_interval)

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._halt.clear()
            self._stopping.clear()
            self._task = asyncio.create_task(self.run(), name="network-retention")
        return self._task

    async def stop(self) -> None:
        """End the purge under way after its current batch, then stop."""
        self._halt.set()
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def run(self) -> None:
        delay = self.first_delay
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return
            await self.run_once()
            delay = self.interval * random.uniform(0.9, 1.1)

    async def run_once(self) -> PurgeCounts | None:
        started = time.perf_counter()
        try:
            counts = await asyncio.to_thread(
                purge, self.engine, self.retention, stop=self._halt, pause=self.pause
            )
        except Exception:  # a database hiccup must not kill the task, nor the node
            log.exception("rétention : échec de la purge (nouvel essai au prochain tour)")
            return None
        self.runs += 1
        self.last = counts
        level = logging.INFO if counts.total else logging.DEBUG
        log.log(
            level,
            "rétention : %s supprimé(s) en %.1f s",
            describe(counts),
            time.perf_counter() - started,
        )
        return counts
