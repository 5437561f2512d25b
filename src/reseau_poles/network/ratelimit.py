"""Rate limits: a token bucket per caller (the gateway's buyers, the nodes' API keys),
refilled continuously.

:class:`RateLimiter` is in-process: behind a load balancer with N processes a caller gets at
most N times the rate (size the rate for one process, or pin callers to processes). The table
of buckets is bounded; the least recently seen callers are forgotten first, which only ever
gives them a full bucket again. :class:`RedisRateLimiter` keeps the buckets in Redis, shared by
every process (``redis_url``): one atomic script per request. Both answer ``await
limiter.take(key)``: ``0`` when the call may go, otherwise the seconds until the next token.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol


class RateLimiter:
    """``allow(subscriber_id)`` takes one token; ``rate`` tokens/s, at most ``burst`` saved."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_subscribers: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_subscribers = max_subscribers
        self.clock = clock
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()  # [tokens, updated]

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def allow(self, subscriber_id: str) -> bool:
        if self.rate <= 0:
            return True
        now = self.clock()
        bucket = self._buckets.get(subscriber_id)
        if bucket is None:
            bucket = [self.burst, now]
            self._buckets[subscriber_id] = bucket
            if len(self._buckets) > self.max_subscribers:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(subscriber_id)
            bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return True
        return False

    def retry_after(self, subscriber_id: str) -> float:
        """Seconds until the next token (for ``Retry-After``)."""
        bucket = self._buckets.get(subscriber_id)
        if bucket is None or self.rate <= 0:
            return 0.0
        return max(0.0, (1.0 - bucket[0]) / self.rate)

    async def take(self, key: str) -> float:
        """``0`` if ``key`` may call now (a token taken), else the seconds to wait."""
        return 0.0 if self.allow(key) else max(self.retry_after(key), 1e-3)

    async def peek(self, key: str) -> float:
        """Like :meth:`take`, without taking: ``0`` if a token is there."""
        bucket = self._buckets.get(key)
        if bucket is None or self.rate <= 0:
            return 0.0
        tokens = min(self.burst, bucket[0] + (self.clock() - bucket[1]) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    async def aclose(self) -> None:
        return None


class Limiter(Protocol):
    rate: float

    async def take(self, key: str) -> float: ...

    async def peek(self, key: str) -> float: ...

    async def aclose(self) -> None: ...


# KEYS[1]: the bucket; ARGV: rate, burst. Redis's clock, so that every process agrees.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(saved[1])
local at = tonumber(saved[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""

_PEEK = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(saved[1])
local at = tonumber(saved[2])
if tokens == nil or at == nil then
  return '0'
end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
if tokens >= 1 then
  return '0'
end
return tostring((1 - tokens) / rate)
"""


class RedisRateLimiter:
    """The same bucket in Redis, shared by every process: a hash per key, forgotten once it
    would be full again."""

    def __init__(self, url: str, rate: float, burst: int, *, prefix: str) -> None:
        import redis.asyncio as redis  # optional extra `redis`

        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        self._redis: Any = redis.Redis.from_url(url)
        self._take = self._redis.register_script(_TAKE)
        self._peek = self._redis.register_script(_PEEK)

    async def take(self, key: str) -> float:
        if self.rate <= 0:
            return 0.0
        wait = await self._take(keys=[self.prefix + key], args=[self.rate, self.burst])
        return float(wait)

    async def peek(self, key: str) -> float:
        if self.rate <= 0:
            return 0.0
        wait = await self._peek(keys=[self.prefix + key], args=[self.rate, self.burst])
        return float(wait)

    async def aclose(self) -> None:
        await self._redis.aclose()


def make_rate_limiter(
    rate: float, burst: int, *, redis_url: str | None = None, prefix: str = "reseau-poles:rate:"
) -> Limiter:
    """Redis when a URL is configured, in-process otherwise (``rate`` 0: no limit)."""
    if redis_url and rate > 0:
        return RedisRateLimiter(redis_url, rate, burst, prefix=prefix)
    return RateLimiter(rate, burst)


def retry_after_header(wait: float) -> str:
    """``Retry-After`` in whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
