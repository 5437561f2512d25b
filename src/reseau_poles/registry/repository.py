"""The registry's queries. Functions take a ``Session`` inside a unit of work opened by the
service (``storage.write_session`` / ``read_session``); none commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from .models import (
    AuditEntry,
    KeyStatus,
    RegistryState,
    Subscriber,
    SubscriberDomain,
    SubscriberKey,
    SubscriberRegion,
    SubscriberStatus,
)


def bump_revision(session: Session) -> int:
    """Mark a write. First statement of every write transaction: on PostgreSQL the row lock it
    takes makes concurrent writers wait for each other (SQLite has BEGIN IMMEDIATE)."""
    session.execute(
        update(RegistryState)
        .where(RegistryState.id == 1)
        .values(revision=RegistryState.revision + 1)
    )
    return read_revision(session)


def read_revision(session: Session) -> int:
    return session.scalar(select(RegistryState.revision).where(RegistryState.id == 1)) or 0


def get_subscriber(
    session: Session, subscriber_id: str, *, for_update: bool = False
) -> Subscriber | None:
    query = select(Subscriber).where(Subscriber.subscriber_id == subscriber_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def sync_domains(subscriber: Subscriber, domains: list[str]) -> None:
    """Make the subscriber's domains exactly ``domains`` (in order), touching only what changed
    (replacing the whole list would insert a row before deleting its twin: a key conflict)."""
    _sync(subscriber.domains, domains, "domain", SubscriberDomain)


def sync_regions(subscriber: Subscriber, regions: list[str]) -> None:
    _sync(subscriber.regions, regions, "region", SubscriberRegion)


def _sync(rows: list[Any], wanted: list[str], attribute: str, model: type[Any]) -> None:
    existing = {getattr(row, attribute): row for row in rows}
    for row in list(rows):
        if getattr(row, attribute) not in wanted:
            rows.remove(row)
    for position, value in enumerate(wanted):
        row = existing.get(value)
        if row is None:
            rows.append(model(**{attribute: value, "position": position}))
        else:
            row.position = position


def add_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    subscriber_id: str | None,
    at: datetime,
    key_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        subscriber_id=subscriber_id,
        key_id=key_id,
        before=before,
        after=after,
        reason=reason,
    )
    session.add(entry)
    return entry


def list_subscribers(
    session: Session,
    *,
    status: str | None = None,
    type: str | None = None,
    domain: str | None = None,
    region: str | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[Subscriber]]:
    query = select(Subscriber)
    if status:
        query = query.where(Subscriber.status == status.upper())
    if type:
        query = query.where(Subscriber.type == type.upper())
    if domain:
        query = query.where(
            Subscriber.subscriber_id.in_(
                select(SubscriberDomain.subscriber_id).where(
                    func.lower(SubscriberDomain.domain).in_([domain.lower(), "*"])
                )
            )
        )
    if region:
        query = query.where(
            Subscriber.subscriber_id.in_(
                select(SubscriberRegion.subscriber_id).where(
                    SubscriberRegion.region.in_([region.upper(), "*"])
                )
            )
        )
    if search:
        query = query.where(Subscriber.subscriber_id.contains(search.lower()))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Subscriber.subscriber_id).limit(limit).offset(offset)
    ).all()
    return total, list(rows)


def audit_entries(
    session: Session,
    *,
    subscriber_id: str | None = None,
    action: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditEntry]:
    query = select(AuditEntry)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if subscriber_id:
        query = query.where(AuditEntry.subscriber_id == subscriber_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)).all())


def statistics(session: Session) -> dict[str, Any]:
    """Participants per status, and SUBSCRIBED ones per role, domain and region."""
    subscribed = Subscriber.status == SubscriberStatus.SUBSCRIBED

    def pairs(rows: Iterable[Any]) -> dict[str, int]:
        return {str(name): int(count) for name, count in rows}

    return {
        "by_status": pairs(
            session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status))
        ),
        "by_type": pairs(
            session.execute(
                select(Subscriber.type, func.count()).where(subscribed).group_by(Subscriber.type)
            )
        ),
        "by_domain": pairs(
            session.execute(
                select(SubscriberDomain.domain, func.count())
                .join(Subscriber)
                .where(subscribed)
                .group_by(SubscriberDomain.domain)
            )
        ),
        "by_region": pairs(
            session.execute(
                select(SubscriberRegion.region, func.count())
                .join(Subscriber)
                .where(subscribed)
                .group_by(SubscriberRegion.region)
            )
        ),
        "keys": pairs(
            session.execute(
                select(SubscriberKey.status, func.count()).group_by(SubscriberKey.status)
            )
        ),
    }


@dataclass(frozen=True, slots=True)
class LookupRow:
    """One (subscriber, key) pair that lookups may return."""

    subscriber_id: str
    url: str
    type: str
    country: str
    status: str
    created: datetime
    updated: datetime
    key_id: str
    signing_public_key: str
    encr_public_key: str
    valid_from: datetime
    valid_until: datetime
    domains: tuple[str, ...]
    regions: tuple[str, ...]
    suspended_at: datetime | None = None


def lookup_rows(
    session: Session, now: datetime, suspended_since: datetime | None = None
) -> list[LookupRow]:
    """Every SUBSCRIBED participant's ACTIVE keys that are not over yet, and those of the
    participants SUSPENDED after ``suspended_since`` (still in their grace period; none when
    it is ``None``). Three indexed queries, whatever the number of participants."""
    subscribed = Subscriber.status == SubscriberStatus.SUBSCRIBED
    if suspended_since is not None:
        subscribed = or_(
            subscribed,
            and_(
                Subscriber.status == SubscriberStatus.SUSPENDED,
                Subscriber.suspended_at > suspended_since,
            ),
        )
    domains: dict[str, list[str]] = {}
    for subscriber_id, domain in session.execute(
        select(SubscriberDomain.subscriber_id, SubscriberDomain.domain)
        .join(Subscriber)
        .where(subscribed)
        .order_by(SubscriberDomain.subscriber_id, SubscriberDomain.position)
    ):
        domains.setdefault(subscriber_id, []).append(domain)
    regions: dict[str, list[str]] = {}
    for subscriber_id, region in session.execute(
        select(SubscriberRegion.subscriber_id, SubscriberRegion.region)
        .join(Subscriber)
        .where(subscribed)
        .order_by(SubscriberRegion.subscriber_id, SubscriberRegion.position)
    ):
        regions.setdefault(subscriber_id, []).append(region)
    rows = session.execute(
        select(
            Subscriber.subscriber_id,
            Subscriber.url,
            Subscriber.type,
            Subscriber.country,
            Subscriber.status,
            Subscriber.created_at,
            Subscriber.updated_at,
            SubscriberKey.key_id,
            SubscriberKey.signing_public_key,
            SubscriberKey.encr_public_key,
            SubscriberKey.valid_from,
            SubscriberKey.valid_until,
            SubscriberKey.updated_at,
            Subscriber.suspended_at,
        )
        .join(SubscriberKey)
        .where(
            subscribed,
            SubscriberKey.status == KeyStatus.ACTIVE,
            SubscriberKey.valid_until > now,
        )
    )
    return [
        LookupRow(
            subscriber_id=r[0],
            url=r[1],
            type=r[2],
            country=r[3],
            status=r[4],
            created=r[5],
            updated=max(r[6], r[12]),
            key_id=r[7],
            signing_public_key=r[8],
            encr_public_key=r[9],
            valid_from=r[10],
            valid_until=r[11],
            domains=tuple(domains.get(r[0], ())),
            regions=tuple(regions.get(r[0], ())),
            suspended_at=r[13],
        )
        for r in rows
    ]


def count_subscribers(session: Session) -> dict[str, int]:
    return {
        str(status): int(count)
        for status, count in session.execute(
            select(Subscriber.status, func.count()).group_by(Subscriber.status)
        )
    }
