"""How the registry writes a moment (``2026-05-01T12:00:00Z``): its tables, its client and the
commands built on it (which must not load SQLAlchemy) share it."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(moment: datetime) -> str:
    """``2026-05-01T12:00:00Z``: UTC with a ``Z`` (a naive value is taken as UTC)."""
    value = moment.replace(tzinfo=None) if moment.tzinfo is None else moment
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(UTC)
    # isoformat() is several times faster than strftime and drops a zero fraction itself.
    return value.replace(tzinfo=None).isoformat() + "Z"
