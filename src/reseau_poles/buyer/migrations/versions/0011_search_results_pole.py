"""Buyer node: an index on a pôle's search results, newest first — a cart's page, its quote
and each order line read the pôle's catalogue as the organisation last saw it
(``repositories.catalog``); without it, every read walked all of the organisation's results.

Revision ID: 0011_search_results_pole
Revises: 0010_cart_approval
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_search_results_pole"
down_revision: str | None = "0010_cart_approval"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_buyer_search_results_pole",
        "buyer_search_results",
        ["bpp_id", "provider_id", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_buyer_search_results_pole", table_name="buyer_search_results")
