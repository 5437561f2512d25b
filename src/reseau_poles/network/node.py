"""One object that wires the network layer for a node, so every role starts it the same way.

    network = NodeNetwork(subscriber_id=…, role="BPP", signer=signer, settings=settings,
                          engine=engine)
    network.install(app)                              # error answers (+ transcript)
    network.serve_protocol(app, handle)               # POST /{action}: the pipeline, last
    async with network:                               # in the app's lifespan
        ...
    network.enqueue(session, bap_uri, "on_search", body)  # with the state change
    network.wake()                                        # after the commit

Every part stays usable alone (the gateway builds its own pipeline on an ``Inbound``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Response
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

from ..protocol.signing import Signer
from ..storage import utcnow
from .client import NetworkClient
from .inbound import Inbound, InboundMessage, install
from .lookup import RegistryLookup
from .outbox import OutboxWorker, enqueue
from .pipeline import Pipeline, ProtocolDocs, handler_step, inbound_pipeline, mount
from .replay import ReplayGuard, make_replay_guard
from .retention import PurgeTarget, RetentionTask
from .settings import NetworkSettings
from .tables import migrate
from .transcript import Transcript, TranscriptMiddleware

_CLAIMED = "reseau_poles_outbox_claimed"


def _hand_over(worker: OutboxWorker) -> Callable[[Session], None]:
    def committed(session: Session) -> None:
        rows = session.info.pop(_CLAIMED, None)
        if rows:
            worker.deliver_claimed(rows)

    return committed


def _forget(session: Session) -> None:
    session.info.pop(_CLAIMED, None)


# The same for a Core ``Connection``, which has no after-commit event: its rows wait in the
# connection's ``info`` (that of its DBAPI connection); the commit event, which runs just
# before the database commits, moves them aside, a failed commit drops them, and they are
# handed over once the commit is certainly done: when the connection goes back to the pool
# or begins its next transaction. A rollback drops those not committed.
_STAGED = "reseau_poles_outbox_staged"
_COMMITTING = "reseau_poles_outbox_committing"


def _info(connection: Connection | None) -> dict[str, Any]:
    """The connection's ``info``; empty for one that lost its database (a server restart):
    its rows were not committed, or their lease covers them, and SQLAlchemy clears that
    ``info`` with the broken connection anyway."""
    if connection is None:
        return {}
    try:
        return connection.info
    except sqlalchemy.exc.SQLAlchemyError:  # invalidated, closed: PendingRollbackError …
        return {}


def _on_commit(connection: Connection) -> None:
    info = _info(connection)
    staged = info.pop(_STAGED, None)
    if staged:
        info.setdefault(_COMMITTING, []).extend(staged)


def _on_rollback(connection: Connection) -> None:
    _info(connection).pop(_STAGED, None)


def _on_error(context: Any) -> None:
    # The commit may be what failed: the lease covers its rows.
    _info(context.connection).pop(_COMMITTING, None)


def _on_begin(connection: Connection) -> None:
    _deliver_committed(_info(connection))


def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info.pop(_STAGED, None)
        _deliver_committed(record.info)


def _deliver_committed(info: dict[str, Any]) -> None:
    committed = info.pop(_COMMITTING, None)
    if committed:
        # Per worker: the rows it sends now, and whether a call queued unclaimed needs a look.
        by_worker: dict[int, tuple[OutboxWorker, list[dict[str, Any]], list[bool]]] = {}
        for worker, row in committed:
            _, rows, look = by_worker.setdefault(id(worker), (worker, [], [False]))
            if row is None:
                look[0] = True
            else:
                rows.append(row)
        for worker, rows, look in by_worker.values():
            worker.deliver_claimed(rows)
            if look[0]:
                worker.wake_threadsafe()


def _watch_commits(engine: Engine) -> None:
    """Listen once per engine for what hands over rows queued on a Core connection."""
    if event.contains(engine, "commit", _on_commit):
        return
    event.listen(engine, "commit", _on_commit)
    event.listen(engine, "rollback", _on_rollback)
    event.listen(engine, "handle_error", _on_error)
    event.listen(engine, "begin", _on_begin)
    event.listen(engine, "checkin", _on_checkin)


class NodeNetwork:
    """Lookup cache, inbound pipeline, replay guard, signed client, outbox worker, transcript,
    and the retention task that purges the old outbox and transcript rows."""

    def __init__(
        self,
        *,
        subscriber_id: str,
        role: str,
        signer: Signer | None,
        settings: NetworkSettings | None = None,
        engine: Engine | None = None,
        lookup: RegistryLookup | None = None,
        replay_guard: ReplayGuard | None = None,
        transcript: Transcript | None = None,
        run_outbox: bool = True,
        run_retention: bool = True,
        replay_exempt_actions: Iterable[str] = (),
        retention_targets: Sequence[PurgeTarget] = (),
    ) -> None:
        """``replay_exempt_actions``: actions whose handler is its own replay guard — it
        stores each message durably under a unique (action, sender, message id), ACKs an
        exact copy again without effect and refuses another body under the same id (the
        buyer's order callbacks). The in-memory/Redis window guard, which would refuse a
        sender's honest resend of a message we hold, is skipped for them
        (:meth:`Inbound.guard_replay`). ``retention_targets``: the role's own old rows,
        purged with the outbox and transcript rows (:class:`PurgeTarget`)."""
        self.settings = settings = settings or NetworkSettings()
        self.subscriber_id = subscriber_id
        self.role = role
        self.engine = engine
        self.lookup = lookup or RegistryLookup.from_settings(settings)
        self.replay_guard = replay_guard or make_replay_guard(
            settings.redis_url, max_entries=settings.replay_max_entries
        )
        self.inbound = Inbound.from_settings(
            subscriber_id,
            role,
            settings,
            self.lookup,
            replay_guard=self.replay_guard,
            replay_exempt_actions=replay_exempt_actions,
        )
        if transcript is None and (
            settings.transcript_path or (engine is not None and settings.transcript_database)
        ):
            transcript = Transcript(
                settings.transcript_path,
                engine=engine if settings.transcript_database else None,
                linger=settings.transcript_linger,
            )
        self.transcript = transcript
        self._look_on_wake = False
        self.client = NetworkClient.from_settings(signer, settings, transcript=transcript)
        self.worker = (
            OutboxWorker.from_settings(engine, self.client, settings)
            if engine is not None and run_outbox
            else None
        )
        if self.worker is not None:
            _watch_commits(engine)  # type: ignore[arg-type]
        self.retention = (
            RetentionTask.from_settings(engine, settings, retention_targets)
            if engine is not None and run_retention
            else None
        )

    def install(
        self,
        app: FastAPI,
        *,
        unexpected_by_prefix: Mapping[str, Callable[[], Response]] | None = None,
    ) -> None:
        """Refusals as NACK answers (see :func:`install`); inbound messages into the
        transcript."""
        install(app, self.inbound, unexpected_by_prefix=unexpected_by_prefix)
        if self.transcript is not None:
            app.add_middleware(TranscriptMiddleware, transcript=self.transcript)

    def pipeline(self, handle: Callable[[InboundMessage], Awaitable[None]]) -> Pipeline:
        """The node's protocol pipeline: the shared checks (:func:`inbound_pipeline`), then
        ``handle`` (the step named ``handle``)."""
        return inbound_pipeline(self.inbound).append(handler_step(handle))

    def serve_protocol(
        self,
        app: FastAPI,
        handle: Callable[[InboundMessage], Awaitable[None]],
        *,
        docs: ProtocolDocs | None = None,
    ) -> Pipeline:
        """``POST /{action}`` of ``app``: :meth:`pipeline` as raw ASGI in front of it, the
        message recorded in the transcript after the answer. Call it after :meth:`install`
        and every other middleware (it must be the outermost layer)."""
        pipeline = self.pipeline(handle)
        mount(app, pipeline, role=self.role, docs=docs, transcript=self.transcript)
        return pipeline

    def enqueue(self, session: Any, target_url: str, action: str, body: Any, **kwargs: Any) -> int:
        """:func:`reseau_poles.network.outbox.enqueue`, with the configured default ttl.

        In an ORM session, or a Core connection in a transaction begun with ``begin()``, a
        call due now is queued already claimed by this node's worker and handed to it once
        the transaction committed (a connection's, when it is closed or begins another): it
        leaves at once, without waiting for the worker to find and claim it (a write
        transaction per call). A rollback drops it with the rest; a crash before it left
        leaves it to the next worker after the lease. Queue calls in the session's own
        transaction, not in a savepoint that may roll back alone: the hand-over happens at
        the outer commit.
        """
        kwargs.setdefault("ttl", self.settings.outbox_default_ttl)
        worker = self.worker
        if worker is None or not worker.running:  # a command-line tool: the serving
            return enqueue(session, target_url, action, body, **kwargs)  # process's worker
        not_before = kwargs.get("not_before")
        if not_before is not None:
            if not_before <= utcnow():
                self._look_on_wake = True
            return enqueue(session, target_url, action, body, **kwargs)
        if isinstance(session, Connection):
            if not session.in_transaction() or session.in_nested_transaction():
                # Not claimed (a savepoint may roll back alone): a look once committed.
                row_id = enqueue(session, target_url, action, body, **kwargs)
                session.info.setdefault(_STAGED, []).append((worker, None))
                return row_id
            staged: dict[str, Any] = {}
            row_id = enqueue(
                session, target_url, action, body, claim=worker.claim, row=staged, **kwargs
            )
            session.info.setdefault(_STAGED, []).append((worker, staged))
            return row_id
        if not isinstance(session, Session):
            self._look_on_wake = True  # its commit is not ours to see: every wake-up looks
            return enqueue(session, target_url, action, body, **kwargs)
        row: dict[str, Any] = {}
        row_id = enqueue(session, target_url, action, body, claim=worker.claim, row=row, **kwargs)
        queued = session.info.get(_CLAIMED)
        if queued is None:  # the session's first: deliver when it commits, forget on rollback
            queued = session.info[_CLAIMED] = []
            event.listen(session, "after_commit", _hand_over(worker))
            event.listen(session, "after_rollback", _forget)
        queued.append(row)
        return row_id

    def wake(self) -> None:
        """Deliver what was just committed through :meth:`enqueue` without waiting for the
        next poll. Calls queued claimed left when their transaction committed, and those
        queued unclaimed on a session or connection woke the worker then: this costs nothing
        unless a call was queued on something whose commit this node cannot see, after which
        every wake-up has the worker look for due rows."""
        if self.worker is not None and self._look_on_wake:
            self.worker.wake()

    async def start(self) -> None:
        """Create the network tables if needed, start the registry watch, the outbox worker
        and the retention task."""
        if self.engine is not None:
            await asyncio.to_thread(migrate, self.engine)
        self.lookup.start_watch(self.settings.registry_watch_interval)
        if self.worker is not None:
            self.worker.start()
        if self.retention is not None:
            self.retention.start()

    async def aclose(self) -> None:
        if self.retention is not None:
            await self.retention.stop()
        if self.worker is not None:
            await self.worker.stop()
        await self.client.aclose()
        await self.lookup.aclose()
        await self.replay_guard.aclose()
        if self.transcript is not None:
            await asyncio.to_thread(self.transcript.close)

    async def __aenter__(self) -> NodeNetwork:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
