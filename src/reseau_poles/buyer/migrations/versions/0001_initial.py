"""Buyer node tables: organisations, API keys, searches, callbacks, search results

Revision ID: 0001
Revises:
Create Date: 2026-11-26
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
        "buyer_callbacks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("bpp_id", sa.String(length=255), nullable=False),
        sa.Column("bpp_uri", sa.String(length=2048), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_callbacks")),
        sa.UniqueConstraint(
            "action",
            "bpp_id",
            "message_id",
            name=op.f("uq_buyer_callbacks_action_bpp_id_message_id"),
        ),
    )
    with op.batch_alter_table("buyer_callbacks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_buyer_callbacks_transaction", ["transaction_id", "id"], unique=False
        )

    op.create_table(
        "buyer_organisations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_organisations")),
    )
    op.create_table(
        "buyer_api_keys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["buyer_organisations.id"],
            name=op.f("fk_buyer_api_keys_organisation_id_buyer_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_buyer_api_keys_key_hash")),
    )
    op.create_table(
        "buyer_searches",
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("dispatch", sa.String(length=16), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("via_gateway", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("dispatched_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "dispatch IN ('envoi', 'envoyee', 'echec')", name=op.f("ck_buyer_searches_dispatch")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["buyer_organisations.id"],
            name=op.f("fk_buyer_searches_organisation_id_buyer_organisations"),
        ),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_buyer_searches")),
    )
    with op.batch_alter_table("buyer_searches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_buyer_searches_organisation", ["organisation_id", "created_at"], unique=False
        )

    op.create_table(
        "buyer_search_results",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column(
            "callback_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("bpp_id", sa.String(length=255), nullable=False),
        sa.Column("bpp_uri", sa.String(length=2048), nullable=True),
        sa.Column("provider_id", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["buyer_callbacks.id"],
            name=op.f("fk_buyer_search_results_callback_id_buyer_callbacks"),
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["buyer_searches.transaction_id"],
            name=op.f("fk_buyer_search_results_transaction_id_buyer_searches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_search_results")),
    )
    with op.batch_alter_table("buyer_search_results", schema=None) as batch_op:
        batch_op.create_index(
            "ix_buyer_search_results_transaction", ["transaction_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("buyer_search_results", schema=None) as batch_op:
        batch_op.drop_index("ix_buyer_search_results_transaction")

    op.drop_table("buyer_search_results")
    with op.batch_alter_table("buyer_searches", schema=None) as batch_op:
        batch_op.drop_index("ix_buyer_searches_organisation")

    op.drop_table("buyer_searches")
    op.drop_table("buyer_api_keys")
    op.drop_table("buyer_organisations")
    with op.batch_alter_table("buyer_callbacks", schema=None) as batch_op:
        batch_op.drop_index("ix_buyer_callbacks_transaction")

    op.drop_table("buyer_callbacks")
