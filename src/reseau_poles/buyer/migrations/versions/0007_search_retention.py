"""Buyer node: searches by age, for the purge of old searches (``search_retention_days``).

Revision ID: 0007_search_retention
Revises: 0006_secrets
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_search_retention"
down_revision: str | None = "0006_secrets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_buyer_searches_created_at", "buyer_searches", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_buyer_searches_created_at", table_name="buyer_searches")
