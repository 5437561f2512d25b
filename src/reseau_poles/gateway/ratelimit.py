"""Rate limit per buyer subscriber: a token bucket each, refilled continuously.

In-process: behind a load balancer with N gateway processes a buyer gets at most N times the
rate (README: size the rate for one process, or pin buyers to processes). The table of buckets
is bounded; the least recently seen buyers are forgotten first, which only ever gives them a
full bucket again.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


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
