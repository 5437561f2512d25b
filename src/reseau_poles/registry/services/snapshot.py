"""The lookup hot path: an in-process snapshot of every SUBSCRIBED participant's keys.

Lookups never touch the database. The snapshot is rebuilt after every write made by this
process (``invalidate``) and, for writes made by other workers, when the database's revision
counter moves (checked every few seconds by the application). Answers are cached per filter
as ready-to-send bytes, together with the instant they stop being true (the next key that
starts or ends its validity), so a repeated lookup costs a dictionary hit and a signature.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from reseau_poles.protocol.dates import rfc3339
from reseau_poles.protocol.jsonfast import wire
from reseau_poles.protocol.signing import Signer

from ..repositories.lookup import LookupRow
from ..requests import ALL, LookupFilter

_MAX_CACHED_ANSWERS = 50_000
_SIGNATURE_REUSE_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Entry:
    """One key of one participant, ready to be filtered and rendered."""

    subscriber_id: str
    key_id: str
    type: str
    domains: tuple[str, ...]
    domains_folded: frozenset[str]
    regions: tuple[str, ...]
    country: str
    valid_from: float
    valid_until: float
    record: dict[str, Any]
    only_when_named: bool = False  # the registry's own entry: only for type BREG or its id
    # A suspended participant in its grace period: only for a lookup that names it and asks
    # for suspended participants too (``include_suspended``); never for routing.
    suspended: bool = False

    def matches(self, query: LookupFilter, domain_folded: str | None) -> bool:
        if query.subscriber_id is not None and self.subscriber_id != query.subscriber_id:
            return False
        if self.suspended and (query.subscriber_id is None or not query.include_suspended):
            return False
        if query.key_id is not None and self.key_id != query.key_id:
            return False
        if query.type is not None and self.type != query.type:
            return False
        if self.only_when_named and query.type is None and query.subscriber_id is None:
            return False
        if (
            domain_folded is not None
            and domain_folded not in self.domains_folded
            and ALL not in self.domains_folded
        ):
            return False
        if (
            query.region is not None
            and query.region not in self.regions
            and ALL not in self.regions
        ):
            return False
        return query.country is None or self.country == query.country

    def render(self, query: LookupFilter) -> bytes:
        """The JSON element, echoing the domain and region asked for when this entry serves them."""
        record = self.record
        if query.domain is not None or query.region is not None:
            record = dict(record)
            if query.domain is not None:
                folded = query.domain.casefold()
                record["domain"] = next(
                    (d for d in self.domains if d.casefold() == folded), query.domain
                )
            if query.region is not None:
                record["city"] = query.region
                record["location"] = {
                    "city": {"code": query.region},
                    "country": {"code": self.country},
                }
        return wire(record)


def entry_from_row(
    row: LookupRow, *, only_when_named: bool = False, grace: timedelta | None = None
) -> Entry:
    """``grace``: how long a suspended participant's entry lasts after its suspension."""
    domain = row.domains[0] if row.domains else ALL
    city = row.regions[0] if len(row.regions) == 1 else (ALL if ALL in row.regions else None)
    city = city or (row.regions[0] if row.regions else ALL)
    record = {
        "subscriber_id": row.subscriber_id,
        "url": row.url,
        "subscriber_url": row.url,
        "type": row.type,
        "domain": domain,
        "domains": list(row.domains),
        "city": city,
        "regions": list(row.regions),
        "country": row.country,
        "location": {"city": {"code": city}, "country": {"code": row.country}},
        "key_id": row.key_id,
        "ukId": row.key_id,
        "unique_key_id": row.key_id,
        "signing_public_key": row.signing_public_key,
        "encr_public_key": row.encr_public_key,
        "valid_from": rfc3339(row.valid_from),
        "valid_until": rfc3339(row.valid_until),
        "status": row.status,
        "created": rfc3339(row.created),
        "updated": rfc3339(row.updated),
    }
    valid_until = row.valid_until
    if row.suspended_at is not None:
        grace_until = row.suspended_at + (grace or timedelta(0))
        record["suspended_at"] = rfc3339(row.suspended_at)
        record["grace_until"] = rfc3339(grace_until)
        valid_until = min(valid_until, grace_until)  # the entry leaves answers at its end
    return Entry(
        subscriber_id=row.subscriber_id,
        key_id=row.key_id,
        type=row.type,
        domains=row.domains,
        domains_folded=frozenset(d.casefold() for d in row.domains),
        regions=row.regions,
        country=row.country,
        valid_from=row.valid_from.timestamp(),
        valid_until=valid_until.timestamp(),
        record=record,
        only_when_named=only_when_named,
        suspended=row.suspended_at is not None,
    )


@dataclass(slots=True)
class Answer:
    """A cached lookup answer: its candidates, the body valid now, and its last signature."""

    items: list[tuple[Entry, bytes]]
    body: bytes = b"[]"
    count: int = 0
    body_from: float = math.inf
    body_until: float = -math.inf
    signed_at: int = -(10**9)
    signature: str = ""

    def refresh(self, now: float) -> None:
        parts: list[bytes] = []
        next_change = math.inf
        for entry, fragment in self.items:
            if entry.valid_from <= now < entry.valid_until:
                parts.append(fragment)
                next_change = min(next_change, entry.valid_until)
            elif entry.valid_from > now:
                next_change = min(next_change, entry.valid_from)
        self.body = b"[" + b",".join(parts) + b"]"
        self.count = len(parts)
        self.body_from = now
        self.body_until = next_change
        self.signed_at = -(10**9)


@dataclass(slots=True)
class Index:
    revision: int
    generation: int
    entries: list[Entry]
    by_subscriber: dict[str, list[Entry]] = field(default_factory=dict)
    by_type: dict[str, list[Entry]] = field(default_factory=dict)
    answers: dict[tuple[Any, ...], Answer] = field(default_factory=dict)
    built_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        # Newest key first within a participant: the one it most likely signs with.
        self.entries.sort(key=lambda e: (e.subscriber_id, -e.valid_from, e.key_id))
        for entry in self.entries:
            self.by_subscriber.setdefault(entry.subscriber_id, []).append(entry)
            self.by_type.setdefault(entry.type, []).append(entry)

    def candidates(self, query: LookupFilter) -> list[Entry]:
        if query.subscriber_id is not None:
            return self.by_subscriber.get(query.subscriber_id, [])
        if query.type is not None:
            return self.by_type.get(query.type, [])
        return self.entries


Loader = Callable[[], tuple[int, list[Entry]]]


class LookupSnapshot:
    """Owns the current :class:`Index`, rebuilds it when told, answers lookups from it."""

    def __init__(self, loader: Loader, signer: Signer, *, signature_ttl: int = 30) -> None:
        self._loader = loader
        self._signer = signer
        self._signature_ttl = signature_ttl
        self._signature_reuse = min(_SIGNATURE_REUSE_SECONDS, signature_ttl // 3)
        self._index: Index | None = None
        self._wanted = 1  # generation asked for; bumped by every invalidation
        self._lock = asyncio.Lock()
        self.reloads = 0
        self.hits = 0
        self.misses = 0
        self.records_returned = 0

    @property
    def index(self) -> Index | None:
        return self._index

    def invalidate(self) -> None:
        """Called after a write commits (from any thread): the next lookup reloads."""
        self._wanted += 1

    @property
    def stale(self) -> bool:
        return self._index is None or self._index.generation < self._wanted

    def reload_sync(self) -> None:
        generation = self._wanted
        revision, entries = self._loader()
        self._index = Index(revision=revision, generation=generation, entries=entries)
        self.reloads += 1

    async def ensure_fresh(self) -> Index:
        index = self._index
        if index is not None and index.generation >= self._wanted:
            return index
        async with self._lock:
            if self.stale:
                await asyncio.to_thread(self.reload_sync)
            assert self._index is not None
            return self._index

    async def lookup(self, query: LookupFilter) -> tuple[bytes, str, int]:
        """The body bytes, the ``Authorization`` header that signs them, the element count."""
        index = await self.ensure_fresh()
        return self.answer(index, query, time.time())

    def answer(self, index: Index, query: LookupFilter, now: float) -> tuple[bytes, str, int]:
        domain_folded = query.domain.casefold() if query.domain is not None else None
        key = (
            query.subscriber_id,
            query.key_id,
            query.type,
            domain_folded,
            query.domain,
            query.region,
            query.country,
            query.include_suspended,
        )
        answer = index.answers.get(key)
        if answer is None:
            self.misses += 1
            items = [
                (entry, entry.render(query))
                for entry in index.candidates(query)
                if entry.matches(query, domain_folded)
            ]
            answer = Answer(items)
            if len(index.answers) >= _MAX_CACHED_ANSWERS:
                index.answers.clear()
            index.answers[key] = answer
        else:
            self.hits += 1
        if not (answer.body_from <= now < answer.body_until):
            answer.refresh(now)
        second = int(now)
        # One signature serves the same body for a few seconds (its window stays open for
        # ``signature_ttl`` seconds from its ``created``): most lookups skip the Ed25519 step.
        if second - answer.signed_at >= self._signature_reuse:
            answer.signature = self._signer.sign(
                answer.body, created=second, expires=second + self._signature_ttl
            )
            answer.signed_at = second
        self.records_returned += answer.count
        return answer.body, answer.signature, answer.count
