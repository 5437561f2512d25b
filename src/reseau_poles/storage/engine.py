"""``make_engine``: one place that knows how to open SQLite and PostgreSQL properly."""

from __future__ import annotations

import logging
import threading
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from reseau_poles.config import redact_url  # noqa: F401  (re-exported)
from reseau_poles.files import private_file, tighten
from reseau_poles.protocol.jsonfast import dumps_text

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000

# Execution option: open the SQLite transaction with BEGIN IMMEDIATE (take the write lock at
# once). A deferred transaction that reads then writes can fail with SQLITE_BUSY without
# waiting when another writer committed in between; an immediate one waits its turn.
SQLITE_IMMEDIATE = "reseau_poles_sqlite_immediate"


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` go through psycopg 3 (the driver we ship)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(engine_or_url: Engine | str) -> bool:
    if isinstance(engine_or_url, Engine):
        return engine_or_url.dialect.name == "sqlite"
    return make_url(normalise_url(engine_or_url)).get_backend_name() == "sqlite"


def make_engine(url: str, *, echo: bool = False, **kwargs: Any) -> Engine:
    """An engine for ``url``.

    SQLite: the file is made ``0600`` (its folder ``0700`` if missing) before SQLite opens
    it, whatever the umask, and an existing one readable by others is tightened (with its
    ``-wal`` and ``-shm``, which SQLite makes with the database file's permissions); every connection gets WAL journaling (readers
    never block the writer), foreign keys on, a busy timeout, and ``synchronous=NORMAL`` (safe
    with WAL). Transactions are begun by us, so that a write session can ask for
    ``BEGIN IMMEDIATE`` (see :func:`reseau_poles.storage.write_session`). Checkpoints (copying
    the WAL back into the database file, with an fsync) run on a background thread
    (:class:`Checkpointer`), not inside whichever commit crosses SQLite's threshold.

    PostgreSQL: psycopg 3, ``pool_pre_ping`` so a restarted server does not break the pool.

    Both: JSON columns are written by :func:`reseau_poles.protocol.jsonfast.dumps_text`.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    # JSON columns written by orjson (same JSON as json.dumps, about ten times faster: a
    # buyer stores every catalogue it receives).
    kwargs.setdefault("json_serializer", dumps_text)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, echo=echo, **kwargs)

    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or parsed.query.get("mode") == "memory"
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("check_same_thread", False)
    if in_memory:
        kwargs.setdefault("poolclass", StaticPool)
    elif not database.startswith("file:"):
        _private_database(Path(database))
    engine = create_engine(url, echo=echo, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN instead of the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA wal_autocheckpoint=0")  # the Checkpointer's job
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    if not in_memory:
        Checkpointer(engine).start()
    return engine


def _private_database(path: Path) -> None:
    """The database file readable by its owner only, before SQLite makes it with the umask's
    mode (and its journal files after it: SQLite gives them the database file's mode)."""
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        tighten(path.expanduser().with_name(path.name + suffix))


class Checkpointer:
    """Checkpoints a SQLite database's WAL every ``interval`` seconds on its own thread.

    Left to SQLite, the commit that grows the WAL past 1,000 pages copies it back into the
    database file and syncs it before returning: on a node storing catalogues (a buyer writes
    about 1 MB per search of 25 sellers) that was a pause of a few hundred milliseconds every
    few searches, on whichever request committed. Here a ``PASSIVE`` checkpoint (it never waits
    for a reader or a writer) runs beside the traffic instead. The thread holds the engine only
    weakly; it stops when the engine is disposed or collected, and comes back with the next
    connection of an engine used again after ``dispose()``."""

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self._engine = weakref.ref(engine)
        self.interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._running = False
        self.checkpoints = 0
        event.listen(engine, "engine_disposed", lambda _engine: self._stop.set())
        event.listen(engine, "connect", lambda _dbapi, _record: self.start())

    def start(self) -> None:
        with self._lock:
            if self._running and not self._stop.is_set():
                return
            self._stop = threading.Event()
            self._running = True
            stop = self._stop
        threading.Thread(
            target=self._run, args=(stop,), name="sqlite-checkpoint", daemon=True
        ).start()

    def _run(self, stop: threading.Event) -> None:
        try:
            self._loop(stop)
        finally:
            with self._lock:
                if self._stop is stop:
                    self._running = False

    def _loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            engine = self._engine()
            if engine is None:
                return
            try:
                self.checkpoint(engine)
            except Exception:  # a busy or closing database: the next round tries again
                log.debug("checkpoint SQLite reporté", exc_info=True)
            del engine

    def checkpoint(self, engine: Engine) -> None:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                self.checkpoints += 1
            finally:
                cursor.close()
        finally:
            raw.close()
