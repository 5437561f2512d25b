"""Buyer node: delivery sites, multi-pôle carts (their lines, and one row per pôle saying how
far its order got at checkout).

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

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "buyer_delivery_sites",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("postal_code", sa.String(length=8), nullable=True),
        sa.Column("region", sa.String(length=16), nullable=False),
        sa.Column("gps", sa.String(length=64), nullable=True),
        sa.Column("receiving_hours", sa.JSON(), nullable=False),
        sa.Column("contact", sa.JSON(), nullable=True),
        sa.Column("cold_chain", sa.JSON(), nullable=False),
        sa.Column("instructions", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["buyer_organisations.id"],
            name=op.f("fk_buyer_delivery_sites_organisation_id_buyer_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_delivery_sites")),
    )
    with op.batch_alter_table("buyer_delivery_sites", schema=None) as batch_op:
        batch_op.create_index(
            "ix_buyer_delivery_sites_organisation", ["organisation_id"], unique=False
        )

    op.create_table(
        "buyer_carts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("delivery_site_id", sa.String(length=64), nullable=True),
        sa.Column("fulfilment", sa.JSON(), nullable=True),
        sa.Column("delivery_window_start", UTCDateTime(), nullable=True),
        sa.Column("delivery_window_end", UTCDateTime(), nullable=True),
        sa.Column("purchase_order_number", sa.String(length=64), nullable=True),
        sa.Column("payment_type", sa.String(length=32), nullable=True),
        sa.Column("payment_net_days", sa.Integer(), nullable=True),
        sa.Column("billing", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("checked_out_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("state IN ('ouvert', 'commande')", name=op.f("ck_buyer_carts_state")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["buyer_organisations.id"],
            name=op.f("fk_buyer_carts_organisation_id_buyer_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_carts")),
    )
    with op.batch_alter_table("buyer_carts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_buyer_carts_organisation", ["organisation_id", "created_at"], unique=False
        )

    op.create_table(
        "buyer_cart_lines",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("cart_id", sa.String(length=64), nullable=False),
        sa.Column("bpp_id", sa.String(length=255), nullable=False),
        sa.Column("provider_id", sa.String(length=255), nullable=False),
        sa.Column("item_id", sa.String(length=255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("fulfilment_id", sa.String(length=255), nullable=True),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cart_id"], ["buyer_carts.id"], name=op.f("fk_buyer_cart_lines_cart_id_buyer_carts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_cart_lines")),
        sa.UniqueConstraint(
            "cart_id",
            "bpp_id",
            "provider_id",
            "item_id",
            name=op.f("uq_buyer_cart_lines_cart_id_bpp_id_provider_id_item_id"),
        ),
    )
    with op.batch_alter_table("buyer_cart_lines", schema=None) as batch_op:
        batch_op.create_index("ix_buyer_cart_lines_cart", ["cart_id", "id"], unique=False)

    op.create_table(
        "buyer_cart_poles",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("cart_id", sa.String(length=64), nullable=False),
        sa.Column("bpp_id", sa.String(length=255), nullable=False),
        sa.Column("provider_id", sa.String(length=255), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('attente', 'en_cours', 'confirmee', 'echec')",
            name=op.f("ck_buyer_cart_poles_state"),
        ),
        sa.ForeignKeyConstraint(
            ["cart_id"], ["buyer_carts.id"], name=op.f("fk_buyer_cart_poles_cart_id_buyer_carts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_cart_poles")),
        sa.UniqueConstraint(
            "cart_id",
            "bpp_id",
            "provider_id",
            name=op.f("uq_buyer_cart_poles_cart_id_bpp_id_provider_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("buyer_cart_poles")
    with op.batch_alter_table("buyer_cart_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_buyer_cart_lines_cart")
    op.drop_table("buyer_cart_lines")
    with op.batch_alter_table("buyer_carts", schema=None) as batch_op:
        batch_op.drop_index("ix_buyer_carts_organisation")
    op.drop_table("buyer_carts")
    with op.batch_alter_table("buyer_delivery_sites", schema=None) as batch_op:
        batch_op.drop_index("ix_buyer_delivery_sites_organisation")
    op.drop_table("buyer_delivery_sites")
