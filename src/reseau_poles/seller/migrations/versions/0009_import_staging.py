"""Seller node: the CSV import's staging rows.

An import validates the file outside any write transaction and writes its products to
``seller_import_rows`` in short batches (one import id each); one short transaction then
applies them to ``seller_items`` / ``seller_stock`` (``INSERT … SELECT``, ``UPDATE … FROM``).
Nothing but the import reads this table.

Revision ID: 0009_import_staging
Revises: 0008_transactions
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reseau_poles.storage import UTCDateTime

revision: str = "0009_import_staging"
down_revision: str | None = "0008_transactions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "seller_import_rows",
        sa.Column("id", _ID, nullable=False),
        sa.Column("import_id", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("item_id", _ID, nullable=True),
        sa.Column("keep_stock", sa.Boolean(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_import_rows")),
    )
    op.create_index(op.f("ix_seller_import_rows_import_id"), "seller_import_rows", ["import_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_seller_import_rows_import_id"), table_name="seller_import_rows")
    op.drop_table("seller_import_rows")
