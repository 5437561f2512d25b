"""Replay guard: in-process (bounded, expiring) and shared through Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from reseau_poles.network import MemoryReplayGuard, RedisReplayGuard, make_replay_guard
from reseau_poles.network.replay import replay_key

pytestmark = pytest.mark.anyio

REDIS_URL = os.environ.get("RESEAU_POLES_TEST_REDIS_URL", "")
REQUIRE_SERVICES = os.environ.get("RESEAU_POLES_TEST_REQUIRE_SERVICES") == "1"


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_guard_refuses_a_second_sighting_until_the_window_ends() -> None:
    clock = Clock()
    guard = MemoryReplayGuard(clock=clock)
    key = replay_key("acheteur.example", str(uuid.uuid4()), "search")
    assert await guard.remember(key, 30)
    assert not await guard.remember(key, 30)
    # Another action or another signer with the same message id is another message.
    assert await guard.remember(key.replace("search", "select"), 30)
    clock.now += 31
    assert await guard.remember(key, 30)


async def test_memory_guard_is_bounded() -> None:
    clock = Clock()
    guard = MemoryReplayGuard(max_entries=100, clock=clock)
    for number in range(1000):
        assert await guard.remember(f"k{number}", 60 + number)
    assert len(guard) == 100
    # The soonest-expiring went first; the latest are still refused.
    assert not await guard.remember("k999", 60)
    assert await guard.remember("k0", 60)


async def test_memory_guard_forgets_expired_keys() -> None:
    clock = Clock()
    guard = MemoryReplayGuard(clock=clock)
    for number in range(50):
        await guard.remember(f"k{number}", 5)
    clock.now += 6
    await guard.remember("nouveau", 5)
    assert len(guard) == 1


def redis_url() -> str:
    if not REDIS_URL:
        if REQUIRE_SERVICES:
            pytest.fail("RESEAU_POLES_TEST_REDIS_URL manquant")
        pytest.skip("Redis non configuré (RESEAU_POLES_TEST_REDIS_URL)")
    return REDIS_URL


async def test_redis_guard_is_shared_between_workers() -> None:
    url = redis_url()
    prefix = f"test:{uuid.uuid4().hex}:"
    first = make_replay_guard(url, prefix=prefix)
    second = RedisReplayGuard(url, prefix=prefix)
    assert isinstance(first, RedisReplayGuard)
    try:
        key = replay_key("acheteur.example", str(uuid.uuid4()), "search")
        assert await first.remember(key, 0.3)
        assert not await second.remember(key, 30)
        import asyncio

        await asyncio.sleep(0.4)
        assert await second.remember(key, 30)
        await second.forget(key)
        assert await first.remember(key, 30)
        await first.forget(key)
    finally:
        await first.aclose()
        await second.aclose()


def test_without_redis_the_guard_is_in_process() -> None:
    assert isinstance(make_replay_guard(None), MemoryReplayGuard)
