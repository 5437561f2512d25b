"""Registry lookup cache: TTL, single flight, valid_until bound, signed answers, outages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from reseau_poles.network import KeyNotFound, RegistryLookup, RegistryUnavailable
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.signing import Signer

from .support import StandInRegistry, participant, serve

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[StandInRegistry, str]]:
    registry = StandInRegistry()
    with serve(registry.app) as url:
        yield registry, url


@pytest.fixture
def registry(served: tuple[StandInRegistry, str]) -> StandInRegistry:
    registry, _ = served
    registry.records.clear()
    registry.hits, registry.delay, registry.down, registry.forger = 0, 0.0, False, None
    registry.revision = None
    return registry


@pytest.fixture
def url(served: tuple[StandInRegistry, str]) -> str:
    return served[1]


async def test_entries_live_for_the_ttl(registry: StandInRegistry, url: str) -> None:
    buyer = participant("acheteur.example", "BAP")
    registry.add(buyer)
    clock = Clock()
    lookup = RegistryLookup(
        url, registry_public_key=registry.public_key, ttl=60, clock=clock, refresh_ahead=0
    )
    try:
        first = await lookup.key(buyer.subscriber_id, buyer.key_id)
        assert first[0].signing_public_key == buyer.keys.signing.public_key_b64
        clock.now += 59
        await lookup.key(buyer.subscriber_id, buyer.key_id)
        assert registry.hits == 1
        clock.now += 2
        await lookup.key(buyer.subscriber_id, buyer.key_id)
        assert registry.hits == 2
    finally:
        await lookup.aclose()


async def test_concurrent_misses_make_one_registry_call(
    registry: StandInRegistry, url: str
) -> None:
    buyer = participant("acheteur.example", "BAP")
    registry.add(buyer)
    registry.delay = 0.2
    lookup = RegistryLookup(url, registry_public_key=registry.public_key)
    try:
        answers = await asyncio.gather(
            *(lookup.key(buyer.subscriber_id, buyer.key_id) for _ in range(50))
        )
        assert registry.hits == 1
        assert {answer[0].key_id for answer in answers} == {buyer.key_id}
        assert lookup.stats.registry_calls == 1
    finally:
        await lookup.aclose()


async def test_an_entry_never_outlives_the_key(registry: StandInRegistry, url: str) -> None:
    buyer = participant("acheteur.example", "BAP")
    registry.add(buyer, valid_until=datetime.now(UTC) + timedelta(seconds=3))
    clock = Clock()
    lookup = RegistryLookup(url, registry_public_key=registry.public_key, ttl=60, clock=clock)
    try:
        await lookup.key(buyer.subscriber_id, buyer.key_id)
        clock.now += 4
        with pytest.raises(KeyNotFound):
            await lookup.key(buyer.subscriber_id, buyer.key_id)
        assert registry.hits == 2
    finally:
        await lookup.aclose()


async def test_unknown_keys_are_remembered_briefly(registry: StandInRegistry, url: str) -> None:
    clock = Clock()
    lookup = RegistryLookup(
        url, registry_public_key=registry.public_key, negative_ttl=5, clock=clock
    )
    try:
        for _ in range(3):
            with pytest.raises(KeyNotFound):
                await lookup.key("inconnu.example", "k1")
        assert registry.hits == 1
        clock.now += 6
        with pytest.raises(KeyNotFound):
            await lookup.key("inconnu.example", "k1")
        assert registry.hits == 2
    finally:
        await lookup.aclose()


async def test_a_suspended_participant_is_a_short_lived_answer(
    registry: StandInRegistry, url: str
) -> None:
    """During its grace period a suspended seller's key comes back (SUSPENDED, with when and
    until when), but is kept no longer than an unknown key: its reactivation is seen as soon
    as a suspension; once SUBSCRIBED again it is kept the whole ttl."""
    seller = participant("vendeur.example", "BPP")
    record = registry.add(seller, status="SUSPENDED")
    now = datetime.now(UTC)
    record["suspended_at"] = (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    record["grace_until"] = (now + timedelta(hours=71)).isoformat().replace("+00:00", "Z")
    clock = Clock()
    lookup = RegistryLookup(
        url, registry_public_key=registry.public_key, ttl=60, negative_ttl=5, clock=clock
    )
    try:
        (found,) = await lookup.key(seller.subscriber_id, seller.key_id)
        assert found.suspended and not found.subscribed and found.in_grace(time.time())
        assert found.grace_until is not None and found.suspended_at is not None
        assert found.grace_until - found.suspended_at == pytest.approx(72 * 3600, abs=1)
        assert (await lookup.subscriber(seller.subscriber_id, type="BPP"))[0].suspended
        clock.now += 4.9  # inside the negative ttl: no refresh ahead for a suspended one
        await lookup.key(seller.subscriber_id, seller.key_id)
        assert registry.hits == 2
        registry.set_status(seller.subscriber_id, "SUBSCRIBED")
        clock.now += 0.2
        assert (await lookup.key(seller.subscriber_id, seller.key_id))[0].subscribed
        assert registry.hits == 3
        clock.now += 40
        await lookup.key(seller.subscriber_id, seller.key_id)
        assert registry.hits == 3
    finally:
        await lookup.aclose()


async def test_the_watch_drops_the_cache_when_the_registry_changes(
    registry: StandInRegistry, url: str
) -> None:
    buyer = participant("acheteur.example", "BAP")
    registry.add(buyer)
    registry.revision = 7
    lookup = RegistryLookup(url, registry_public_key=registry.public_key, ttl=60)
    try:
        lookup.start_watch(0.05)
        await _until(lambda: lookup.revision == 7)
        await lookup.key(buyer.subscriber_id, buyer.key_id)
        await asyncio.sleep(0.2)
        await lookup.key(buyer.subscriber_id, buyer.key_id)
        assert registry.hits == 1  # nothing changed: the cache serves
        registry.revision = 8  # a suspension, say
        await _until(lambda: lookup.revision == 8)
        await lookup.key(buyer.subscriber_id, buyer.key_id)
        assert registry.hits == 2
        # A registry that publishes no revision: the watch ends, the ttl alone bounds.
        registry.revision = None
        watcher = lookup._watcher
        assert watcher is not None
        await asyncio.wait_for(watcher, 5)
    finally:
        await lookup.aclose()


async def test_an_answer_asked_before_an_invalidation_is_not_kept(
    registry: StandInRegistry, url: str
) -> None:
    buyer = participant("acheteur.example", "BAP")
    registry.add(buyer)
    registry.delay = 0.3
    lookup = RegistryLookup(url, registry_public_key=registry.public_key, ttl=60)
    try:
        asked = asyncio.ensure_future(lookup.key(buyer.subscriber_id, buyer.key_id))
        await asyncio.sleep(0.1)
        lookup.invalidate()  # the registry changed while the answer was on its way
        assert (await asked)[0].key_id == buyer.key_id  # its caller still gets it
        registry.delay = 0.0
        await lookup.key(buyer.subscriber_id, buyer.key_id)
        assert registry.hits == 2
    finally:
        await lookup.aclose()


async def _until(check, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)


async def test_forged_answers_are_refused_and_not_cached(
    registry: StandInRegistry, url: str
) -> None:
    buyer = participant("acheteur.example", "BAP")
    registry.add(buyer)
    impostor = SubscriberKeys.generate(registry.subscriber_id)
    registry.forger = Signer(registry.subscriber_id, registry.keys.key_id, impostor.signing)
    lookup = RegistryLookup(url, registry_public_key=registry.public_key)
    try:
        with pytest.raises(RegistryUnavailable, match="non authentifiée"):
            await lookup.key(buyer.subscriber_id, buyer.key_id)
        registry.forger = None
        assert (await lookup.key(buyer.subscriber_id, buyer.key_id))[0].key_id == buyer.key_id
        assert registry.hits == 2
    finally:
        await lookup.aclose()


async def test_registry_key_is_fetched_once_and_pinned(registry: StandInRegistry, url: str) -> None:
    buyer = participant("acheteur.example", "BAP")
    registry.add(buyer)
    lookup = RegistryLookup(url, registry_subscriber_id=registry.subscriber_id)
    try:
        await lookup.key(buyer.subscriber_id, buyer.key_id)
        # The registry now signs with another key: the pinned one no longer matches.
        original = registry.signer
        other = SubscriberKeys.generate(registry.subscriber_id)
        registry.signer = Signer(registry.subscriber_id, registry.keys.key_id, other.signing)
        lookup.invalidate()
        with pytest.raises(RegistryUnavailable):
            await lookup.key(buyer.subscriber_id, buyer.key_id)
        registry.signer = original
    finally:
        await lookup.aclose()


async def test_registry_claiming_another_identity_is_refused(
    registry: StandInRegistry, url: str
) -> None:
    lookup = RegistryLookup(url, registry_subscriber_id="autre-registre.example")
    try:
        with pytest.raises(RegistryUnavailable, match="autre-registre"):
            await lookup.key("acheteur.example", "k1")
    finally:
        await lookup.aclose()


async def test_cached_keys_serve_while_the_registry_is_down_then_lookups_fail(
    registry: StandInRegistry, url: str
) -> None:
    buyer = participant("acheteur.example", "BAP")
    registry.add(buyer)
    clock = Clock()
    lookup = RegistryLookup(url, registry_public_key=registry.public_key, ttl=60, clock=clock)
    try:
        await lookup.key(buyer.subscriber_id, buyer.key_id)
        registry.down = True
        clock.now += 30
        assert await lookup.key(buyer.subscriber_id, buyer.key_id)
        clock.now += 31
        with pytest.raises(RegistryUnavailable, match="503"):
            await lookup.key(buyer.subscriber_id, buyer.key_id)
    finally:
        await lookup.aclose()


async def test_unreachable_registry_is_unavailable() -> None:
    from tests.conftest import free_port

    lookup = RegistryLookup(f"http://127.0.0.1:{free_port()}", registry_public_key="A" * 43 + "=")
    try:
        with pytest.raises(RegistryUnavailable, match="injoignable"):
            await lookup.key("acheteur.example", "k1")
    finally:
        await lookup.aclose()


async def test_find_by_type_domain_and_region(registry: StandInRegistry, url: str) -> None:
    quebec = participant("vendeur-quebec.example", "BPP")
    everywhere = participant("vendeur-partout.example", "BPP")
    estrie = participant("vendeur-estrie.example", "BPP")
    suspended = participant("vendeur-suspendu.example", "BPP")
    registry.add(quebec, city="QC-03")
    registry.add(everywhere, city="*")
    registry.add(estrie, city="QC-05")
    registry.add(suspended, city="QC-03", status="SUSPENDED")
    registry.add(participant("acheteur.example", "BAP"))
    lookup = RegistryLookup(url, registry_public_key=registry.public_key)
    try:
        found = await lookup.find(type="BPP", domain="PLA:ALIMENTS", city="QC-03")
        assert {record.subscriber_id for record in found} == {
            "vendeur-quebec.example",
            "vendeur-partout.example",
        }
        await lookup.find(type="BPP", domain="PLA:ALIMENTS", city="QC-03")
        assert registry.hits == 1
        await lookup.find(type="BPP", domain="PLA:ALIMENTS", city="QC-05")
        assert registry.hits == 2
    finally:
        await lookup.aclose()


async def test_an_entry_in_use_is_renewed_before_it_expires(
    registry: StandInRegistry, url: str
) -> None:
    """In its last fifth, an entry still serves at once and is fetched again behind the
    scenes: no lookup waits for the registry at each ttl. A suspension still lands within the
    ttl, and a registry down during the renewal changes nothing until the entry expires."""
    buyer = participant("acheteur.example", "BAP")
    registry.add(buyer)
    clock = Clock()
    lookup = RegistryLookup(url, registry_public_key=registry.public_key, ttl=60, clock=clock)
    try:
        await lookup.key(buyer.subscriber_id, buyer.key_id)
        clock.now += 47  # 13 s left: not yet
        await lookup.key(buyer.subscriber_id, buyer.key_id)
        assert registry.hits == 1 and lookup.stats.refreshes == 0

        clock.now += 2  # 11 s left: served now, renewed behind
        registry.delay = 0.2
        started = time.monotonic()
        assert await lookup.key(buyer.subscriber_id, buyer.key_id)
        assert time.monotonic() - started < 0.1  # did not wait for the registry
        await asyncio.sleep(0.5)
        assert registry.hits == 2 and lookup.stats.refreshes == 1
        clock.now += 40  # past the first entry's life, within the renewed one's
        await lookup.key(buyer.subscriber_id, buyer.key_id)
        assert registry.hits == 2

        # The registry goes down during the next renewal: the entry lasts its life, no more.
        registry.down, registry.delay = True, 0.0
        clock.now += 10  # 10 s left
        assert await lookup.key(buyer.subscriber_id, buyer.key_id)
        await asyncio.sleep(0.2)
        clock.now += 9
        assert await lookup.key(buyer.subscriber_id, buyer.key_id)
        clock.now += 2
        with pytest.raises(RegistryUnavailable):
            await lookup.key(buyer.subscriber_id, buyer.key_id)
    finally:
        await lookup.aclose()
