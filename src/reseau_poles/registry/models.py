"""The registry's tables. Names start with ``registry_`` so that another role may share the
database.

* ``registry_subscribers``: one row per participant (subscriber id, URL, role, status).
* ``registry_subscriber_domains`` / ``registry_subscriber_regions``: what it serves, one row
  per value, indexed for lookups and statistics.
* ``registry_keys``: its keys, each with its own validity window and status (rotation keeps
  several).
* ``registry_audit``: every change, who made it, before and after.
* ``registry_state``: one row whose ``revision`` grows with every write; the in-process lookup
  snapshots of every worker compare it to know when to reload, and the UPDATE that bumps it
  serialises writers on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from reseau_poles.protocol.dates import rfc3339
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


class SubscriberType(StrEnum):
    BAP = "BAP"
    BPP = "BPP"
    BG = "BG"


class Base(DeclarativeBase):
    metadata = metadata


class Subscriber(Base):
    __tablename__ = "registry_subscribers"

    subscriber_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    type: Mapped[str] = mapped_column(String(8), index=True)
    country: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the operator suspended it (cleared on reactivation): the start of its grace period,
    # shown by lookups that name it so that verifiers can tell which transactions came before.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    domains: Mapped[list[SubscriberDomain]] = relationship(
        cascade="all, delete-orphan", order_by="SubscriberDomain.position", lazy="selectin"
    )
    regions: Mapped[list[SubscriberRegion]] = relationship(
        cascade="all, delete-orphan", order_by="SubscriberRegion.position", lazy="selectin"
    )
    keys: Mapped[list[SubscriberKey]] = relationship(
        back_populates="subscriber",
        cascade="all, delete-orphan",
        order_by="SubscriberKey.id",
        lazy="selectin",
    )

    @property
    def domain_list(self) -> list[str]:
        return [d.domain for d in self.domains]

    @property
    def region_list(self) -> list[str]:
        return [r.region for r in self.regions]

    def key(self, key_id: str) -> SubscriberKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)

    def snapshot(self) -> dict[str, Any]:
        """The JSON kept in the audit log as ``before`` / ``after``."""
        return {
            "subscriber_id": self.subscriber_id,
            "url": self.url,
            "type": self.type,
            "domains": self.domain_list,
            "regions": self.region_list,
            "country": self.country,
            "status": self.status,
            "keys": [k.snapshot() for k in self.keys],
        }


class SubscriberDomain(Base):
    __tablename__ = "registry_subscriber_domains"

    subscriber_id: Mapped[str] = mapped_column(
        ForeignKey("registry_subscribers.subscriber_id", ondelete="CASCADE"), primary_key=True
    )
    domain: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class SubscriberRegion(Base):
    __tablename__ = "registry_subscriber_regions"

    subscriber_id: Mapped[str] = mapped_column(
        ForeignKey("registry_subscribers.subscriber_id", ondelete="CASCADE"), primary_key=True
    )
    region: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class SubscriberKey(Base):
    __tablename__ = "registry_keys"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "key_id"),
        Index("ix_registry_keys_status_valid_until", "status", "valid_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[str] = mapped_column(
        ForeignKey("registry_subscribers.subscriber_id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[str] = mapped_column(String(255), index=True)
    signing_public_key: Mapped[str] = mapped_column(String(128))
    encr_public_key: Mapped[str] = mapped_column(String(128))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=KeyStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    subscriber: Mapped[Subscriber] = relationship(back_populates="keys")

    def valid_at(self, moment: datetime) -> bool:
        return self.status == KeyStatus.ACTIVE and self.valid_from <= moment < self.valid_until

    def snapshot(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "signing_public_key": self.signing_public_key,
            "encr_public_key": self.encr_public_key,
            "valid_from": rfc3339(self.valid_from),
            "valid_until": rfc3339(self.valid_until),
            "status": self.status,
        }


class AuditEntry(Base):
    __tablename__ = "registry_audit"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subscriber_id: Mapped[str | None] = mapped_column(String(255), index=True, nullable=True)
    key_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class RegistryState(Base):
    __tablename__ = "registry_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, default=0)
