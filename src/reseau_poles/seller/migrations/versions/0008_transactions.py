"""Seller node: ``seller_transactions``, where each buyer transaction stands before its
confirm (select → init → confirm), so that a confirm without a quote or an init without a
select is refused.

Revision ID: 0008_transactions
Revises: 0007_secrets
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reseau_poles.storage import UTCDateTime

revision: str = "0008_transactions"
down_revision: str | None = "0007_secrets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seller_transactions",
        sa.Column("bap_id", sa.String(length=255), nullable=False),
        sa.Column("transaction_id", sa.String(length=128), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("bap_id", "transaction_id", name=op.f("pk_seller_transactions")),
    )
    op.create_index("ix_seller_transactions_updated_at", "seller_transactions", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_seller_transactions_updated_at", table_name="seller_transactions")
    op.drop_table("seller_transactions")
