"""Seller node: fulfilment updates, cancellations, ratings, support, webhooks.

Orders keep the confirm's context (for unsolicited callbacks), the tracking URL and how they
were cancelled; the pôles' webhook subscriptions get their table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reseau_poles.storage import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ORDER_COLUMNS = (
    sa.Column("context", sa.JSON(), nullable=True),
    sa.Column("tracking_url", sa.String(length=2048), nullable=True),
    sa.Column("cancelled_by", sa.String(length=16), nullable=True),
    sa.Column("cancellation_reason", sa.String(length=64), nullable=True),
    sa.Column("cancellation_fee", sa.Numeric(precision=12, scale=2), nullable=True),
)


def upgrade() -> None:
    for column in _ORDER_COLUMNS:
        op.add_column("seller_orders", column)
    op.create_table(
        "seller_webhooks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("event_types", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_webhooks")),
    )
    op.create_index("ix_seller_webhooks_owner", "seller_webhooks", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_seller_webhooks_owner", table_name="seller_webhooks")
    op.drop_table("seller_webhooks")
    with op.batch_alter_table("seller_orders") as batch:
        for column in reversed(_ORDER_COLUMNS):
            batch.drop_column(column.name)
