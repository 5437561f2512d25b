"""Per-search statistics: who was targeted, who ACKed, NACKed, failed, and how long it took.

The last ``max_searches`` searches stay in memory (a ring buffer indexed by message id). With a
Redis URL each finished record is also written there for ``retention`` seconds, so the
operator can ask any gateway process behind the load balancer about any search.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class SellerOutcome:
    subscriber_id: str
    url: str
    status: str  # ACK, NACK, ERROR, TIMEOUT
    http_status: int | None = None
    latency_ms: float = 0.0
    attempts: int = 1
    error_code: str | None = None
    error: str | None = None


@dataclass(slots=True)
class SearchRecord:
    message_id: str
    transaction_id: str | None
    bap_id: str
    domain: str
    city: str
    bpp_id: str | None = None
    received_at: float = field(default_factory=time.time)
    state: str = "running"  # running, done, failed (no lookup)
    targeted: int = 0
    acked: int = 0
    nacked: int = 0
    failed: int = 0
    timed_out: int = 0
    retried: int = 0
    lookup_ms: float = 0.0
    latency_ms: float = 0.0  # ACK to the last seller's answer (or timeout)
    error: str | None = None
    sellers: list[SellerOutcome] = field(default_factory=list)

    def add(self, outcome: SellerOutcome) -> None:
        self.sellers.append(outcome)
        if outcome.attempts > 1:
            self.retried += 1
        if outcome.status == "ACK":
            self.acked += 1
        elif outcome.status == "NACK":
            self.nacked += 1
        else:
            self.failed += 1
            if outcome.status == "TIMEOUT":
                self.timed_out += 1

    def to_json(self, *, sellers: bool = True) -> dict[str, Any]:
        data = asdict(self)
        data["received_at"] = (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.received_at))
            + f".{int(self.received_at * 1000) % 1000:03d}Z"
        )
        if not sellers:
            data.pop("sellers")
        return data


class SearchStats:
    """Ring buffer of recent searches, plus optional Redis copies."""

    def __init__(
        self,
        max_searches: int = 2_000,
        *,
        redis_url: str | None = None,
        retention: float = 3_600.0,
        prefix: str = "reseau-poles:gateway:search:",
    ) -> None:
        self.max_searches = max_searches
        self.retention = retention
        self.prefix = prefix
        self._records: OrderedDict[str, SearchRecord] = OrderedDict()
        self._redis: Any = None
        if redis_url:
            import redis.asyncio as redis  # optional extra `redis`

            self._redis = redis.Redis.from_url(redis_url)

    def __len__(self) -> int:
        return len(self._records)

    def start(self, record: SearchRecord) -> None:
        self._records[record.message_id] = record
        self._records.move_to_end(record.message_id)
        while len(self._records) > self.max_searches:
            self._records.popitem(last=False)

    async def finish(self, record: SearchRecord) -> None:
        if self._redis is None:
            return
        try:
            await self._redis.set(
                self.prefix + record.message_id,
                json.dumps(record.to_json(), ensure_ascii=False),
                px=int(self.retention * 1000),
            )
        except Exception:  # statistics never break a search
            return

    async def get(self, message_id: str) -> dict[str, Any] | None:
        record = self._records.get(message_id)
        if record is not None:
            return record.to_json()
        if self._redis is None:
            return None
        try:
            raw = await self._redis.get(self.prefix + message_id)
        except Exception:
            return None
        return json.loads(raw) if raw else None

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        items = list(self._records.values())[-limit:]
        return [record.to_json(sellers=False) for record in reversed(items)]

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
