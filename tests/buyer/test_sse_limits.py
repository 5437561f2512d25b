"""What an event stream costs the buyer node, on the real node: the waiters' table empties
when the waits end, streams are capped per organisation, a stream ends at the search's
deadline, and an event carries only what its callback brought."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reseau_poles.buyer.repositories import organisations as repo
from reseau_poles.buyer.services.waiters import Waiters
from reseau_poles.storage import make_session_factory, write_session

from .conftest import World, new_transaction
from .test_search import SYRUP_PROVIDER
from .test_sse import JAM_PROVIDER, Stream, parse, read_all


def other_organisation(world: World) -> str:
    """A second organisation of the buyer node, and its API key."""
    organisation_id = f"org-{uuid.uuid4().hex[:8]}"
    with write_session(make_session_factory(world.service.engine)) as session:
        repo.add_organisation(session, organisation_id, f"Organisation {organisation_id}")
        return repo.create_api_key(session, organisation_id, "tests")


def open_stream(world: World, path: str, key: str, stop: threading.Event) -> Stream:
    """A stream read in a thread until the server ends it or ``stop`` is set (the client
    then goes away, as a closed browser tab)."""
    stream = Stream()

    def run() -> None:
        try:
            with (
                httpx.Client(timeout=30) as http,
                http.stream("GET", world.buyer_url + path, headers={"X-API-Key": key}) as r,
            ):
                stream.status = r.status_code
                stream.headers = dict(r.headers)
                if r.status_code == 200:
                    parse(itertools.takewhile(lambda _: not stop.is_set(), r.iter_lines()), stream)
        finally:
            stream.done.set()

    threading.Thread(target=run, daemon=True).start()
    return stream


@pytest.fixture
def buyer_overrides() -> dict[str, Any]:
    """These tests make a few hundred calls in a few seconds with one key: the per-key rate
    limit (tests/buyer/test_api_limits.py) is not what they measure, and on a fast run it
    would answer some of them 429."""
    return {"api_rate_per_second": 1000.0, "api_rate_burst": 1000}


@pytest.fixture
def fast_pings(world: World) -> None:
    world.buyer_app.state.sse_heartbeat_seconds = 0.1


# --- 8. the waiters' table --------------------------------------------------------------------


def test_completed_waits_and_streams_leave_no_waiter_behind(world: World) -> None:
    waiters = world.service.waiters
    tx = world.search(text="erable", region="QC-03")
    assert world.results(tx, wait_ms=10_000)["complete"]
    for _ in range(20):  # completed waits, streams of a complete search
        assert world.results(tx, wait_ms=5_000)["complete"]
        assert [e.name for e in read_all(world, f"/api/searches/{tx}/events").events][-1] == "fin"
    for _ in range(50):  # unknown searches: a 404 each
        unknown = new_transaction()
        assert world.api("GET", f"/api/searches/{unknown}/events").status_code == 404
        assert world.api("GET", f"/api/searches/{unknown}?wait_ms=20").status_code == 404
    pending = world.search(region="QC-11")  # the hand-driven seller never answers
    world.hand.wait_search(pending)
    for _ in range(10):  # waits that time out
        assert not world.results(pending, wait_ms=30)["complete"]
        ended = read_all(world, f"/api/searches/{pending}/events?wait_ms=30")
        assert ended.events[-1].data["raison"] == "delai"
    assert len(waiters) == 0
    assert world.buyer_app.state.streams.open() == 0


def test_a_cancelled_or_timed_out_wait_leaves_the_table() -> None:
    async def scenario() -> list[int]:
        waiters = Waiters(poll_seconds=0.01)
        sizes = []
        assert await waiters.wait_for("a", lambda: 1, lambda _: False, 30) == 1  # timed out
        sizes.append(len(waiters))
        assert await waiters.wait_for("a", lambda: 2, lambda v: v == 2, 30) == 2  # done
        sizes.append(len(waiters))
        task = asyncio.create_task(waiters.wait_for("b", lambda: 1, lambda _: False, 60_000))
        other = asyncio.create_task(waiters.wait_for("b", lambda: 1, lambda _: False, 60_000))
        await asyncio.sleep(0.05)
        sizes.append(len(waiters))  # one key, two waiters
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        sizes.append(len(waiters))  # the other still waits
        waiters.notify("b")  # a notify does not drop a key someone waits on
        await asyncio.sleep(0.05)
        sizes.append(len(waiters))
        other.cancel()
        with pytest.raises(asyncio.CancelledError):
            await other
        sizes.append(len(waiters))
        return sizes

    assert asyncio.run(scenario()) == [0, 0, 1, 1, 1, 0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("jln"), st.sampled_from("abc"))))
def test_the_table_holds_exactly_the_keys_somebody_watches(steps: list[tuple[str, str]]) -> None:
    """Any sequence of joins, leaves and notifies: a key is in the table iff it has waiters,
    and a waiter's event is set by a notify of its key after it took it."""
    waiters = Waiters()
    held: dict[str, list[Any]] = {"a": [], "b": [], "c": []}
    for step, key in steps:
        if step == "j":
            watch = waiters.join(key)
            held[key].append((watch, watch.event))
        elif step == "l" and held[key]:
            watch, _ = held[key].pop()
            waiters.leave(key, watch)
        elif step == "n":
            waiters.notify(key)
            assert all(signal.is_set() for _, signal in held[key])
            held[key] = [(watch, watch.event) for watch, _ in held[key]]
            assert not any(signal.is_set() for _, signal in held[key])
    assert len(waiters) == sum(1 for waiting in held.values() if waiting)


# --- 7. streams: a cap per organisation, the search's deadline, changes only -------------------


def test_streams_beyond_the_cap_get_429_while_another_organisation_streams(
    world: World, fast_pings: None
) -> None:
    world.buyer_app.state.streams.limit = 2
    tx = world.search(region="QC-11")
    world.hand.wait_search(tx)
    path = f"/api/searches/{tx}/events"
    stops = [threading.Event() for _ in range(2)]
    opened = [open_stream(world, path, world.api_key, stop) for stop in stops]
    for stream in opened:
        stream.wait_until(lambda s=stream: s.comments)
        assert stream.status == 200
    refused = world.api("GET", path)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "trop_de_flux"
    assert refused.json()["error"]["path"] == "transaction_id"
    assert int(refused.headers["Retry-After"]) > 0

    # Another organisation still streams (its own search: a search is its owner's).
    key = other_organisation(world)
    theirs = world.api("POST", "/api/searches", key=key, json={"region": "QC-11"}).json()
    stop_theirs = threading.Event()
    stream = open_stream(
        world, f"/api/searches/{theirs['transaction_id']}/events", key, stop_theirs
    )
    stream.wait_until(lambda: stream.comments)
    assert stream.status == 200

    # A client that goes away gives its place back.
    stops[0].set()
    slots = world.buyer_app.state.streams
    deadline = time.monotonic() + 10
    while slots.open("css-capitale") > 1:
        assert time.monotonic() < deadline, "la place du flux fermé n'est pas rendue"
        time.sleep(0.02)
    stops.append(threading.Event())
    again = open_stream(world, path, world.api_key, stops[-1])
    again.wait_until(lambda: again.comments or again.events)
    assert again.status == 200
    for stop in (*stops, stop_theirs):
        stop.set()
    deadline = time.monotonic() + 10
    while slots.open():
        assert time.monotonic() < deadline, "des places de flux ne sont pas rendues"
        time.sleep(0.02)
    assert len(world.service.waiters) == 0


def test_a_stream_ends_by_itself_at_the_search_deadline(world: World, fast_pings: None) -> None:
    world.service.settings.search_ttl_seconds = 1
    tx = world.search(region="QC-11")
    assert world.hand.wait_search(tx)["context"]["ttl"] == "PT1S"
    started = time.monotonic()
    stream = read_all(world, f"/api/searches/{tx}/events")  # the client would wait 30 s
    assert time.monotonic() - started < 10
    assert [e.name for e in stream.events] == ["fin"]
    end = stream.events[0].data
    assert end["raison"] == "expiree" and not end["complete"]
    assert end["sellers"]["pending"] == [world.hand.keys.subscriber_id]
    # Later, at once: the stored answers (none), then fin.
    assert [e.data["raison"] for e in read_all(world, f"/api/searches/{tx}/events").events] == [
        "expiree"
    ]
    assert len(world.service.waiters) == 0


def test_events_after_the_first_carry_only_what_changed(world: World) -> None:
    """A seller that pages its catalog: each event has its page's items only, the pôle's
    counts so far; the events read in two parts (Last-Event-ID) make the whole view."""
    tx = world.search(region="QC-11")
    search = world.hand.wait_search(tx)
    big = {
        **SYRUP_PROVIDER,
        "items": [
            {**SYRUP_PROVIDER["items"][0], "id": f"sirop-{n}", "descriptor": {"name": f"Sirop {n}"}}
            for n in range(30)
        ],
    }
    pages = [{**big, "items": big["items"][start : start + 10]} for start in range(0, 30, 10)] + [
        JAM_PROVIDER
    ]
    for page in pages:
        body = dict(search, context={**search["context"], "message_id": new_transaction()})
        assert world.callback(world.hand.on_search(body, [page]), world.hand.signer).is_success

    stream = read_all(world, f"/api/searches/{tx}/events")
    results = stream.named("resultats")
    assert [e.data["counts"]["items"] for e in results] == [10, 10, 10, 1]
    assert [[i["id"] for i in e.data["providers"][0]["items"]] for e in results[:3]] == [
        [f"sirop-{n}" for n in range(start, start + 10)] for start in range(0, 30, 10)
    ]
    assert [[(p["provider_id"], p["received"]) for p in e.data["poles"]] for e in results] == [
        [(SYRUP_PROVIDER["id"], 10)],
        [(SYRUP_PROVIDER["id"], 20)],
        [(SYRUP_PROVIDER["id"], 30)],
        [(JAM_PROVIDER["id"], 31)],  # the same pôle: its fourth page
    ]
    assert [len(e.data["offers"]) for e in results] == [10, 10, 10, 1]

    # Resumed after the second: the rest only; both parts together are the whole view.
    resumed = read_all(world, f"/api/searches/{tx}/events", {"Last-Event-ID": results[1].id})
    rest = resumed.named("resultats")
    assert [e.id for e in rest] == [e.id for e in results[2:]]
    seen = {
        (p["id"], item["id"])
        for e in [*results[:2], *rest]
        for p in e.data["providers"]
        for item in p["items"]
    }
    whole = world.results(tx)
    assert seen == {(p["id"], item["id"]) for p in whole["providers"] for item in p["items"]}


def test_a_stream_dropped_before_its_first_byte_gives_its_place_back() -> None:
    """Starlette drops the body of a response whose client left before it started, without
    running it: the stream's ``finally`` never runs, its lease is given back when it is
    collected. A stream that ran gives it back once, not twice."""
    import gc

    from reseau_poles.buyer.services import sse

    slots = sse.StreamSlots(limit=1)
    waiters = Waiters()

    def opened() -> tuple[Any, sse.Lease]:
        assert slots.take("org")
        watch = waiters.join("tx")

        def release() -> None:
            waiters.leave("tx", watch)
            slots.give_back("org")

        lease = sse.Lease(release)

        async def body() -> Any:
            try:
                yield b"x"
            finally:
                lease.release()

        return sse.guarded(body(), lease), lease

    stream, _ = opened()
    assert not slots.take("org") and len(waiters) == 1  # the one place is held
    del stream
    gc.collect()
    assert slots.open() == 0 and len(waiters) == 0

    async def run_one() -> None:
        stream, lease = opened()
        assert [chunk async for chunk in stream] == [b"x"]
        lease.release()  # already given back by the stream: nothing more

    asyncio.run(run_one())
    assert slots.open() == 0 and len(waiters) == 0
    assert slots.take("org")
