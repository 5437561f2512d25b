"""Replay guard: a ``(subscriber_id, message_id, action)`` already seen inside its validity
window is refused.

The window is the signature's own: after ``expires`` (plus skew) a replay fails the signature
check anyway, so nothing needs remembering longer. In one process a dict with a heap of
expiries does it, with bounded memory; several workers share a Redis (``SET NX PX``).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from typing import Protocol


def replay_key(subscriber_id: str, message_id: str, action: str) -> str:
    return f"{subscriber_id}|{action}|{message_id}"


class ReplayGuard(Protocol):
    """``remember`` answers ``True`` the first time a key is seen inside ``ttl`` seconds."""

    async def remember(self, key: str, ttl: float) -> bool: ...

    async def forget(self, key: str) -> None: ...

    async def aclose(self) -> None: ...


class MemoryReplayGuard:
    """In-process guard. At most ``max_entries`` keys: beyond that the soonest-expiring are
    dropped first (a flood degrades protection for the oldest messages, never memory)."""

    def __init__(self, *, max_entries: int = 200_000, clock: Callable[[], float] = time.monotonic):
        self.max_entries = max_entries
        self.clock = clock
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._expiry)

    async def remember(self, key: str, ttl: float) -> bool:
        now = self.clock()
        self._purge(now)
        expires = self._expiry.get(key)
        if expires is not None and expires > now:
            return False
        deadline = now + max(ttl, 0.001)
        self._expiry[key] = deadline
        heapq.heappush(self._heap, (deadline, key))
        while len(self._expiry) > self.max_entries:
            self._pop()
        return True

    async def forget(self, key: str) -> None:
        self._expiry.pop(key, None)

    async def aclose(self) -> None:
        return None

    def _purge(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            self._pop()
        # Forgotten or re-remembered keys leave stale heap items; rebuild when they dominate.
        if len(self._heap) > 2 * len(self._expiry) + 1024:
            self._heap = [(deadline, key) for key, deadline in self._expiry.items()]
            heapq.heapify(self._heap)

    def _pop(self) -> None:
        deadline, key = heapq.heappop(self._heap)
        if self._expiry.get(key) == deadline:
            del self._expiry[key]


class RedisReplayGuard:
    """Shared guard for several workers: one ``SET key 1 NX PX ttl`` per message."""

    def __init__(self, url: str, *, prefix: str = "reseau-poles:replay:") -> None:
        import redis.asyncio as redis  # optional extra `redis`

        self.prefix = prefix
        self._redis = redis.Redis.from_url(url)

    async def remember(self, key: str, ttl: float) -> bool:
        milliseconds = max(int(ttl * 1000), 1)
        return bool(await self._redis.set(self.prefix + key, b"1", nx=True, px=milliseconds))

    async def forget(self, key: str) -> None:
        await self._redis.delete(self.prefix + key)

    async def aclose(self) -> None:
        await self._redis.aclose()


def make_replay_guard(
    redis_url: str | None = None, *, max_entries: int = 200_000, prefix: str | None = None
) -> ReplayGuard:
    """Redis when a URL is configured (``RESEAU_POLES_REDIS_URL``), in-process otherwise."""
    if redis_url:
        if prefix is None:
            return RedisReplayGuard(redis_url)
        return RedisReplayGuard(redis_url, prefix=prefix)
    return MemoryReplayGuard(max_entries=max_entries)
