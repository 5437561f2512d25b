"""Seller node: the pôle's view of an order, and stock movements.

Orders get the buyer's purchase-order number and the delivery window as columns (for the
order list's filter and the pick list of a delivery day), filled in from the stored order
documents. ``seller_stock_movements`` records every change of an item's stock with its
reason, delta, resulting level and reference (order or import); the stock each item has
now is recorded as its first movement (``reprise``), so every history adds up.

Revision ID: 0005_order_view
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from reseau_poles.storage import UTCDateTime, utcnow

revision: str = "0005_order_view"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Columns of different types; a TypeDecorator given by position defeats the inference of one.
_ORDER_COLUMNS: tuple[sa.Column[Any], ...] = (
    sa.Column("purchase_order_number", sa.String(length=64), nullable=True),
    sa.Column("delivery_start", UTCDateTime(), nullable=True),
    sa.Column("delivery_end", UTCDateTime(), nullable=True),
)


def upgrade() -> None:
    for column in _ORDER_COLUMNS:
        op.add_column("seller_orders", column)
    op.create_index("ix_seller_orders_delivery", "seller_orders", ["provider_id", "delivery_start"])
    op.create_index(
        "ix_seller_orders_purchase_order",
        "seller_orders",
        ["provider_id", "purchase_order_number"],
    )
    movements = op.create_table(
        "seller_stock_movements",
        sa.Column("id", _ID, nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["seller_items.id"],
            name=op.f("fk_seller_stock_movements_item_id_seller_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_stock_movements")),
    )
    op.create_index("ix_seller_stock_movements_item", "seller_stock_movements", ["item_id", "id"])
    _fill(movements)


def _fill(movements: sa.Table) -> None:
    from reseau_poles.seller.services.order_view import order_columns

    connection = op.get_bind()
    orders = sa.table(
        "seller_orders",
        sa.column("id", sa.String()),
        sa.column("document", sa.JSON()),
        *(sa.column(column.name, column.type) for column in _ORDER_COLUMNS),
    )
    for order_id, document in connection.execute(sa.select(orders.c.id, orders.c.document)):
        values = order_columns(document or {})
        if any(value is not None for value in values.values()):
            connection.execute(orders.update().where(orders.c.id == order_id).values(**values))
    stock = sa.table(
        "seller_stock",
        sa.column("item_id", _ID),
        sa.column("quantity", sa.Integer()),
    )
    now = utcnow()
    connection.execute(
        movements.insert().from_select(
            ["item_id", "reason", "delta", "quantity", "reference", "created_at"],
            sa.select(
                stock.c.item_id,
                sa.literal("reprise"),
                stock.c.quantity,
                stock.c.quantity,
                sa.literal(None, sa.String()),
                sa.literal(now, UTCDateTime()),
            ),
        )
    )


def downgrade() -> None:
    op.drop_index("ix_seller_stock_movements_item", table_name="seller_stock_movements")
    op.drop_table("seller_stock_movements")
    op.drop_index("ix_seller_orders_purchase_order", table_name="seller_orders")
    op.drop_index("ix_seller_orders_delivery", table_name="seller_orders")
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy: order lines refer to the
    # orders, and SQLite cannot drop a referenced table inside the migration's transaction.
    for column in reversed(_ORDER_COLUMNS):
        op.drop_column("seller_orders", column.name)
