"""The token bucket behind the gateway's and the nodes' rate limits, in the process and in
Redis (``redis_url``): a key gets its burst, then waits; another key is untouched; in Redis
two processes share one bucket per key."""

from __future__ import annotations

import asyncio
import uuid

from reseau_poles.network.ratelimit import (
    RateLimiter,
    RedisRateLimiter,
    make_rate_limiter,
    retry_after_header,
)


def test_a_key_gets_its_burst_then_waits_and_others_are_untouched(redis_url: str | None) -> None:
    async def scenario() -> None:
        prefix = f"test:{uuid.uuid4().hex}:"
        limiter = make_rate_limiter(0.5, 3, redis_url=redis_url, prefix=prefix)
        # Two processes of one node share the buckets when they share Redis.
        other_process = make_rate_limiter(0.5, 3, redis_url=redis_url, prefix=prefix)
        assert isinstance(limiter, RedisRateLimiter if redis_url else RateLimiter)
        try:
            assert await limiter.peek("org-a") == 0.0  # never seen: a full bucket
            taken = [await limiter.take("org-a") for _ in range(3)]
            assert taken == [0.0, 0.0, 0.0]
            assert 0 < await limiter.peek("org-a") <= 2.0  # empty, and peeking takes nothing
            waits = [await limiter.take("org-a")]
            if redis_url:
                waits.append(await other_process.take("org-a"))
            for wait in waits:
                assert 0 < wait <= 2.0  # one token every 2 s
                assert retry_after_header(wait) in ("1", "2")
            assert await limiter.take("org-b") == 0.0
        finally:
            await limiter.aclose()
            await other_process.aclose()

    asyncio.run(scenario())


def test_rate_zero_means_no_limit(redis_url: str | None) -> None:
    async def scenario() -> None:
        limiter = make_rate_limiter(0, 1, redis_url=redis_url)
        assert [await limiter.take("x") for _ in range(50)] == [0.0] * 50
        await limiter.aclose()

    asyncio.run(scenario())


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after_header(0.001) == "1"
    assert retry_after_header(1.0) == "1"
    assert retry_after_header(1.2) == "2"
