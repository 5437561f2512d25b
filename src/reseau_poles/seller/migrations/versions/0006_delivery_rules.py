"""Seller node: when each fulfilment option delivers — days, hours (Québec time), the longest
delivery window it accepts, its minimum order. NULL: not declared (not checked).

Revision ID: 0006_delivery_rules
Revises: 0005_order_view
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_delivery_rules"
down_revision: str | None = "0005_order_view"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    sa.Column("delivery_days", sa.String(length=32), nullable=True),
    sa.Column("delivery_hours", sa.String(length=16), nullable=True),
    sa.Column("max_window_hours", sa.Integer(), nullable=True),
    sa.Column("minimum_order", sa.Numeric(precision=12, scale=2), nullable=True),
)


def upgrade() -> None:
    for column in _COLUMNS:
        op.add_column("seller_fulfillment_options", column)


def downgrade() -> None:
    with op.batch_alter_table("seller_fulfillment_options") as batch:
        for column in reversed(_COLUMNS):
            batch.drop_column(column.name)
