"""Network tables: outbox and transcript.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reseau_poles.storage import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "network_outbox",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("target_url", sa.String(2048), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(128), nullable=True),
        sa.Column("transaction_id", sa.String(128), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(128), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("last_http_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_outbox")),
    )
    op.create_index("ix_network_outbox_due", "network_outbox", ["status", "next_attempt_at"])
    op.create_index("ix_network_outbox_message_id", "network_outbox", ["message_id"])

    op.create_table(
        "network_transcript",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("action", sa.String(64), nullable=True),
        sa.Column("peer", sa.String(2048), nullable=True),
        sa.Column("url", sa.String(2048), nullable=True),
        sa.Column("status", sa.String(8), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.String(32), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("transaction_id", sa.String(128), nullable=True),
        sa.Column("message_id", sa.String(128), nullable=True),
        sa.Column("headers", sa.Text(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_transcript")),
    )
    op.create_index(
        "ix_network_transcript_transaction_id", "network_transcript", ["transaction_id"]
    )
    op.create_index("ix_network_transcript_message_id", "network_transcript", ["message_id"])


def downgrade() -> None:
    op.drop_table("network_transcript")
    op.drop_table("network_outbox")
