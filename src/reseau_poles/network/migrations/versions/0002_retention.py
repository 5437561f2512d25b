"""Retention: indexes that keep the periodic purge of old outbox and transcript rows cheap.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Finished rows (delivered, failed, expired) by age: the purge reads a range of it.
    op.create_index("ix_network_outbox_retention", "network_outbox", ["status", "created_at"])
    op.create_index("ix_network_transcript_recorded_at", "network_transcript", ["recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_network_transcript_recorded_at", table_name="network_transcript")
    op.drop_index("ix_network_outbox_retention", table_name="network_outbox")
