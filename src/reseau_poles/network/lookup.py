"""Registry lookup client with a cache: who holds this key, who serves this domain and region.

Every inbound message needs the signer's public key, so the cache sits on the hot path.
Rules (PROTOCOL.md):

* entries live at most ``ttl`` seconds (60 by default) so a suspension reaches every node
  within a minute even without the registry watch (below), and never past the key's
  ``valid_until``;
* concurrent misses for the same entry make one registry call (single flight);
* an entry still in use in its last ``refresh_ahead`` seconds (a fifth of the ttl by default)
  is fetched again in the background while it keeps serving: a busy node's keys are renewed
  before they expire, so no message waits for the registry at each ttl (25 sellers would
  otherwise all look the buyer up again in the same second, every minute);
* the registry signs its answers; an answer whose signature does not verify against the
  registry's key (configured, or fetched once from its well-known document and pinned) is
  treated as no answer at all;
* when the registry is down, cached entries keep serving until they expire, then lookups fail
  with :class:`RegistryUnavailable`, which the inbound pipeline turns into a clean 401;
* key lookups ask for suspended participants too (``include_suspended``): during its grace
  period a suspended participant's key comes back marked SUSPENDED, with ``suspended_at`` and
  ``grace_until``, so that the orders it had under way can be finished (the inbound pipeline
  and the node decide what it may still do). An answer without a SUBSCRIBED record lives the
  negative ttl, like an empty one: a reactivation is seen as soon as a suspension;
* :meth:`RegistryLookup.watch` polls the registry's ``/revision`` every few seconds and drops
  the cache when it moved: a suspension, a reactivation or a revocation reaches the node within
  that interval instead of the ttl.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from ..protocol.errors import SignatureError
from ..protocol.jsonfast import wire
from ..protocol.signing import AUTHORIZATION, KeyValidity, verify
from .registry_client import unreachable
from .settings import NetworkSettings

WELL_KNOWN_PATH = "/.well-known/reseau-poles/registry.json"
REVISION_PATH = "/revision"
SUBSCRIBED = "SUBSCRIBED"
SUSPENDED = "SUSPENDED"

log = logging.getLogger("reseau_poles.network")


class RegistryError(Exception):
    """A lookup that gave no usable key. ``reason`` is a short word for logs and metrics."""

    reason = "registry_error"


class RegistryUnavailable(RegistryError):
    """The registry did not answer, or answered something we cannot trust."""

    reason = "registry_unavailable"


class KeyNotFound(RegistryError):
    """The registry answered, and it knows no valid key by that subscriber and key id."""

    reason = "unknown_key"


def parse_time(value: Any) -> float | None:
    """RFC 3339 (``…Z`` or an offset) or unix seconds to unix seconds; naive means UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    return None


def format_time(seconds: float | None) -> str:
    """Unix seconds as RFC 3339 UTC (``2026-12-07T14:05:00Z``), for messages; ``?`` for none."""
    if seconds is None:
        return "?"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class SubscriberRecord:
    """One element of a lookup answer, read tolerantly (Beckn 1.1 and ONDC field names)."""

    subscriber_id: str
    url: str | None
    type: str | None
    domain: str | None
    key_id: str | None
    signing_public_key: str | None
    encr_public_key: str | None
    valid_from: float | None
    valid_until: float | None
    status: str | None
    city: str | None = None
    country: str | None = None
    suspended_at: float | None = None
    grace_until: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, item: Any) -> SubscriberRecord | None:
        """``None`` for anything that is not a record with a subscriber id."""
        if not isinstance(item, Mapping):
            return None
        subscriber_id = _text(item.get("subscriber_id"))
        if subscriber_id is None:
            return None
        location = item.get("location")
        if not isinstance(location, Mapping):
            location = {}
        city = item.get("city")
        if isinstance(city, Mapping):
            city = city.get("code")
        if city is None and isinstance(location.get("city"), Mapping):
            city = location["city"].get("code")
        country = item.get("country")
        if isinstance(country, Mapping):
            country = country.get("code")
        if country is None and isinstance(location.get("country"), Mapping):
            country = location["country"].get("code")
        kind = _text(item.get("type"))
        return cls(
            subscriber_id=subscriber_id,
            url=_text(item.get("url")) or _text(item.get("subscriber_url")),
            type=kind.upper() if kind else None,
            domain=_text(item.get("domain")),
            key_id=_text(item.get("key_id"))
            or _text(item.get("ukId"))
            or _text(item.get("unique_key_id")),
            signing_public_key=_text(item.get("signing_public_key")),
            encr_public_key=_text(item.get("encr_public_key")),
            valid_from=parse_time(item.get("valid_from")),
            valid_until=parse_time(item.get("valid_until")),
            status=_text(item.get("status")),
            city=_text(city),
            country=_text(country),
            suspended_at=parse_time(item.get("suspended_at")),
            grace_until=parse_time(item.get("grace_until")),
            raw=dict(item),
        )

    @property
    def validity(self) -> KeyValidity:
        return KeyValidity(self.valid_from, self.valid_until)

    @property
    def subscribed(self) -> bool:
        return (self.status or "").upper() == SUBSCRIBED

    @property
    def suspended(self) -> bool:
        return (self.status or "").upper() == SUSPENDED

    def in_grace(self, now: float) -> bool:
        """Suspended, and its grace period (as the registry says) not over."""
        return (
            self.suspended
            and self.suspended_at is not None
            and self.grace_until is not None
            and now < self.grace_until
        )

    def expired(self, now: float) -> bool:
        return self.valid_until is not None and self.valid_until < now


@dataclass(frozen=True, slots=True)
class RegistryKey:
    """The key the registry signs its answers with."""

    subscriber_id: str | None
    key_id: str | None
    signing_public_key: str


@dataclass(slots=True)
class _Entry:
    records: tuple[SubscriberRecord, ...]
    expires_at: float
    positive: bool = True  # someone SUBSCRIBED: renewed ahead of its end while in use


@dataclass(slots=True)
class LookupStats:
    hits: int = 0
    misses: int = 0
    registry_calls: int = 0
    failures: int = 0
    refreshes: int = 0


class RegistryLookup:
    """Cached, verified ``POST {registry}/lookup``. One instance per event loop (it owns an
    ``httpx.AsyncClient`` unless given one)."""

    def __init__(
        self,
        registry_url: str,
        *,
        registry_public_key: str | None = None,
        registry_subscriber_id: str | None = None,
        registry_key_id: str | None = None,
        ttl: float = 60.0,
        negative_ttl: float = 5.0,
        timeout: float = 5.0,
        max_entries: int = 10_000,
        skew: float = 5.0,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        well_known_url: str | None = None,
        refresh_ahead: float | None = None,
    ) -> None:
        self.registry_url = registry_url.rstrip("/")
        self.well_known_url = well_known_url or self.registry_url + WELL_KNOWN_PATH
        self.ttl = ttl
        self.refresh_ahead = ttl / 5 if refresh_ahead is None else refresh_ahead
        self.negative_ttl = negative_ttl
        self.timeout = timeout
        self.max_entries = max_entries
        self.skew = skew
        self.clock = clock
        self.stats = LookupStats()
        self._registry_key = (
            RegistryKey(registry_subscriber_id, registry_key_id, registry_public_key)
            if registry_public_key
            else None
        )
        self._expected_registry_id = registry_subscriber_id
        self._http = http
        self._owns_http = http is None
        self._cache: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._inflight: dict[tuple[Any, ...], asyncio.Future[_Entry]] = {}
        self._key_lock: asyncio.Lock | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._generation = 0  # bumped by invalidate(): older answers are not cached
        self.revision: int | None = None  # the registry's, last seen by :meth:`watch`

    @classmethod
    def from_settings(
        cls, settings: NetworkSettings, *, http: httpx.AsyncClient | None = None
    ) -> RegistryLookup:
        if not settings.registry_url:
            raise ValueError("registry_url manquant : le nœud doit connaître son registre")
        return cls(
            settings.registry_url,
            registry_public_key=settings.registry_public_key,
            registry_subscriber_id=settings.registry_subscriber_id,
            ttl=settings.lookup_cache_ttl,
            negative_ttl=settings.lookup_negative_ttl,
            timeout=settings.lookup_timeout,
            max_entries=settings.lookup_cache_max_entries,
            skew=settings.signature_skew,
            http=http,
        )

    # --- public API ---------------------------------------------------------------------------

    async def key(self, subscriber_id: str, key_id: str) -> tuple[SubscriberRecord, ...]:
        """The registry's records for this subscriber's key, valid now.

        Raises :class:`KeyNotFound` (the registry knows no such valid key) or
        :class:`RegistryUnavailable` (no trustworthy answer and nothing cached).
        """
        entry = await self._get(("key", subscriber_id, key_id), self._fetch_key)
        if not entry.records:
            raise KeyNotFound(
                f"clé inconnue du registre : {subscriber_id}|{key_id} (ou hors de sa validité)"
            )
        return entry.records

    async def subscriber(
        self,
        subscriber_id: str,
        *,
        type: str | None = None,
        domain: str | None = None,
        country: str | None = None,
    ) -> tuple[SubscriberRecord, ...]:
        """A participant's records (SUBSCRIBED, or SUSPENDED in its grace period), whatever
        its region: to tell a seller that left the network from one the operator suspended."""
        entry = await self._get(
            ("subscriber", subscriber_id, type, domain, country), self._fetch_subscriber
        )
        return entry.records

    async def find(
        self,
        *,
        type: str | None = None,
        domain: str | None = None,
        city: str | None = None,
        country: str | None = None,
    ) -> tuple[SubscriberRecord, ...]:
        """Subscribed participants of a type, domain and region (the gateway's routing)."""
        entry = await self._get(("find", type, domain, city, country), self._fetch_find)
        return entry.records

    async def lookup(self, filters: Mapping[str, Any]) -> list[SubscriberRecord]:
        """One uncached, verified registry call."""
        return await self._call(filters)

    def prime(self, records: list[SubscriberRecord], *, ttl: float | None = None) -> None:
        """Seed the key cache with known records (benchmarks, tests, static peers); they live
        ``ttl`` seconds (the cache's own by default) and never past their ``valid_until``."""
        now = self.clock()
        lifetime = self.ttl if ttl is None else ttl
        for record in records:
            expires_at = now + lifetime
            if record.valid_until is not None:
                expires_at = min(expires_at, record.valid_until)
            key = ("key", record.subscriber_id, record.key_id)
            known = self._cache.get(key)
            kept = known.records if known is not None and known.expires_at > now else ()
            self._cache[key] = _Entry((*kept, record), expires_at)

    def invalidate(self) -> None:
        """Forget every cached entry (the registry changed, tests); answers still on their
        way are handed to their callers but not kept, and new callers ask again."""
        self._cache.clear()
        self._inflight.clear()
        self._generation += 1

    def start_watch(self, interval: float) -> None:
        """Run :meth:`watch` in the background (0: never); :meth:`aclose` stops it."""
        if interval > 0 and self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self.watch(interval))

    async def watch(self, interval: float) -> None:
        """Every ``interval`` seconds, read the registry's revision and drop the cache when it
        moved. A registry without ``/revision`` (another implementation) ends the watch: the
        ttl alone bounds what the cache holds, as before. The revision is not signed: a forged
        one can only make the node look its peers up again, from signed answers."""
        first = True
        while True:
            if not first:
                await asyncio.sleep(interval)
            first = False
            try:
                response = await self._client().get(
                    self.registry_url + REVISION_PATH, timeout=self.timeout
                )
            except httpx.HTTPError:
                continue  # down: the cache serves to the end of its ttl, as without a watch
            if response.status_code in (404, 405):
                log.info("le registre ne publie pas sa révision : cache borné par sa durée")
                return
            try:
                revision = response.json().get("revision")
            except (ValueError, AttributeError):
                continue
            if not isinstance(revision, int) or isinstance(revision, bool):
                continue
            if revision != self.revision:
                # Changed, or first read: what was cached before may predate the change.
                self.invalidate()
            self.revision = revision

    async def aclose(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None

    # --- cache and single flight --------------------------------------------------------------

    async def _get(
        self,
        cache_key: tuple[Any, ...],
        fetch: Callable[[tuple[Any, ...]], Any],
    ) -> _Entry:
        entry = self._cache.get(cache_key)
        now = self.clock()
        if entry is not None and entry.expires_at > now:
            self.stats.hits += 1
            if (
                entry.positive
                and entry.records
                and entry.expires_at - now < self.refresh_ahead
                and cache_key not in self._inflight
            ):
                # Renewed in the background; until then, and if the registry is down, the
                # entry serves to the end of its life, never past it.
                self.stats.refreshes += 1
                self._start(cache_key, fetch)
            return entry
        self.stats.misses += 1
        future = self._inflight.get(cache_key) or self._start(cache_key, fetch)
        # shield: a caller that gives up (client gone) must not cancel the others' lookup.
        return await asyncio.shield(future)

    def _start(
        self, cache_key: tuple[Any, ...], fetch: Callable[[tuple[Any, ...]], Any]
    ) -> asyncio.Future[_Entry]:
        future = asyncio.ensure_future(self._fill(cache_key, fetch))
        self._inflight[cache_key] = future
        future.add_done_callback(lambda done: self._done(cache_key, done))
        return future

    def _done(self, cache_key: tuple[Any, ...], future: asyncio.Future[_Entry]) -> None:
        if self._inflight.get(cache_key) is future:
            del self._inflight[cache_key]
        if not future.cancelled():
            future.exception()  # retrieved here, so an unawaited failure logs nothing

    async def _fill(self, cache_key: tuple[Any, ...], fetch: Callable[..., Any]) -> _Entry:
        generation = self._generation
        records: tuple[SubscriberRecord, ...] = await fetch(cache_key)
        now = self.clock()
        # Nobody SUBSCRIBED (nothing, or suspended only) is a negative answer: kept briefly,
        # so that a reactivation is seen as soon as a suspension.
        positive = any(record.subscribed for record in records)
        expires_at = now + (self.ttl if positive else self.negative_ttl)
        for record in records:
            for end in (record.valid_until, record.grace_until):
                if end is not None:
                    expires_at = min(expires_at, end)
        entry = _Entry(records, expires_at, positive)
        if generation != self._generation:
            return entry  # asked before the registry changed: for its callers only
        self._cache[cache_key] = entry
        self._cache.move_to_end(cache_key)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return entry

    async def _fetch_key(self, cache_key: tuple[Any, ...]) -> tuple[SubscriberRecord, ...]:
        _, subscriber_id, key_id = cache_key
        records = await self._call(
            {"subscriber_id": subscriber_id, "key_id": key_id, "include_suspended": True}
        )
        now = self.clock()
        return tuple(
            record
            for record in records
            if record.subscriber_id == subscriber_id
            and record.key_id == key_id
            and record.signing_public_key
            and not record.expired(now)
        )

    async def _fetch_subscriber(self, cache_key: tuple[Any, ...]) -> tuple[SubscriberRecord, ...]:
        _, subscriber_id, kind, domain, country = cache_key
        filters = {
            name: value
            for name, value in (("type", kind), ("domain", domain), ("country", country))
            if value is not None
        }
        records = await self._call(
            {"subscriber_id": subscriber_id, **filters, "include_suspended": True}
        )
        now = self.clock()
        return tuple(
            record
            for record in records
            if record.subscriber_id == subscriber_id
            and (record.subscribed or record.in_grace(now))
            and not record.expired(now)
        )

    async def _fetch_find(self, cache_key: tuple[Any, ...]) -> tuple[SubscriberRecord, ...]:
        _, kind, domain, city, country = cache_key
        filters = {
            name: value
            for name, value in (("type", kind), ("domain", domain), ("city", city))
            if value is not None
        }
        if country is not None:
            filters["country"] = country
        records = await self._call(filters)
        now = self.clock()
        return tuple(record for record in records if record.subscribed and not record.expired(now))

    # --- the registry call --------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout)
        return self._http

    async def _call(self, filters: Mapping[str, Any]) -> list[SubscriberRecord]:
        registry_key = await self._trusted_key()
        body = wire(dict(filters), ascii_only=True)
        self.stats.registry_calls += 1
        try:
            response = await self._client().post(
                self.registry_url + "/lookup",
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            self.stats.failures += 1
            raise RegistryUnavailable(unreachable(self.registry_url, exc)) from None
        if response.status_code != 200:
            self.stats.failures += 1
            raise RegistryUnavailable(f"le registre a répondu HTTP {response.status_code}")
        try:
            verify(
                response.content,
                response.headers.get(AUTHORIZATION),
                registry_key.signing_public_key,
                now=time.time(),
                skew=self.skew,
                expected_subscriber_id=registry_key.subscriber_id,
                expected_key_id=registry_key.key_id,
            )
        except SignatureError as exc:
            self.stats.failures += 1
            raise RegistryUnavailable(
                f"réponse du registre non authentifiée ({exc.reason}) : {exc.message}"
            ) from None
        try:
            data = json.loads(response.content)
        except ValueError:
            self.stats.failures += 1
            raise RegistryUnavailable("réponse du registre illisible (pas du JSON)") from None
        if not isinstance(data, list):
            self.stats.failures += 1
            raise RegistryUnavailable("réponse du registre inattendue (tableau JSON attendu)")
        return [record for record in map(SubscriberRecord.from_json, data) if record is not None]

    async def _trusted_key(self) -> RegistryKey:
        """The registry's key: configured, or fetched once from the well-known document and
        pinned for the life of this object (trust on first use)."""
        if self._registry_key is not None:
            return self._registry_key
        if self._key_lock is None:
            self._key_lock = asyncio.Lock()
        async with self._key_lock:
            if self._registry_key is not None:
                return self._registry_key
            try:
                response = await self._client().get(self.well_known_url, timeout=self.timeout)
                document = response.json() if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                document = None
            if not isinstance(document, Mapping) or not _text(document.get("signing_public_key")):
                self.stats.failures += 1
                raise RegistryUnavailable(
                    f"clé publique du registre introuvable à {self.well_known_url}"
                )
            subscriber_id = _text(document.get("subscriber_id"))
            if self._expected_registry_id and subscriber_id != self._expected_registry_id:
                raise RegistryUnavailable(
                    f"le registre se présente comme {subscriber_id!r}, "
                    f"on attendait {self._expected_registry_id!r}"
                )
            self._registry_key = RegistryKey(
                subscriber_id, _text(document.get("key_id")), document["signing_public_key"]
            )
            return self._registry_key
