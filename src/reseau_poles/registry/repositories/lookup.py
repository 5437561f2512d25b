"""What lookups are built from: every (participant, key) pair that may be returned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..tables import KeyStatus, SubscriberStatus, domains, keys, regions, subscribers


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
    s, k = subscribers.c, keys.c
    subscribed = s.status == SubscriberStatus.SUBSCRIBED
    if suspended_since is not None:
        subscribed = or_(
            subscribed,
            and_(s.status == SubscriberStatus.SUSPENDED, s.suspended_at > suspended_since),
        )
    served_domains: dict[str, list[str]] = {}
    for subscriber_id, domain in session.execute(
        select(domains.c.subscriber_id, domains.c.domain)
        .join(subscribers)
        .where(subscribed)
        .order_by(domains.c.subscriber_id, domains.c.position)
    ):
        served_domains.setdefault(subscriber_id, []).append(domain)
    served_regions: dict[str, list[str]] = {}
    for subscriber_id, region in session.execute(
        select(regions.c.subscriber_id, regions.c.region)
        .join(subscribers)
        .where(subscribed)
        .order_by(regions.c.subscriber_id, regions.c.position)
    ):
        served_regions.setdefault(subscriber_id, []).append(region)
    rows = session.execute(
        select(
            s.subscriber_id,
            s.url,
            s.type,
            s.country,
            s.status,
            s.created_at,
            s.updated_at,
            k.key_id,
            k.signing_public_key,
            k.encr_public_key,
            k.valid_from,
            k.valid_until,
            k.updated_at,
            s.suspended_at,
        )
        .join(keys)
        .where(subscribed, k.status == KeyStatus.ACTIVE, k.valid_until > now)
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
            domains=tuple(served_domains.get(r[0], ())),
            regions=tuple(served_regions.get(r[0], ())),
            suspended_at=r[13],
        )
        for r in rows
    ]
