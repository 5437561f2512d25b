"""Buyer node: order guides — an organisation's saved lists of usual products and quantities,
turned into a cart in one click (buyer.services.guides).

Revision ID: 0009_order_guides
Revises: 0008_portal
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reseau_poles.storage import UTCDateTime

revision: str = "0009_order_guides"
down_revision: str | None = "0008_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "buyer_order_guides",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("delivery_site_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", _ID, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["buyer_organisations.id"],
            name=op.f("fk_buyer_order_guides_organisation_id_buyer_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_order_guides")),
    )
    op.create_index(
        "ix_buyer_order_guides_organisation", "buyer_order_guides", ["organisation_id", "name"]
    )
    op.create_table(
        "buyer_order_guide_lines",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("guide_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("bpp_id", sa.String(length=255), nullable=False),
        sa.Column("provider_id", sa.String(length=255), nullable=False),
        sa.Column("provider_name", sa.String(length=255), nullable=True),
        sa.Column("item_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("fulfilment_id", sa.String(length=255), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_buyer_order_guide_lines_quantity")),
        sa.ForeignKeyConstraint(
            ["guide_id"],
            ["buyer_order_guides.id"],
            name=op.f("fk_buyer_order_guide_lines_guide_id_buyer_order_guides"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_order_guide_lines")),
        sa.UniqueConstraint(
            "guide_id",
            "bpp_id",
            "provider_id",
            "item_id",
            name=op.f("uq_buyer_order_guide_lines_guide_id_bpp_id_provider_id_item_id"),
        ),
    )
    op.create_index(
        "ix_buyer_order_guide_lines_guide", "buyer_order_guide_lines", ["guide_id", "position"]
    )


def downgrade() -> None:
    op.drop_index("ix_buyer_order_guide_lines_guide", table_name="buyer_order_guide_lines")
    op.drop_table("buyer_order_guide_lines")
    op.drop_index("ix_buyer_order_guides_organisation", table_name="buyer_order_guides")
    op.drop_table("buyer_order_guides")
