"""Seller node: the CSV imports started from the pôle's pages — the file kept between its
preview and its confirmation, then the import's progress and report
(reseau_poles.seller.services.import_jobs).

Revision ID: 0011_portal_imports
Revises: 0010_portal
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reseau_poles.storage import UTCDateTime

revision: str = "0011_portal_imports"
down_revision: str | None = "0010_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "seller_portal_imports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["seller_providers.id"],
            name=op.f("fk_seller_portal_imports_provider_id_seller_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_portal_imports")),
    )
    op.create_index(
        "ix_seller_portal_imports_provider",
        "seller_portal_imports",
        ["provider_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_seller_portal_imports_provider", table_name="seller_portal_imports")
    op.drop_table("seller_portal_imports")
