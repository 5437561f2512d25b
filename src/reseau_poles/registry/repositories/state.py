"""The revision counter: one row that grows with every write."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..tables import state


def bump_revision(session: Session) -> int:
    """Mark a write. First statement of every write transaction: on PostgreSQL the row lock it
    takes makes concurrent writers wait for each other (SQLite has BEGIN IMMEDIATE)."""
    session.execute(update(state).where(state.c.id == 1).values(revision=state.c.revision + 1))
    return read_revision(session)


def read_revision(session: Session) -> int:
    return session.scalar(select(state.c.revision).where(state.c.id == 1)) or 0
