"""The CSV imports started from the pôle's pages (``seller_portal_imports``): the file between
its preview and its confirmation, then where the import stands and its report."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from reseau_poles.storage import all_rows, one_or_none_row, row_count, utcnow

from ..tables import portal_imports

# What a page reads of an import: everything but the file.
_SHOWN = [column for column in portal_imports.c if column.name != "content"]


def add(
    session: Session,
    job_id: str,
    provider_id: str,
    user_id: int | None,
    filename: str,
    content: bytes,
    total: int,
    report: dict[str, Any],
) -> None:
    now = utcnow()
    session.execute(
        insert(portal_imports).values(
            id=job_id,
            provider_id=provider_id,
            user_id=user_id,
            filename=filename,
            size=len(content),
            content=content,
            state="apercu",
            stage=None,
            done=0,
            total=total,
            report=report,
            created_at=now,
            updated_at=now,
        )
    )


def get(session: Session, provider_id: str, job_id: str) -> Mapping[str, Any] | None:
    """The pôle's import (without its file), or ``None``."""
    return one_or_none_row(
        session.execute(
            select(*_SHOWN).where(
                portal_imports.c.id == job_id, portal_imports.c.provider_id == provider_id
            )
        )
    )


def recent(session: Session, provider_id: str, limit: int) -> list[Mapping[str, Any]]:
    """The pôle's newest imports (without their files)."""
    return all_rows(
        session.execute(
            select(*_SHOWN)
            .where(portal_imports.c.provider_id == provider_id)
            .order_by(portal_imports.c.created_at.desc(), portal_imports.c.id)
            .limit(limit)
        )
    )


def claim(session: Session, provider_id: str, job_id: str) -> bytes | None:
    """Mark a previewed import as running and return its file; ``None`` if it is not (any
    more) waiting for its confirmation: one confirmation starts it, a second does nothing."""
    done = session.execute(
        update(portal_imports)
        .where(
            portal_imports.c.id == job_id,
            portal_imports.c.provider_id == provider_id,
            portal_imports.c.state == "apercu",
        )
        .values(state="en_cours", stage="validation", done=0, updated_at=utcnow())
    )
    if row_count(done) != 1:
        return None
    content = session.execute(
        select(portal_imports.c.content).where(portal_imports.c.id == job_id)
    ).scalar_one()
    return bytes(content or b"")


def release(session: Session, job_id: str) -> None:
    """Back to waiting for its confirmation (the import could not start)."""
    session.execute(
        update(portal_imports)
        .where(portal_imports.c.id == job_id, portal_imports.c.state == "en_cours")
        .values(state="apercu", stage=None, done=0, updated_at=utcnow())
    )


def progress(session: Session, job_id: str, stage: str, done: int) -> None:
    session.execute(
        update(portal_imports)
        .where(portal_imports.c.id == job_id, portal_imports.c.state == "en_cours")
        .values(stage=stage, done=done, updated_at=utcnow())
    )


def finish(session: Session, job_id: str, state: str, report: dict[str, Any]) -> None:
    """The import ended (``termine`` or ``echec``): its report kept, its file dropped."""
    session.execute(
        update(portal_imports)
        .where(portal_imports.c.id == job_id)
        .values(state=state, stage=None, report=report, content=None, updated_at=utcnow())
    )


def purge(session: Session, provider_id: str, before: datetime, silent_since: datetime) -> int:
    """The pôle's imports created before ``before``, deleted, unless one is still running
    (a running import writes its progress at least every batch; one silent since
    ``silent_since`` was cut short by a stop of the node)."""
    done = session.execute(
        delete(portal_imports).where(
            and_(
                portal_imports.c.provider_id == provider_id,
                portal_imports.c.created_at < before,
                or_(
                    portal_imports.c.state != "en_cours",
                    portal_imports.c.updated_at < silent_since,
                ),
            )
        )
    )
    return row_count(done)
