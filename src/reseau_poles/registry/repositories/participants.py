"""Participants and their keys, domains and regions: read whole (:class:`Participant`),
written column by column. Lists keep the participant's order (``position``), keys theirs
(``id``: the order they were registered in)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from reseau_poles.protocol.dates import rfc3339

from ..tables import KeyStatus, SubscriberStatus, domains, keys, regions, subscribers


@dataclass(slots=True)
class ParticipantKey:
    """One key of a participant (a row of ``registry_keys``)."""

    id: int
    key_id: str
    signing_public_key: str
    encr_public_key: str
    valid_from: datetime
    valid_until: datetime
    status: str
    created_at: datetime
    updated_at: datetime
    revoked_at: datetime | None = None

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


@dataclass(slots=True)
class Participant:
    """A participant with its domains, regions and keys (of any status)."""

    subscriber_id: str
    url: str
    type: str
    country: str
    status: str
    created_at: datetime
    updated_at: datetime
    suspended_at: datetime | None = None
    domains: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    keys: list[ParticipantKey] = field(default_factory=list)

    def key(self, key_id: str) -> ParticipantKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)

    def snapshot(self) -> dict[str, Any]:
        """The JSON kept in the audit log as ``before`` / ``after``."""
        return {
            "subscriber_id": self.subscriber_id,
            "url": self.url,
            "type": self.type,
            "domains": list(self.domains),
            "regions": list(self.regions),
            "country": self.country,
            "status": self.status,
            "keys": [k.snapshot() for k in self.keys],
        }


# --- reading ------------------------------------------------------------------------------------


def _key(row: Row[Any]) -> ParticipantKey:
    return ParticipantKey(
        id=row.id,
        key_id=row.key_id,
        signing_public_key=row.signing_public_key,
        encr_public_key=row.encr_public_key,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        revoked_at=row.revoked_at,
    )


def _participants(session: Session, rows: Sequence[Row[Any]]) -> list[Participant]:
    """The rows of ``registry_subscribers`` with their domains, regions and keys (one query
    each, whatever the number of participants)."""
    found = {
        row.subscriber_id: Participant(
            subscriber_id=row.subscriber_id,
            url=row.url,
            type=row.type,
            country=row.country,
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
            suspended_at=row.suspended_at,
        )
        for row in rows
    }
    if not found:
        return []
    ids = list(found)
    for subscriber_id, domain in session.execute(
        select(domains.c.subscriber_id, domains.c.domain)
        .where(domains.c.subscriber_id.in_(ids))
        .order_by(domains.c.position)
    ):
        found[subscriber_id].domains.append(domain)
    for subscriber_id, region in session.execute(
        select(regions.c.subscriber_id, regions.c.region)
        .where(regions.c.subscriber_id.in_(ids))
        .order_by(regions.c.position)
    ):
        found[subscriber_id].regions.append(region)
    for row in session.execute(
        select(keys).where(keys.c.subscriber_id.in_(ids)).order_by(keys.c.id)
    ):
        found[row.subscriber_id].keys.append(_key(row))
    return list(found.values())


def get_participant(
    session: Session, subscriber_id: str, *, for_update: bool = False
) -> Participant | None:
    query = select(subscribers).where(subscribers.c.subscriber_id == subscriber_id)
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).one_or_none()
    return None if row is None else _participants(session, [row])[0]


def list_participants(
    session: Session,
    *,
    status: str | None = None,
    type: str | None = None,
    domain: str | None = None,
    region: str | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[Participant]]:
    """A page of participants in ``subscriber_id`` order, and how many match in all."""
    query = select(subscribers)
    if status:
        query = query.where(subscribers.c.status == status.upper())
    if type:
        query = query.where(subscribers.c.type == type.upper())
    if domain:
        query = query.where(
            subscribers.c.subscriber_id.in_(
                select(domains.c.subscriber_id).where(
                    func.lower(domains.c.domain).in_([domain.lower(), "*"])
                )
            )
        )
    if region:
        query = query.where(
            subscribers.c.subscriber_id.in_(
                select(regions.c.subscriber_id).where(regions.c.region.in_([region.upper(), "*"]))
            )
        )
    if search:
        query = query.where(subscribers.c.subscriber_id.contains(search.lower()))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(subscribers.c.subscriber_id).limit(limit).offset(offset)
    ).all()
    return total, _participants(session, rows)


def expiring_keys(session: Session, before: datetime) -> Sequence[Row[Any, Any, Any, Any]]:
    """ACTIVE keys of participants not unsubscribed whose window ends before ``before``,
    soonest first: ``subscriber_id``, ``status`` (the participant's), ``key_id``,
    ``valid_until``."""
    return session.execute(
        select(subscribers.c.subscriber_id, subscribers.c.status, keys.c.key_id, keys.c.valid_until)
        .join(keys)
        .where(
            keys.c.status == KeyStatus.ACTIVE,
            keys.c.valid_until <= before,
            subscribers.c.status != SubscriberStatus.UNSUBSCRIBED,
        )
        .order_by(keys.c.valid_until, subscribers.c.subscriber_id)
    ).all()


# --- writing ------------------------------------------------------------------------------------


def insert_participant(session: Session, participant: Participant) -> None:
    """The participant's row, domains, regions and keys (``participant.keys``' ids are set)."""
    session.execute(
        insert(subscribers).values(
            subscriber_id=participant.subscriber_id,
            url=participant.url,
            type=participant.type,
            country=participant.country,
            status=participant.status,
            created_at=participant.created_at,
            updated_at=participant.updated_at,
            suspended_at=participant.suspended_at,
        )
    )
    set_domains(session, participant.subscriber_id, [], participant.domains)
    set_regions(session, participant.subscriber_id, [], participant.regions)
    for key in participant.keys:
        add_key(session, participant.subscriber_id, key)


def update_participant(session: Session, subscriber_id: str, **values: Any) -> None:
    """Set columns of the participant's row (``url``, ``status``, ``updated_at`` …)."""
    session.execute(
        update(subscribers).where(subscribers.c.subscriber_id == subscriber_id).values(**values)
    )


def set_domains(session: Session, subscriber_id: str, held: list[str], wanted: list[str]) -> None:
    """Make the participant's domains exactly ``wanted`` (in order), touching only what
    changed (replacing the whole list would insert a row before deleting its twin)."""
    _set_list(session, domains, "domain", subscriber_id, held, wanted)


def set_regions(session: Session, subscriber_id: str, held: list[str], wanted: list[str]) -> None:
    _set_list(session, regions, "region", subscriber_id, held, wanted)


def _set_list(
    session: Session,
    table: Table,
    column: str,
    subscriber_id: str,
    held: Iterable[str],
    wanted: list[str],
) -> None:
    held = list(held)
    gone = [value for value in held if value not in wanted]
    if gone:
        session.execute(
            delete(table).where(table.c.subscriber_id == subscriber_id, table.c[column].in_(gone))
        )
    for position, value in enumerate(wanted):
        if value not in held:
            session.execute(
                insert(table).values(
                    {"subscriber_id": subscriber_id, column: value, "position": position}
                )
            )
        else:
            session.execute(
                update(table)
                .where(table.c.subscriber_id == subscriber_id, table.c[column] == value)
                .values(position=position)
            )


def add_key(session: Session, subscriber_id: str, key: ParticipantKey) -> None:
    """Insert ``key`` for the participant; its ``id`` is set to the new row's."""
    key.id = session.execute(
        insert(keys)
        .values(
            subscriber_id=subscriber_id,
            key_id=key.key_id,
            signing_public_key=key.signing_public_key,
            encr_public_key=key.encr_public_key,
            valid_from=key.valid_from,
            valid_until=key.valid_until,
            status=key.status,
            created_at=key.created_at,
            updated_at=key.updated_at,
            revoked_at=key.revoked_at,
        )
        .returning(keys.c.id)
    ).scalar_one()


def update_key(session: Session, key: ParticipantKey, **values: Any) -> None:
    """Set columns of ``key``'s row and the same attributes of ``key``."""
    for name, value in values.items():
        setattr(key, name, value)
    session.execute(update(keys).where(keys.c.id == key.id).values(**values))


def delete_participant(session: Session, subscriber_id: str) -> None:
    """The participant and everything it owns."""
    for table in (keys, domains, regions):
        session.execute(delete(table).where(table.c.subscriber_id == subscriber_id))
    session.execute(delete(subscribers).where(subscribers.c.subscriber_id == subscriber_id))
