"""``make_engine``: one place that knows how to open SQLite and PostgreSQL properly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from reseau_poles.config import redact_url  # noqa: F401  (re-exported)

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

    SQLite: the folder of the file is created; every connection gets WAL journaling (readers
    never block the writer), foreign keys on, a busy timeout, and ``synchronous=NORMAL`` (safe
    with WAL). Transactions are begun by us, so that a write session can ask for
    ``BEGIN IMMEDIATE`` (see :func:`reseau_poles.storage.write_session`).

    PostgreSQL: psycopg 3, ``pool_pre_ping`` so a restarted server does not break the pool.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, echo=echo, **kwargs)

    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or parsed.query.get("mode") == "memory"
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("check_same_thread", False)
    if in_memory:
        kwargs.setdefault("poolclass", StaticPool)
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
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
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
