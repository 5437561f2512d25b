"""Seller node: the portal's people — their accounts (e-mail, argon2 hash, roles), their
sessions, failed sign-ins (rate limit) and the audit of what each did
(reseau_poles.portal.accounts).

Revision ID: 0010_portal
Revises: 0009_import_staging
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reseau_poles.storage import UTCDateTime

revision: str = "0010_portal"
down_revision: str | None = "0009_import_staging"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "seller_portal_users",
        sa.Column("id", _ID, nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("roles", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["seller_providers.id"],
            name=op.f("fk_seller_portal_users_organisation_id_seller_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_portal_users")),
        sa.UniqueConstraint("email", name=op.f("uq_seller_portal_users_email")),
    )
    op.create_index(
        "ix_seller_portal_users_organisation", "seller_portal_users", ["organisation_id"]
    )
    op.create_table(
        "seller_portal_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["seller_portal_users.id"],
            name=op.f("fk_seller_portal_sessions_user_id_seller_portal_users"),
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_seller_portal_sessions")),
    )
    op.create_index("ix_seller_portal_sessions_user", "seller_portal_sessions", ["user_id"])
    op.create_index(
        "ix_seller_portal_sessions_expires_at", "seller_portal_sessions", ["expires_at"]
    )
    op.create_table(
        "seller_portal_login_failures",
        sa.Column("id", _ID, nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_portal_login_failures")),
    )
    op.create_index(
        "ix_seller_portal_login_failures_key", "seller_portal_login_failures", ["key", "at"]
    )
    op.create_table(
        "seller_portal_audit",
        sa.Column("id", _ID, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("organisation_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_portal_audit")),
    )
    op.create_index(
        "ix_seller_portal_audit_organisation", "seller_portal_audit", ["organisation_id", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_seller_portal_audit_organisation", table_name="seller_portal_audit")
    op.drop_table("seller_portal_audit")
    op.drop_index("ix_seller_portal_login_failures_key", table_name="seller_portal_login_failures")
    op.drop_table("seller_portal_login_failures")
    op.drop_index("ix_seller_portal_sessions_expires_at", table_name="seller_portal_sessions")
    op.drop_index("ix_seller_portal_sessions_user", table_name="seller_portal_sessions")
    op.drop_table("seller_portal_sessions")
    op.drop_index("ix_seller_portal_users_organisation", table_name="seller_portal_users")
    op.drop_table("seller_portal_users")
