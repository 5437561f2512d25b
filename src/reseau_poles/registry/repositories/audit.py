"""The audit log: every change, who made it, before and after."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session

from ..tables import audit


def add_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    subscriber_id: str | None,
    at: datetime,
    key_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    session.execute(
        insert(audit).values(
            at=at,
            actor=actor,
            action=action,
            subscriber_id=subscriber_id,
            key_id=key_id,
            before=before,
            after=after,
            reason=reason,
        )
    )


def audit_entries(
    session: Session,
    *,
    subscriber_id: str | None = None,
    action: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Sequence[Row[Any]]:
    """The newest entries first (``before_id``: the page after the one that ended there)."""
    query = select(audit)
    if since is not None:
        query = query.where(audit.c.at >= since)
    if until is not None:
        query = query.where(audit.c.at < until)
    if subscriber_id:
        query = query.where(audit.c.subscriber_id == subscriber_id)
    if action:
        query = query.where(audit.c.action == action)
    if before_id:
        query = query.where(audit.c.id < before_id)
    return session.execute(query.order_by(audit.c.id.desc()).limit(limit)).all()


def has_entry(session: Session, subscriber_id: str, action: str) -> bool:
    """Whether the log holds ``action`` for the participant (e.g. it was ever approved)."""
    found = session.scalar(
        select(audit.c.id)
        .where(audit.c.subscriber_id == subscriber_id, audit.c.action == action)
        .limit(1)
    )
    return found is not None
