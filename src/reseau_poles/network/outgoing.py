"""What a handler sends, stated where it sends it: the calls of one unit of work.

    with network.outgoing() as out, write_session(factory) as session:
        ...                                              # the state change
        out.send(session, bap_uri, "on_confirm", body)   # an outbox row, same transaction
    # the session committed (the inner manager exits first), then ``out`` hands the calls
    # to the worker; an exception leaving the block sends nothing.

Each call is an outbox row written in the caller's transaction (a SQLAlchemy ``Session`` or a
Core ``Connection``), so it survives a restart and is sent once by one worker. When this
process runs the node's outbox worker, a call due now is written already claimed by it and
handed over at the end of the block: it leaves at once, without the worker's poll or claim
transaction. A worker gone before sending leaves the row to the next one after the lease.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from ..storage import utcnow
from .outbox import OutboxWorker, enqueue

log = logging.getLogger(__name__)


class Outgoing:
    """The calls of one unit of work (:meth:`NodeNetwork.outgoing`). Open it before the
    session or connection whose transaction writes them, so that it closes after the
    commit::

        with network.outgoing() as out, engine.connect() as connection, connection.begin():
            out.send(connection, url, "on_search", body)
    """

    def __init__(self, worker: OutboxWorker | None, ttl: float | None) -> None:
        self._worker = worker
        self._ttl = ttl
        self._claimed: list[tuple[Session | Connection, dict[str, Any]]] = []
        self._look = False  # a call written unclaimed and due: the worker looks at the end

    def send(
        self, session: Session | Connection, target_url: str, action: str, body: Any, **kwargs: Any
    ) -> int:
        """Write the call ``{target_url}/{action}`` to the outbox in ``session``'s transaction
        (:func:`reseau_poles.network.outbox.enqueue`, with the node's default ttl); returns
        the row id. Write it in the transaction itself, not in a savepoint that may roll back
        alone: such a call, as one on a transaction not begun yet, is written unclaimed and
        the worker looks for it at the end of the block."""
        kwargs.setdefault("ttl", self._ttl)
        worker = self._worker
        if worker is None or not worker.running:  # a command-line tool: the serving
            return enqueue(session, target_url, action, body, **kwargs)  # process's worker
        not_before = kwargs.get("not_before")
        if (
            (not_before is not None and not_before > utcnow())
            or not isinstance(session, Session | Connection)
            or not session.in_transaction()
            or session.in_nested_transaction()
        ):
            self._look = self._look or not_before is None or not_before <= utcnow()
            return enqueue(session, target_url, action, body, **kwargs)
        row: dict[str, Any] = {}
        row_id = enqueue(session, target_url, action, body, claim=worker.claim, row=row, **kwargs)
        self._claimed.append((session, row))
        return row_id

    def __enter__(self) -> Outgoing:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        claimed, self._claimed = self._claimed, []
        look, self._look = self._look, False
        worker = self._worker
        if exc_type is not None or worker is None:
            return  # rolled back, or the commit failed: the lease covers what was claimed
        rows = []
        for session, row in claimed:
            if session.in_transaction():  # not committed yet: the lease covers it
                log.warning(
                    "appel %s vers %s laissé au bail : sa transaction est encore ouverte",
                    row["action"],
                    row["target_url"],
                )
            else:
                rows.append(row)
        worker.deliver_claimed(rows)
        if look:
            worker.wake_threadsafe()
