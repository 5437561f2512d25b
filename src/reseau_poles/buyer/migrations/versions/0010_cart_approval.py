"""Buyer node: the approval step of carts — an organisation may require that an approver
approves each cart before it is ordered (``requires_approval``); a cart records where its
approval stands, who submitted it, who decided and the comment of a cart sent back.

Revision ID: 0010_cart_approval
Revises: 0009_order_guides
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reseau_poles.storage import UTCDateTime

revision: str = "0010_cart_approval"
down_revision: str | None = "0009_order_guides"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("buyer_organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("requires_approval", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("buyer_carts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("approval", sa.String(length=16), nullable=False, server_default="brouillon")
        )
        batch_op.add_column(sa.Column("submitted_by", _ID, nullable=True))
        batch_op.add_column(sa.Column("submitted_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("decided_by", _ID, nullable=True))
        batch_op.add_column(sa.Column("decided_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("approval_comment", sa.String(length=500), nullable=True))
        batch_op.create_check_constraint(
            "approval", "approval IN ('brouillon', 'soumis', 'renvoye', 'approuve')"
        )


def downgrade() -> None:
    with op.batch_alter_table("buyer_carts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_buyer_carts_approval"), type_="check")
        for column in (
            "approval_comment",
            "decided_at",
            "decided_by",
            "submitted_at",
            "submitted_by",
            "approval",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("buyer_organisations", schema=None) as batch_op:
        batch_op.drop_column("requires_approval")
