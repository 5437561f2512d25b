"""Buyer node: orders, their lines (price, taxes, certification and origin snapshot), their
history (every state change and its time) and the organisations' webhook subscriptions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reseau_poles.storage import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "buyer_webhooks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("event_types", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_webhooks")),
    )
    with op.batch_alter_table("buyer_webhooks", schema=None) as batch_op:
        batch_op.create_index("ix_buyer_webhooks_owner", ["owner_id"], unique=False)

    op.create_table(
        "buyer_orders",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("bpp_id", sa.String(length=255), nullable=False),
        sa.Column("bpp_uri", sa.String(length=2048), nullable=True),
        sa.Column("provider_id", sa.String(length=255), nullable=False),
        sa.Column("provider_name", sa.String(length=255), nullable=True),
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.Column("city_code", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("lifecycle", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("seller_order_id", sa.String(length=255), nullable=True),
        sa.Column("fulfillment_id", sa.String(length=255), nullable=True),
        sa.Column("fulfillment_type", sa.String(length=32), nullable=True),
        sa.Column("fulfillment_state", sa.String(length=32), nullable=True),
        sa.Column("pending_action", sa.String(length=16), nullable=True),
        sa.Column("pending_message_id", sa.String(length=64), nullable=True),
        sa.Column("pending_since", UTCDateTime(), nullable=True),
        sa.Column("dispatch", sa.String(length=16), nullable=True),
        sa.Column("last_error", sa.JSON(), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.Column("quote", sa.JSON(), nullable=True),
        sa.Column("tracking", sa.JSON(), nullable=True),
        sa.Column("support", sa.JSON(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("billing", sa.JSON(), nullable=True),
        sa.Column("payment_type", sa.String(length=32), nullable=True),
        sa.Column("payment_net_days", sa.Integer(), nullable=True),
        sa.Column("purchase_order_number", sa.String(length=64), nullable=True),
        sa.Column("delivery_site_id", sa.String(length=64), nullable=True),
        sa.Column("cart_id", sa.String(length=64), nullable=True),
        sa.Column("delivery_window_start", UTCDateTime(), nullable=True),
        sa.Column("delivery_window_end", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "dispatch IN ('envoi', 'envoyee', 'echec')", name=op.f("ck_buyer_orders_dispatch")
        ),
        sa.CheckConstraint(
            "state IN ('new', 'selected', 'initialized', 'confirmed', 'completed', 'cancelled')",
            name=op.f("ck_buyer_orders_state"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["buyer_organisations.id"],
            name=op.f("fk_buyer_orders_organisation_id_buyer_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_orders")),
    )
    with op.batch_alter_table("buyer_orders", schema=None) as batch_op:
        batch_op.create_index("ix_buyer_orders_cart", ["cart_id"], unique=False)
        batch_op.create_index(
            "ix_buyer_orders_organisation", ["organisation_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_buyer_orders_organisation_state", ["organisation_id", "state"], unique=False
        )
        batch_op.create_index("ix_buyer_orders_provider", ["bpp_id", "provider_id"], unique=False)

    op.create_table(
        "buyer_order_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column(
            "callback_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("state_from", sa.String(length=32), nullable=True),
        sa.Column("state_to", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["buyer_callbacks.id"],
            name=op.f("fk_buyer_order_events_callback_id_buyer_callbacks"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["buyer_orders.id"],
            name=op.f("fk_buyer_order_events_order_id_buyer_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_order_events")),
    )
    with op.batch_alter_table("buyer_order_events", schema=None) as batch_op:
        batch_op.create_index("ix_buyer_order_events_order", ["order_id", "id"], unique=False)

    op.create_table(
        "buyer_order_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("taxable", sa.Boolean(), nullable=True),
        sa.Column("tps", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("tvq", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("certifications", sa.JSON(), nullable=True),
        sa.Column("origin_region", sa.String(length=16), nullable=True),
        sa.Column("producer", sa.String(length=255), nullable=True),
        sa.Column("conservation", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["buyer_orders.id"],
            name=op.f("fk_buyer_order_lines_order_id_buyer_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_order_lines")),
        sa.UniqueConstraint(
            "order_id", "item_id", name=op.f("uq_buyer_order_lines_order_id_item_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("buyer_order_lines")
    with op.batch_alter_table("buyer_order_events", schema=None) as batch_op:
        batch_op.drop_index("ix_buyer_order_events_order")

    op.drop_table("buyer_order_events")
    with op.batch_alter_table("buyer_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_buyer_orders_provider")
        batch_op.drop_index("ix_buyer_orders_organisation_state")
        batch_op.drop_index("ix_buyer_orders_organisation")
        batch_op.drop_index("ix_buyer_orders_cart")

    op.drop_table("buyer_orders")
    with op.batch_alter_table("buyer_webhooks", schema=None) as batch_op:
        batch_op.drop_index("ix_buyer_webhooks_owner")

    op.drop_table("buyer_webhooks")
