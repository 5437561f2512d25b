"""Seller node: webhook secrets are stored encrypted (reseau_poles.participant.webhook_secrets); the
sealed form (version, key id, shown prefix, ciphertext) needs a wider column. The clear
secrets already stored are encrypted by the node at its next start, with the key kept beside
its private keys (an Alembic migration does not know where they are).

Revision ID: 0007_secrets
Revises: 0006_delivery_rules
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_secrets"
down_revision: str | None = "0006_delivery_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("seller_webhooks", schema=None) as batch_op:
        batch_op.alter_column(
            "secret",
            existing_type=sa.String(length=128),
            type_=sa.String(length=255),
            existing_nullable=False,
        )


def downgrade() -> None:
    # Sealed secrets do not fit in 128 characters: SQLite keeps them (it checks no length),
    # PostgreSQL refuses the downgrade while any remains (delete those subscriptions first).
    with op.batch_alter_table("seller_webhooks", schema=None) as batch_op:
        batch_op.alter_column(
            "secret",
            existing_type=sa.String(length=255),
            type_=sa.String(length=128),
            existing_nullable=False,
        )
