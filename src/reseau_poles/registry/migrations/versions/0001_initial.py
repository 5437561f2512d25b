"""Registry tables: subscribers, domains, regions, keys, audit log, state.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
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
        "registry_subscribers",
        sa.Column("subscriber_id", sa.String(255), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subscriber_id", name=op.f("pk_registry_subscribers")),
    )
    op.create_index(op.f("ix_registry_subscribers_status"), "registry_subscribers", ["status"])
    op.create_index(op.f("ix_registry_subscribers_type"), "registry_subscribers", ["type"])

    for table, column, length in (
        ("registry_subscriber_domains", "domain", 128),
        ("registry_subscriber_regions", "region", 16),
    ):
        op.create_table(
            table,
            sa.Column("subscriber_id", sa.String(255), nullable=False),
            sa.Column(column, sa.String(length), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["subscriber_id"],
                ["registry_subscribers.subscriber_id"],
                name=op.f(f"fk_{table}_subscriber_id_registry_subscribers"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("subscriber_id", column, name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])

    op.create_table(
        "registry_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscriber_id", sa.String(255), nullable=False),
        sa.Column("key_id", sa.String(255), nullable=False),
        sa.Column("signing_public_key", sa.String(128), nullable=False),
        sa.Column("encr_public_key", sa.String(128), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["registry_subscribers.subscriber_id"],
            name=op.f("fk_registry_keys_subscriber_id_registry_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_keys")),
        sa.UniqueConstraint(
            "subscriber_id", "key_id", name=op.f("uq_registry_keys_subscriber_id_key_id")
        ),
    )
    op.create_index(op.f("ix_registry_keys_subscriber_id"), "registry_keys", ["subscriber_id"])
    op.create_index(op.f("ix_registry_keys_key_id"), "registry_keys", ["key_id"])
    op.create_index(
        "ix_registry_keys_status_valid_until", "registry_keys", ["status", "valid_until"]
    )

    op.create_table(
        "registry_audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subscriber_id", sa.String(255), nullable=True),
        sa.Column("key_id", sa.String(255), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_audit")),
    )
    op.create_index(op.f("ix_registry_audit_at"), "registry_audit", ["at"])
    op.create_index(op.f("ix_registry_audit_action"), "registry_audit", ["action"])
    op.create_index(op.f("ix_registry_audit_subscriber_id"), "registry_audit", ["subscriber_id"])

    state = op.create_table(
        "registry_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_state")),
    )
    op.bulk_insert(state, [{"id": 1, "revision": 0}])


def downgrade() -> None:
    op.drop_table("registry_state")
    op.drop_table("registry_audit")
    op.drop_table("registry_keys")
    op.drop_table("registry_subscriber_regions")
    op.drop_table("registry_subscriber_domains")
    op.drop_table("registry_subscribers")
