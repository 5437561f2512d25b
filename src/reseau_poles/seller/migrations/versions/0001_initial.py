"""Seller node tables: providers, locations, items, stock, fulfilment options, orders,
order lines and events, provider API keys.

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


def upgrade() -> None:
    op.create_table(
        "seller_providers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("short_desc", sa.Text(), nullable=True),
        sa.Column("legal_form", sa.String(length=16), nullable=False),
        sa.Column("neq", sa.String(length=10), nullable=True),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("served_regions", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("opening_hours", sa.String(length=255), nullable=True),
        sa.Column("payment_types", sa.String(length=255), nullable=False),
        sa.Column("net_days", sa.Integer(), nullable=True),
        sa.Column("cancellation_fee_percentage", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "legal_form IN ('obnl', 'cooperative')", name=op.f("ck_seller_providers_legal_form")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_providers")),
    )
    op.create_table(
        "seller_api_keys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["seller_providers.id"],
            name=op.f("fk_seller_api_keys_provider_id_seller_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_seller_api_keys_key_hash")),
    )
    op.create_table(
        "seller_fulfillment_options",
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("regions", sa.String(length=255), nullable=False),
        sa.Column("fee", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("fee_taxable", sa.Boolean(), nullable=False),
        sa.Column("lead_time_hours", sa.Integer(), nullable=False),
        sa.Column("cold_chain", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "type IN ('livraison', 'cueillette', 'point_de_chute')",
            name=op.f("ck_seller_fulfillment_options_type"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["seller_providers.id"],
            name=op.f("fk_seller_fulfillment_options_provider_id_seller_providers"),
        ),
        sa.PrimaryKeyConstraint("provider_id", "id", name=op.f("pk_seller_fulfillment_options")),
    )
    op.create_table(
        "seller_items",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("short_desc", sa.Text(), nullable=True),
        sa.Column("long_desc", sa.Text(), nullable=True),
        sa.Column("name_en", sa.String(length=255), nullable=True),
        sa.Column("short_desc_en", sa.Text(), nullable=True),
        sa.Column("category_id", sa.String(length=64), nullable=False),
        sa.Column("category_name", sa.String(length=255), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("pack_size", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("minimum_quantity", sa.Integer(), nullable=False),
        sa.Column("maximum_quantity", sa.Integer(), nullable=True),
        sa.Column("taxable", sa.Boolean(), nullable=False),
        sa.Column("certifications", sa.String(length=512), nullable=False),
        sa.Column("conservation", sa.String(length=16), nullable=False),
        sa.Column("producer", sa.String(length=255), nullable=True),
        sa.Column("origin_region", sa.String(length=8), nullable=True),
        sa.Column("season_months", sa.String(length=64), nullable=True),
        sa.Column("image_url", sa.String(length=2048), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("name_normalized", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "conservation IN ('ambiant', 'refrigere', 'congele')",
            name=op.f("ck_seller_items_conservation"),
        ),
        sa.CheckConstraint("minimum_quantity >= 1", name=op.f("ck_seller_items_minimum_quantity")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_seller_items_price_positive")),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["seller_providers.id"],
            name=op.f("fk_seller_items_provider_id_seller_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_items")),
        sa.UniqueConstraint("provider_id", "sku", name=op.f("uq_seller_items_provider_id_sku")),
    )
    op.create_index(
        "ix_seller_items_listing", "seller_items", ["provider_id", "name_normalized"], unique=False
    )
    op.create_table(
        "seller_locations",
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("gps", sa.String(length=64), nullable=True),
        sa.Column("address", sa.String(length=512), nullable=True),
        sa.Column("city", sa.String(length=128), nullable=True),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("postal_code", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["seller_providers.id"],
            name=op.f("fk_seller_locations_provider_id_seller_providers"),
        ),
        sa.PrimaryKeyConstraint("provider_id", "id", name=op.f("pk_seller_locations")),
    )
    op.create_table(
        "seller_orders",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("bap_id", sa.String(length=255), nullable=False),
        sa.Column("bap_uri", sa.String(length=2048), nullable=False),
        sa.Column("transaction_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fulfillment_id", sa.String(length=64), nullable=False),
        sa.Column("fulfillment_type", sa.String(length=32), nullable=False),
        sa.Column("fulfillment_state", sa.String(length=32), nullable=False),
        sa.Column("payment_type", sa.String(length=32), nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('ACTIVE', 'COMPLETE', 'CANCELLED')", name=op.f("ck_seller_orders_status")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["seller_providers.id"],
            name=op.f("fk_seller_orders_provider_id_seller_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_orders")),
        sa.UniqueConstraint(
            "bap_id", "transaction_id", name=op.f("uq_seller_orders_bap_id_transaction_id")
        ),
    )
    op.create_index(
        "ix_seller_orders_provider", "seller_orders", ["provider_id", "created_at"], unique=False
    )
    op.create_table(
        "seller_order_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["seller_orders.id"],
            name=op.f("fk_seller_order_events_order_id_seller_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_order_events")),
    )
    op.create_index(
        "ix_seller_order_events_order", "seller_order_events", ["order_id", "id"], unique=False
    )
    op.create_table(
        "seller_order_lines",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("tps", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("tvq", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_seller_order_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["seller_items.id"],
            name=op.f("fk_seller_order_lines_item_id_seller_items"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["seller_orders.id"],
            name=op.f("fk_seller_order_lines_order_id_seller_orders"),
        ),
        sa.PrimaryKeyConstraint("order_id", "line_no", name=op.f("pk_seller_order_lines")),
    )
    op.create_table(
        "seller_stock",
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_seller_stock_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["seller_items.id"], name=op.f("fk_seller_stock_item_id_seller_items")
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_seller_stock")),
    )


def downgrade() -> None:
    op.drop_table("seller_stock")
    op.drop_table("seller_order_lines")
    op.drop_index("ix_seller_order_events_order", table_name="seller_order_events")
    op.drop_table("seller_order_events")
    op.drop_index("ix_seller_orders_provider", table_name="seller_orders")
    op.drop_table("seller_orders")
    op.drop_table("seller_locations")
    op.drop_index("ix_seller_items_listing", table_name="seller_items")
    op.drop_table("seller_items")
    op.drop_table("seller_fulfillment_options")
    op.drop_table("seller_api_keys")
    op.drop_table("seller_providers")
