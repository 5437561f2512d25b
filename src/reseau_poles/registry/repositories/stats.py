"""Counts: participants per status, and SUBSCRIBED ones per role, domain and region."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..tables import SubscriberStatus, domains, keys, regions, subscribers


def _pairs(rows: Iterable[Any]) -> dict[str, int]:
    return {str(name): int(count) for name, count in rows}


def statistics(session: Session) -> dict[str, Any]:
    subscribed = subscribers.c.status == SubscriberStatus.SUBSCRIBED
    return {
        "by_status": count_subscribers(session),
        "by_type": _pairs(
            session.execute(
                select(subscribers.c.type, func.count())
                .where(subscribed)
                .group_by(subscribers.c.type)
            )
        ),
        "by_domain": _pairs(
            session.execute(
                select(domains.c.domain, func.count())
                .join(subscribers)
                .where(subscribed)
                .group_by(domains.c.domain)
            )
        ),
        "by_region": _pairs(
            session.execute(
                select(regions.c.region, func.count())
                .join(subscribers)
                .where(subscribed)
                .group_by(regions.c.region)
            )
        ),
        "keys": _pairs(
            session.execute(select(keys.c.status, func.count()).group_by(keys.c.status))
        ),
    }


def count_subscribers(session: Session) -> dict[str, int]:
    """Participants per status."""
    return _pairs(
        session.execute(select(subscribers.c.status, func.count()).group_by(subscribers.c.status))
    )
