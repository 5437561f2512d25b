"""Buyer node: the follow-up pages a search asked for, pôle by pôle (``buyer_searches.pages``).

Revision ID: 0004_search_pages
Revises: 0003
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_search_pages"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("buyer_searches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pages", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("buyer_searches", schema=None) as batch_op:
        batch_op.drop_column("pages")
