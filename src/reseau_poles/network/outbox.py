"""Outbox: outbound calls that must not be lost (callbacks, webhooks).

A role writes the call with :func:`enqueue` in the same transaction as the state change that
caused it, so either both happen or neither does. An :class:`OutboxWorker` then delivers it
in the background, retrying with exponential backoff (and jitter, so a recovering peer is not
hit by every node at once) until the peer ACKs or the deadline passes.

* The body bytes and message id are fixed at enqueue time and sent unchanged on every retry;
  the signature is made at send time, because signatures expire.
* Rows are claimed with one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)
  RETURNING``: several workers on PostgreSQL never claim the same row; on SQLite the statement
  runs under the write lock (``BEGIN IMMEDIATE``), which suits the single worker SQLite has.
* A claim is a lease: a worker killed mid-delivery leaves rows that another (or the restarted)
  worker takes again once the lease ends. Delivery is therefore at least once; receivers
  de-duplicate by message id. A NACK "stale request" (20002/30022) on a second attempt means
  the peer already has the message, and counts as delivered.
* A delivery's outcome is recorded after the answer, the outcomes of deliveries that end
  within ``record_window`` seconds in one write transaction: a worker killed in between has
  sent calls still marked as claimed, which go out again after the lease (at least once).
* Not every row is a Beckn call: a row whose action is ``scheme:name`` (``webhook:order.confirmed``)
  is delivered by the transport registered for ``scheme`` (:meth:`OutboxWorker.register_transport`),
  which returns a :class:`CallResult` like the signed client does; retries, leases and
  deadlines stay the worker's.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, bindparam, insert, or_, select, update

from ..protocol.errors import ErrorCode
from ..storage import is_sqlite, utcnow
from ..storage.engine import SQLITE_IMMEDIATE
from .acks import context_ids
from .client import CallResult, NetworkClient, body_bytes
from .settings import NetworkSettings
from .tables import outbox_table

log = logging.getLogger(__name__)

PENDING, DELIVERING, DELIVERED, FAILED, EXPIRED = (
    "pending",
    "delivering",
    "delivered",
    "failed",
    "expired",
)
DEFAULT_TTL = 86_400.0
_ALREADY_RECEIVED = {ErrorCode.BUYER_STALE_REQUEST.value, ErrorCode.STALE_REQUEST.value}

# Delivers one claimed row (``target_url``, ``action``, ``body``, ``headers`` as stored).
Transport = Callable[[Mapping[str, Any]], Awaitable[CallResult]]


def enqueue(
    session: Any,
    target_url: str,
    action: str,
    body: Any,
    *,
    message_id: str | None = None,
    transaction_id: str | None = None,
    ttl: float | None = None,
    deadline: datetime | None = None,
    headers: Mapping[str, str] | None = None,
    not_before: datetime | None = None,
    claim: tuple[str, float] | None = None,
    row: dict[str, Any] | None = None,
) -> int:
    """Add a call to the outbox inside the caller's transaction; returns the row id.

    ``claim=(worker_id, lease)``: the row starts claimed by that worker (its first attempt
    under way), for :meth:`OutboxWorker.deliver_claimed` to send once the caller committed,
    without a claim transaction; a worker that dies first leaves it to the others after the
    lease, as any claim. ``row``, if given, is filled with what the worker needs to send it.

    ``session`` is a SQLAlchemy ``Session`` or ``Connection`` (with an ``AsyncSession``, call
    it through ``await session.run_sync(lambda s: enqueue(s, …))``). ``body`` is bytes, a
    model or a dict, serialised here once. The call is posted to ``{target_url}/{action}``
    until ACKed or until ``deadline`` (default: ``ttl`` seconds from now, one day if unset).
    Nothing is sent before the caller commits: wake the worker after the commit.
    """
    content = body_bytes(body)
    context = body.get("context") if isinstance(body, Mapping) else None
    if isinstance(context, Mapping):  # a dict body: its ids without reading the bytes again
        found = context.get("message_id"), context.get("transaction_id")
        message_id = message_id or (found[0] if isinstance(found[0], str) else None)
        transaction_id = transaction_id or (found[1] if isinstance(found[1], str) else None)
    if message_id is None or transaction_id is None:
        found_transaction, found_message = context_ids(content)
        message_id = message_id or found_message
        transaction_id = transaction_id or found_transaction
    now = utcnow()
    if deadline is None:
        deadline = now + timedelta(seconds=DEFAULT_TTL if ttl is None else ttl)
    values: dict[str, Any] = {
        "target_url": target_url,
        "action": action,
        "body": content,
        "headers": json.dumps(dict(headers)) if headers else None,
        "message_id": message_id,
        "transaction_id": transaction_id,
        "status": PENDING,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": not_before or now,
        "deadline": deadline,
    }
    if claim is not None:
        worker_id, lease = claim
        values.update(
            status=DELIVERING,
            claimed_by=worker_id,
            claimed_until=now + timedelta(seconds=lease),
            attempts=1,
        )
    row_id = int(session.execute(_INSERT, values).scalar_one())
    if row is not None:
        row.update(values, id=row_id)
    return row_id


# Built once: the statement and its compiled form are reused for every call queued.
_INSERT = insert(outbox_table).returning(outbox_table.c.id)


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds before the next try after ``attempts`` tries: doubling, capped, "equal jitter"
    (half fixed, half random) so retries spread out but never come back at once."""
    ceiling: float = min(cap, base * (2 ** max(attempts - 1, 0)))
    return ceiling / 2 + random.random() * ceiling / 2


class OutboxWorker:
    """Delivers due outbox rows in the background: ``worker.start()`` in a role's lifespan,
    ``await worker.stop()`` at shutdown, ``worker.wake()`` after committing new rows."""

    def __init__(
        self,
        engine: Engine,
        client: NetworkClient,
        *,
        worker_id: str | None = None,
        batch_size: int = 20,
        poll_interval: float = 0.5,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        lease: float = 30.0,
        record_window: float = 0.05,
        on_result: Callable[[Mapping[str, Any], CallResult, str], None] | None = None,
        transports: Mapping[str, Transport] | None = None,
    ) -> None:
        self.engine = engine
        self.client = client
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.lease = lease
        self.record_window = record_window
        self.on_result = on_result
        self.transports: dict[str, Transport] = dict(transports or {})
        self._sqlite = is_sqlite(engine)
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._chains: dict[tuple[str, str | None], asyncio.Task[None]] = {}
        # Outcomes waiting for the next record transaction, and the task that writes them.
        self._outcomes: list[tuple[int, dict[str, Any], asyncio.Future[None]]] = []
        self._recording: asyncio.Task[None] | None = None
        self._sql = self._statements()
        self._record_sql: dict[tuple[str, ...], Any] = {}

    @classmethod
    def from_settings(
        cls, engine: Engine, client: NetworkClient, settings: NetworkSettings, **kwargs: Any
    ) -> OutboxWorker:
        return cls(
            engine,
            client,
            batch_size=settings.outbox_batch_size,
            poll_interval=settings.outbox_poll_interval,
            base_delay=settings.outbox_base_delay,
            max_delay=settings.outbox_max_delay,
            lease=settings.outbox_lease,
            record_window=settings.outbox_record_window,
            **kwargs,
        )

    def register_transport(self, scheme: str, transport: Transport) -> None:
        """Deliver rows whose action is ``{scheme}:…`` with ``transport`` instead of a signed
        Beckn call."""
        self.transports[scheme] = transport

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._stopping = False
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.create_task(self.run(), name=f"outbox-{self.worker_id}")
        return self._task

    @property
    def running(self) -> bool:
        """Started in this process and not stopping: rows claimed for it will leave."""
        return (
            self._loop is not None
            and self._task is not None
            and not self._task.done()
            and not self._stopping
        )

    @property
    def claim(self) -> tuple[str, float]:
        """``enqueue(…, claim=worker.claim)``: rows this worker sends as soon as committed."""
        return self.worker_id, self.lease

    def deliver_claimed(self, rows: list[dict[str, Any]]) -> None:
        """Send rows queued with ``claim=self.claim``, once their transaction committed.
        Callable from any thread. Not running (stopped, or not started): they wait for the
        end of their lease and go out as any due row."""
        if rows:
            self._from_any_thread(self._send_claimed, rows)  # not running: the lease covers them

    def _from_any_thread(self, callback: Callable[..., None], *args: Any) -> None:
        """``callback(*args)`` in the worker's loop while it runs; dropped otherwise (what it
        would do is covered by the leases and the poll)."""
        loop = self._loop
        if loop is None or self._stopping or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed in between
            loop.call_soon_threadsafe(callback, *args)

    def _wake_at(self, when: datetime) -> None:
        """Look again when a retry this worker scheduled falls due, not at the next poll."""
        loop = self._loop
        if loop is not None and not self._stopping and not loop.is_closed():
            delay = max((when - utcnow()).total_seconds(), 0.0) + 0.01
            loop.call_later(delay, self.wake)

    def _send_claimed(self, rows: list[dict[str, Any]]) -> None:
        if self._stopping:
            return
        for row in rows:
            # One transaction's messages to one peer leave in the order they were queued,
            # each once the one before it is answered (an on_status "Out-for-delivery" must
            # not overtake its "Packed"); other transactions and peers go side by side.
            chain = (row["target_url"], row.get("transaction_id"))
            before = self._chains.get(chain)
            task = asyncio.create_task(self._deliver_after(before, row))
            self._chains[chain] = task
            self._sending.add(task)
            task.add_done_callback(self._sent)
            task.add_done_callback(functools.partial(self._chain_done, chain))

    async def _deliver_after(self, before: asyncio.Task[None] | None, row: dict[str, Any]) -> None:
        if before is not None:
            await asyncio.wait([before])
        await self._deliver(row)

    def _chain_done(self, key: tuple[str, str | None], task: asyncio.Task[None]) -> None:
        if self._chains.get(key) is task:
            del self._chains[key]

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("boîte d'envoi : échec d'un envoi immédiat", exc_info=task.exception())

    def wake(self) -> None:
        """Look for due rows now instead of at the next poll (in the worker's loop)."""
        self._wake.set()

    def wake_threadsafe(self) -> None:
        """:meth:`wake`, from any thread."""
        self._from_any_thread(self.wake)

    async def stop(self) -> None:
        """Finish the deliveries under way, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)

    async def run(self) -> None:
        while not self._stopping:
            # Cleared before the claim: a wake-up during the cycle (a row committed meanwhile)
            # stays set and starts the next cycle at once. Always a look first, wake-up or not:
            # what this process commits mostly left already (claimed when queued), and a
            # wake-up after it must not cost a write transaction that finds nothing.
            self._wake.clear()
            try:
                delivered = await self.run_once()
            except Exception:  # a database hiccup must not kill the worker
                log.exception("boîte d'envoi : échec d'un cycle de livraison")
                delivered = 0
            if delivered >= self.batch_size and not self._stopping:
                continue  # a full batch: there may be more due rows, no sleep
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def run_once(self, *, look_first: bool = True) -> int:
        """Expire overdue rows, claim a batch, deliver it; returns how many were claimed.

        ``look_first``: see whether anything is due with a plain read before taking the write
        lock (a poll); ``False`` after a wake-up, when a row was just committed."""
        rows = await asyncio.to_thread(self._claim, look_first)
        if rows:
            await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    # --- database -----------------------------------------------------------------------------

    def _begin(self) -> Any:
        connection = self.engine.connect()
        if self._sqlite:
            connection = connection.execution_options(**{SQLITE_IMMEDIATE: True})
        return connection

    def _statements(self) -> tuple[Any, Any, Any]:
        """The poll's read, the expiry and the claim, built once (with bound values) so that
        an idle poll, run every ``poll_interval`` on every node, compiles nothing."""
        table = outbox_table
        now = bindparam("now", type_=table.c.next_attempt_at.type)
        claimable = or_(
            table.c.status == PENDING,
            and_(table.c.status == DELIVERING, table.c.claimed_until < now),
        )
        due = (
            select(table.c.id)
            .where(
                or_(
                    and_(table.c.status == PENDING, table.c.next_attempt_at <= now),
                    and_(table.c.status == DELIVERING, table.c.claimed_until < now),
                )
            )
            .order_by(table.c.next_attempt_at)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
        )
        # A read first, without the write lock: most polls find nothing to expire or claim,
        # and then cost one small SELECT instead of a write transaction of two UPDATEs.
        look = (
            select(table.c.id)
            .where(
                or_(
                    and_(
                        table.c.status == PENDING,
                        or_(table.c.next_attempt_at <= now, table.c.deadline < now),
                    ),
                    and_(table.c.status == DELIVERING, table.c.claimed_until < now),
                )
            )
            .limit(1)
        )
        expire = (
            update(table)
            .where(claimable, table.c.deadline < now)
            .values(status=EXPIRED, claimed_by=None, last_error="échéance dépassée")
        )
        claim = (
            update(table)
            .where(table.c.id.in_(due.scalar_subquery()))
            .values(
                status=DELIVERING,
                claimed_by=bindparam("worker"),
                claimed_until=bindparam("until", type_=table.c.claimed_until.type),
                attempts=table.c.attempts + 1,
            )
            .returning(
                table.c.id,
                table.c.target_url,
                table.c.action,
                table.c.body,
                table.c.headers,
                table.c.message_id,
                table.c.attempts,
                table.c.deadline,
            )
        )
        return look, expire, claim

    def _claim(self, look_first: bool = True) -> list[Mapping[str, Any]]:
        look, expire, claim = self._sql
        now = utcnow()
        if look_first:
            with self.engine.connect() as connection:
                if connection.execute(look, {"now": now}).first() is None:
                    return []
        with self._begin() as connection, connection.begin():
            connection.execute(expire, {"now": now})
            claimed = connection.execute(
                claim,
                {
                    "now": now,
                    "worker": self.worker_id,
                    "until": now + timedelta(seconds=self.lease),
                },
            )
            return [dict(row._mapping) for row in claimed]

    def _record(self, outcomes: list[tuple[int, dict[str, Any]]]) -> None:
        """Each row's outcome, if it is still this worker's claim, in one transaction: one
        executemany per set of columns written (delivered, retry, failed…)."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row_id, values in outcomes:
            groups.setdefault(tuple(sorted(values)), []).append(
                {**values, "_id": row_id, "_worker": self.worker_id}
            )
        with self._begin() as connection, connection.begin():
            for columns, parameters in groups.items():
                connection.execute(self._record_statement(columns), parameters)

    def _record_statement(self, columns: tuple[str, ...]) -> Any:
        statement = self._record_sql.get(columns)
        if statement is None:
            table = outbox_table
            statement = self._record_sql[columns] = (
                update(table)
                .where(
                    table.c.id == bindparam("_id"),
                    table.c.claimed_by == bindparam("_worker"),
                    table.c.status == DELIVERING,
                )
                .values({column: bindparam(column) for column in columns})
            )
        return statement

    async def _record_outcome(self, row_id: int, values: dict[str, Any]) -> None:
        """Record one delivery's outcome, together with the others ending within
        ``record_window``; returns once it is written."""
        if self.record_window <= 0:
            await asyncio.to_thread(self._record, [(row_id, values)])
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outcomes.append((row_id, values, done))
        if self._recording is None:
            self._recording = asyncio.create_task(self._record_gathered())
        await done

    async def _record_gathered(self) -> None:
        if not self._stopping:
            await asyncio.sleep(self.record_window)
        # Outcomes arriving from here on start the next transaction.
        outcomes, self._outcomes, self._recording = self._outcomes, [], None
        waiting = [done for _, _, done in outcomes]
        try:
            await asyncio.to_thread(
                self._record, [(row_id, values) for row_id, values, _ in outcomes]
            )
        except Exception as exc:  # each delivery fails as its own record would have
            for done in waiting:
                if not done.done():
                    done.set_exception(exc)
        except BaseException:
            for done in waiting:
                done.cancel()
            raise
        else:
            for done in waiting:
                if not done.done():
                    done.set_result(None)

    # --- delivery -----------------------------------------------------------------------------

    async def _deliver(self, row: Mapping[str, Any]) -> None:
        scheme, colon, _name = row["action"].partition(":")
        transport = self.transports.get(scheme) if colon else None
        if transport is not None:
            result = await transport(row)
        else:
            headers = json.loads(row["headers"]) if row["headers"] else None
            result = await self.client.send(
                row["target_url"], row["action"], row["body"], headers=headers
            )
        now = utcnow()
        values: dict[str, Any] = {"last_http_status": result.http_status, "claimed_until": None}
        if result.ok or (
            result.status == "NACK"
            and row["attempts"] > 1
            and result.error_code in _ALREADY_RECEIVED
        ):
            values.update(status=DELIVERED, delivered_at=now, last_error=None)
        elif result.retryable:
            next_attempt = now + timedelta(
                seconds=backoff(row["attempts"], self.base_delay, self.max_delay)
            )
            if next_attempt > row["deadline"]:
                values.update(status=EXPIRED)
            else:
                values.update(status=PENDING, next_attempt_at=next_attempt)
            values["last_error"] = json.dumps(dict(result.error or {}), ensure_ascii=False)
        else:
            values.update(
                status=FAILED,
                last_error=json.dumps(dict(result.error or {}), ensure_ascii=False),
            )
        await self._record_outcome(row["id"], values)
        if values["status"] == PENDING:  # once recorded: a look before would not see it due
            self._wake_at(values["next_attempt_at"])
        log.info(
            "boîte d'envoi : %s %s → %s : %s (tentative %s)",
            row["action"],
            row["message_id"],
            row["target_url"],
            values["status"],
            row["attempts"],
        )
        if self.on_result is not None:
            self.on_result(row, result, values["status"])


def counts(engine: Engine) -> dict[str, int]:
    """Rows per status: for health checks and tests."""
    from sqlalchemy import func

    with engine.connect() as connection:
        rows = connection.execute(
            select(outbox_table.c.status, func.count()).group_by(outbox_table.c.status)
        )
        return {status: int(number) for status, number in rows}
