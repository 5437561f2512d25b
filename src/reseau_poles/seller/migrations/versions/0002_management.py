"""Seller node: management API (provider details, catalog fields, API key labels).

The catalog columns the management API needs beyond 0001: a contact person and a web site
for each pôle. (Item images, seasons and API key labels were already in 0001.)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("seller_providers") as batch:
        batch.add_column(sa.Column("contact_name", sa.String(255), nullable=True))
        batch.add_column(sa.Column("website", sa.String(2048), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("seller_providers") as batch:
        batch.drop_column("website")
        batch.drop_column("contact_name")
