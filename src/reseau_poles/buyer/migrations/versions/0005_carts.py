"""Buyer node: a cart's lines for two fulfilment options of one pôle are two orders (one
``buyer_cart_poles`` row per pôle and option); orders found by purchase-order number.

Revision ID: 0005_carts
Revises: 0004_search_pages
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_carts"
down_revision: str | None = "0004_search_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("buyer_cart_poles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fulfilment_id", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.drop_constraint(
            op.f("uq_buyer_cart_poles_cart_id_bpp_id_provider_id"), type_="unique"
        )
        batch_op.create_unique_constraint(
            op.f("uq_buyer_cart_poles_cart_id_bpp_id_provider_id_fulfilment_id"),
            ["cart_id", "bpp_id", "provider_id", "fulfilment_id"],
        )
    with op.batch_alter_table("buyer_orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_buyer_orders_purchase_order",
            ["organisation_id", "purchase_order_number"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("buyer_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_buyer_orders_purchase_order")
    with op.batch_alter_table("buyer_cart_poles", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("uq_buyer_cart_poles_cart_id_bpp_id_provider_id_fulfilment_id"), type_="unique"
        )
        batch_op.create_unique_constraint(
            op.f("uq_buyer_cart_poles_cart_id_bpp_id_provider_id"),
            ["cart_id", "bpp_id", "provider_id"],
        )
        batch_op.drop_column("fulfilment_id")
