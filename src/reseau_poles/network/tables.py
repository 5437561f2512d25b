"""The network layer's own tables: the outbox and the transcript.

They live in their own ``MetaData`` with their own migrations and version table
(``alembic_version_network``), so any role can add them to its database beside its own.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from ..storage import UTCDateTime, make_metadata, upgrade

MIGRATIONS_PACKAGE = "reseau_poles.network.migrations"
VERSION_TABLE = "alembic_version_network"

metadata = make_metadata()

# SQLite only autoincrements an INTEGER PRIMARY KEY.
_ID = BigInteger().with_variant(Integer(), "sqlite")

outbox_table = Table(
    "network_outbox",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("target_url", String(2048), nullable=False),
    Column("action", String(64), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", Text, nullable=True),
    Column("message_id", String(128), nullable=True),
    Column("transaction_id", String(128), nullable=True),
    # pending → delivering → delivered | failed (NACK) | expired (deadline passed)
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("deadline", UTCDateTime(), nullable=False),
    Column("claimed_by", String(128), nullable=True),
    Column("claimed_until", UTCDateTime(), nullable=True),
    Column("delivered_at", UTCDateTime(), nullable=True),
    Column("last_http_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Index("ix_network_outbox_due", "status", "next_attempt_at"),
    Index("ix_network_outbox_message_id", "message_id"),
    Index("ix_network_outbox_retention", "status", "created_at"),
)

transcript_table = Table(
    "network_transcript",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("direction", String(3), nullable=False),
    Column("action", String(64), nullable=True),
    Column("peer", String(2048), nullable=True),
    Column("url", String(2048), nullable=True),
    Column("status", String(8), nullable=True),
    Column("http_status", Integer, nullable=True),
    Column("error_code", String(32), nullable=True),
    Column("latency_ms", Float, nullable=True),
    Column("transaction_id", String(128), nullable=True),
    Column("message_id", String(128), nullable=True),
    Column("headers", Text, nullable=True),
    Column("body", LargeBinary, nullable=True),
    Index("ix_network_transcript_transaction_id", "transaction_id"),
    Index("ix_network_transcript_message_id", "message_id"),
    Index("ix_network_transcript_recorded_at", "recorded_at"),
)


def migrate(engine_or_url) -> str | None:  # type: ignore[no-untyped-def]
    """Create or upgrade the network tables; safe at every start-up, from several processes."""
    return upgrade(engine_or_url, MIGRATIONS_PACKAGE, VERSION_TABLE)
