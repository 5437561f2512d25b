"""What every role shares to keep its state: SQLAlchemy engine and sessions, a few column
types, rows read by column name (typed), and an Alembic runner for each role's own migrations.

SQLite (a file, zero set-up) by default; PostgreSQL through psycopg 3 in production. The same
migrations run on both.
"""

from reseau_poles.files import open_private, private_file, private_folder, tighten

from .base import UTCDateTime, make_metadata, utcnow
from .engine import is_sqlite, make_engine, normalise_url, redact_url
from .migrations import current_revision, head_revision, upgrade
from .rows import all_rows, first_row, insert_for, one_or_none_row, row_count
from .session import make_session_factory, read_session, write_session

__all__ = [
    "UTCDateTime",
    "all_rows",
    "current_revision",
    "first_row",
    "head_revision",
    "insert_for",
    "is_sqlite",
    "make_engine",
    "make_metadata",
    "make_session_factory",
    "normalise_url",
    "one_or_none_row",
    "open_private",
    "private_file",
    "private_folder",
    "read_session",
    "redact_url",
    "row_count",
    "tighten",
    "upgrade",
    "utcnow",
    "write_session",
]
