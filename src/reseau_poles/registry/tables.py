"""The registry's tables (SQLAlchemy Core). Names start with ``registry_`` so that another
role may share the database; the Alembic revisions in ``migrations/`` create them.

* ``registry_subscribers``: one row per participant (subscriber id, URL, role, status).
* ``registry_subscriber_domains`` / ``registry_subscriber_regions``: what it serves, one row
  per value, in the participant's order (``position``), indexed for lookups and statistics.
* ``registry_keys``: its keys, each with its own validity window and status (rotation keeps
  several).
* ``registry_audit``: every change, who made it, before and after.
* ``registry_state``: one row whose ``revision`` grows with every write; the in-process lookup
  snapshots of every worker compare it to know when to reload, and the UPDATE that bumps it
  serialises writers on PostgreSQL.
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from reseau_poles.storage import UTCDateTime, make_metadata, utcnow

metadata = make_metadata()


class SubscriberStatus(StrEnum):
    INITIATED = "INITIATED"  # record received, challenge not yet answered (never stored)
    UNDER_SUBSCRIPTION = "UNDER_SUBSCRIPTION"  # challenge passed, waiting for the operator
    SUBSCRIBED = "SUBSCRIBED"
    SUSPENDED = "SUSPENDED"
    UNSUBSCRIBED = "UNSUBSCRIBED"


class KeyStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


def _participant() -> sa.ForeignKey:
    return sa.ForeignKey("registry_subscribers.subscriber_id", ondelete="CASCADE")


subscribers = sa.Table(
    "registry_subscribers",
    metadata,
    sa.Column("subscriber_id", sa.String(255), primary_key=True),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("type", sa.String(8), nullable=False, index=True),
    sa.Column("country", sa.String(3), nullable=False),
    sa.Column("status", sa.String(32), nullable=False, index=True),
    sa.Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    sa.Column("updated_at", UTCDateTime(), nullable=False, default=utcnow),
    # When the operator suspended it (cleared on reactivation): the start of its grace period,
    # shown by lookups that name it so that verifiers can tell which transactions came before.
    sa.Column("suspended_at", UTCDateTime(), nullable=True),
)

domains = sa.Table(
    "registry_subscriber_domains",
    metadata,
    sa.Column("subscriber_id", sa.String(255), _participant(), primary_key=True),
    sa.Column("domain", sa.String(128), primary_key=True, index=True),
    sa.Column("position", sa.Integer(), nullable=False, default=0),
)

regions = sa.Table(
    "registry_subscriber_regions",
    metadata,
    sa.Column("subscriber_id", sa.String(255), _participant(), primary_key=True),
    sa.Column("region", sa.String(16), primary_key=True, index=True),
    sa.Column("position", sa.Integer(), nullable=False, default=0),
)

keys = sa.Table(
    "registry_keys",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("subscriber_id", sa.String(255), _participant(), nullable=False, index=True),
    sa.Column("key_id", sa.String(255), nullable=False, index=True),
    sa.Column("signing_public_key", sa.String(128), nullable=False),
    sa.Column("encr_public_key", sa.String(128), nullable=False),
    sa.Column("valid_from", UTCDateTime(), nullable=False),
    sa.Column("valid_until", UTCDateTime(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default=KeyStatus.ACTIVE),
    sa.Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    sa.Column("updated_at", UTCDateTime(), nullable=False, default=utcnow),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("subscriber_id", "key_id"),
    sa.Index("ix_registry_keys_status_valid_until", "status", "valid_until"),
)

audit = sa.Table(
    "registry_audit",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("at", UTCDateTime(), nullable=False, default=utcnow, index=True),
    sa.Column("actor", sa.String(300), nullable=False),
    sa.Column("action", sa.String(64), nullable=False, index=True),
    sa.Column("subscriber_id", sa.String(255), nullable=True, index=True),
    sa.Column("key_id", sa.String(255), nullable=True),
    sa.Column("before", sa.JSON(), nullable=True),
    sa.Column("after", sa.JSON(), nullable=True),
    sa.Column("reason", sa.Text(), nullable=True),
)

state = sa.Table(
    "registry_state",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("revision", sa.BigInteger(), nullable=False, default=0),
)
