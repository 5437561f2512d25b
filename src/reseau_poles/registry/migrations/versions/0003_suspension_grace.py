"""When a participant was suspended: the start of its grace period.

Revision ID: 0003_suspension_grace
Revises: 0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reseau_poles.storage import UTCDateTime

revision: str = "0003_suspension_grace"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("registry_subscribers", sa.Column("suspended_at", UTCDateTime(), nullable=True))
    # Participants suspended before this column existed: their grace counts from their last
    # change (the suspension, unless an update followed it).
    op.execute(
        sa.text(
            "UPDATE registry_subscribers SET suspended_at = updated_at WHERE status = 'SUSPENDED'"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("registry_subscribers") as batch:
        batch.drop_column("suspended_at")
