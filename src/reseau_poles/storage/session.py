"""Sessions: a factory per engine, and two context managers that say what a unit of work is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .engine import SQLITE_IMMEDIATE


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (``expire_on_commit=False``)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def write_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction that writes: committed at the end, rolled back on any exception.

    On SQLite it starts with ``BEGIN IMMEDIATE``, so concurrent writers queue on the busy
    timeout instead of failing half-way; on PostgreSQL it is an ordinary transaction (take row
    locks with ``SELECT … FOR UPDATE`` where order matters).
    """
    with factory() as session:
        session.connection(execution_options={SQLITE_IMMEDIATE: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A read-only unit of work. Closing the session ends the transaction; objects loaded
    stay readable afterwards (detached, not expired). Never takes the SQLite write lock."""
    with factory() as session:
        yield session
