"""Search results as Server-Sent Events, on the real buyer node with the real registry and
seller nodes, and the hand-driven seller for timing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.seller.support import CAPITALE, SYRUP

from .conftest import World, new_transaction
from .test_search import SYRUP_PROVIDER

JAM_PROVIDER = {
    "id": "pole-gaspesie",
    "descriptor": {"name": "Pôle nourricier de la Gaspésie"},
    "items": [
        {
            "id": "confiture-camerises",
            "descriptor": {"name": "Confiture de camerises"},
            "price": {"currency": "CAD", "value": "7.00"},
        }
    ],
}


@dataclass
class Event:
    name: str
    id: str | None
    data: dict[str, Any]
    at: float


@dataclass
class Stream:
    """What an SSE client saw: events and comments, with the time each arrived."""

    events: list[Event] = field(default_factory=list)
    comments: list[tuple[str, float]] = field(default_factory=list)
    retry: int | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)

    def named(self, name: str) -> list[Event]:
        return [e for e in list(self.events) if e.name == name]

    def wait_until(self, check: Any, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, (self.events, self.comments)
            time.sleep(0.01)


def parse(lines: Iterator[str], stream: Stream) -> None:
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in fields or "event" in fields:
                stream.events.append(
                    Event(
                        fields.get("event", "message"),
                        fields.get("id"),
                        json.loads(fields.get("data", "{}")),
                        time.monotonic(),
                    )
                )
            elif "retry" in fields:
                stream.retry = int(fields["retry"])
            fields = {}
        elif line.startswith(":"):
            stream.comments.append((line[1:].strip(), time.monotonic()))
        else:
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value


def listen(world: World, path: str, headers: dict[str, str] | None = None) -> Stream:
    """Read the stream in a thread, as a browser's EventSource would."""
    stream = Stream()

    def run() -> None:
        try:
            with httpx.Client(timeout=30) as http:
                sent = {"X-API-Key": world.api_key, "Accept": "text/event-stream"}
                with http.stream(
                    "GET", world.buyer_url + path, headers=sent | (headers or {})
                ) as r:
                    stream.status = r.status_code
                    stream.headers = dict(r.headers)
                    parse(r.iter_lines(), stream)
        finally:
            stream.done.set()

    threading.Thread(target=run, daemon=True).start()
    return stream


def read_all(world: World, path: str, headers: dict[str, str] | None = None) -> Stream:
    stream = listen(world, path, headers)
    assert stream.done.wait(15), "le flux ne s'est pas terminé"
    return stream


@pytest.fixture
def fast_pings(world: World) -> None:
    world.buyer_app.state.sse_heartbeat_seconds = 0.1


def test_results_stream_as_they_arrive_then_fin(world: World, fast_pings: None) -> None:
    tx = world.search(text="sirop", region="QC-11")
    search = world.hand.wait_search(tx)
    stream = listen(world, f"/api/searches/{tx}/events")
    # Nothing yet: the stream stays open and pings.
    stream.wait_until(lambda: len([c for c in stream.comments if c[0] == "ping"]) >= 2)
    assert stream.status == 200 and stream.retry == 2000
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["cache-control"] == "no-cache"
    assert stream.events == []

    sent = time.monotonic()
    assert world.callback(
        world.hand.on_search(search, [SYRUP_PROVIDER]), world.hand.signer
    ).is_success
    stream.wait_until(lambda: stream.named("resultats"))
    first = stream.named("resultats")[0]
    assert first.at - sent < 2
    assert first.data["bpp_id"] == world.hand.keys.subscriber_id
    assert [i["id"] for i in first.data["providers"][0]["items"]] == ["sirop-gaspesie"]
    assert first.data["sellers"] == {"answered": 1, "targeted": 1}
    assert first.id is not None and first.id.isdigit()

    # The search is complete: fin, then the server closes the stream.
    assert stream.done.wait(5)
    end = stream.named("fin")
    assert len(end) == 1 and stream.events[-1] is end[0]
    assert end[0].data["raison"] == "complete" and end[0].data["complete"]
    assert end[0].data["sellers"]["pending"] == []


def test_each_event_holds_what_the_seller_sent_so_far(world: World) -> None:
    tx = world.search(region="QC-11")
    search = world.hand.wait_search(tx)
    assert world.callback(
        world.hand.on_search(search, [SYRUP_PROVIDER]), world.hand.signer
    ).is_success
    # A second page of the same seller (another message id): the event merges both.
    page2 = dict(search, context={**search["context"], "message_id": new_transaction()})
    assert world.callback(world.hand.on_search(page2, [JAM_PROVIDER]), world.hand.signer).is_success

    stream = read_all(world, f"/api/searches/{tx}/events")
    results = stream.named("resultats")
    assert len(results) == 2
    assert int(results[0].id) < int(results[1].id)  # type: ignore[arg-type]
    assert [i["id"] for i in results[0].data["providers"][0]["items"]] == ["sirop-gaspesie"]
    # The second carries only what its callback brought; its pôle's count is cumulative.
    assert [i["id"] for i in results[1].data["providers"][0]["items"]] == ["confiture-camerises"]
    assert [p["received"] for p in results[1].data["poles"]] == [2]
    assert stream.named("fin")[0].data["raison"] == "complete"

    # Resume after the first event: only the second, then fin.
    resumed = read_all(world, f"/api/searches/{tx}/events", {"Last-Event-ID": results[0].id})
    assert [(e.name, e.id) for e in resumed.events] == [("resultats", results[1].id), ("fin", None)]
    # The same with the query parameter (for clients that cannot set headers).
    resumed = read_all(world, f"/api/searches/{tx}/events?last_event_id={results[1].id}")
    assert [e.name for e in resumed.events] == ["fin"]
    # Filters apply to each event; the sort too.
    cheap = read_all(world, f"/api/searches/{tx}/events?sort=price")
    assert [o["item_id"] for o in cheap.named("resultats")[1].data["offers"]] == [
        "confiture-camerises"
    ]
    assert cheap.named("resultats")[1].data["counts"] == {"providers": 1, "items": 1}


def test_a_late_client_gets_the_stored_answers_of_real_sellers(world: World) -> None:
    tx = world.search(text="erable", region="QC-03")
    assert world.results(tx, wait_ms=10_000)["complete"]
    stream = read_all(world, f"/api/searches/{tx}/events?certification=biologique_canada")
    results = stream.named("resultats")
    assert sorted(e.data["bpp_id"] for e in results) == sorted(world.sellers.values())
    for result in results:
        assert [p["id"] for p in result.data["providers"]] == [CAPITALE]
        assert [o["item_id"] for o in result.data["offers"]] == [SYRUP]
    assert [e.name for e in stream.events] == ["resultats", "resultats", "fin"]


def test_the_wait_ends_with_fin_and_the_pending_sellers(world: World, fast_pings: None) -> None:
    tx = world.search(region="QC-11")
    world.hand.wait_search(tx)
    started = time.monotonic()
    stream = read_all(world, f"/api/searches/{tx}/events?wait_ms=400")
    assert 0.35 < time.monotonic() - started < 5
    assert [e.name for e in stream.events] == ["fin"]
    end = stream.events[0].data
    assert end["raison"] == "delai" and not end["complete"]
    assert end["sellers"]["pending"] == [world.hand.keys.subscriber_id]
    assert any(text == "ping" for text, _ in stream.comments)


def test_the_stream_wants_a_key_a_known_search_and_good_parameters(world: World) -> None:
    tx = world.search(region="QC-05")
    url = f"{world.buyer_url}/api/searches/{tx}/events"
    assert world.http.get(url).status_code == 401
    assert world.api("GET", f"/api/searches/{tx}/events", key="rpa_faux").status_code == 401
    assert world.api("GET", "/api/searches/inconnue/events").status_code == 404
    for query, headers, path in (
        ("?sort=prix", {}, "sort"),
        ("?wait_ms=-1", {}, "wait_ms"),
        ("", {"Last-Event-ID": "abc"}, "headers.Last-Event-ID"),
        ("?last_event_id=1.5", {}, "last_event_id"),
    ):
        response = world.api("GET", f"/api/searches/{tx}/events{query}", headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["path"] == path


def test_the_stream_is_the_same_from_the_cache_and_from_the_database(world: World) -> None:
    """A callback another process of the node stored is not in this process's cache of
    recent catalogues: the stream reads it from the database, and says the same thing."""
    from reseau_poles.buyer.services.searches import RecentResults

    tx = world.search(region="QC-11")
    search = world.hand.wait_search(tx)
    assert world.callback(
        world.hand.on_search(search, [SYRUP_PROVIDER]), world.hand.signer
    ).is_success
    page2 = dict(search, context={**search["context"], "message_id": new_transaction()})
    assert world.callback(world.hand.on_search(page2, [JAM_PROVIDER]), world.hand.signer).is_success
    service = world.buyer_app.state.service
    assert len(service.recent) >= 2  # stored by this process: in the cache
    cached = read_all(world, f"/api/searches/{tx}/events?sort=price")

    kept = service.recent
    service.recent = RecentResults()  # as in another process: nothing cached
    try:
        cold = read_all(world, f"/api/searches/{tx}/events?sort=price")
        # Half cached: only the first page (the second came through another process).
        first_id = int(cached.named("resultats")[0].id)  # type: ignore[arg-type]
        service.recent.put(first_id, kept.get(first_id))  # type: ignore[arg-type]
        half = read_all(world, f"/api/searches/{tx}/events?sort=price")
    finally:
        service.recent = kept
    for other in (cold, half):
        assert [(e.name, e.id, e.data) for e in other.events] == [
            (e.name, e.id, e.data) for e in cached.events
        ]
    assert [len(e.data["providers"][0]["items"]) for e in cached.named("resultats")] == [1, 1]


def test_a_callback_stored_before_the_stream_waits_wakes_it(world: World) -> None:
    """The stream's signal is taken before its first read: a callback stored between that
    read and the stream's first wait sets it, so the event leaves at once, not at the next
    poll (a quarter of a second later)."""
    import asyncio

    from reseau_poles.buyer.services import sse

    tx = world.search(region="QC-11")
    search = world.hand.wait_search(tx)
    deadline = time.monotonic() + 5
    while not world.results(tx)["sellers"]["targeted"]:  # the dispatch recorded: its signal
        assert time.monotonic() < deadline  # is spent, the next one is the callback's
        time.sleep(0.01)
    watch = world.service.waiters.join(tx)
    try:
        signal, first = asyncio.run(sse.first_changes(world.service, watch, "css-capitale", tx, 0))
        assert first.answers == [] and not signal.is_set()
        assert world.callback(
            world.hand.on_search(search, [SYRUP_PROVIDER]), world.hand.signer
        ).is_success
        deadline = time.monotonic() + 5
        while not signal.is_set():  # set by the node's event loop once the callback is stored
            assert time.monotonic() < deadline, "le signal pris avant la lecture n'a pas été levé"
            time.sleep(0.01)
    finally:
        world.service.waiters.leave(tx, watch)


def test_recent_results_keep_at_most_max_items() -> None:
    from reseau_poles.buyer.services.searches import RecentResults

    recent = RecentResults(max_items=5)
    for callback_id in range(1, 5):
        recent.put(callback_id, [{"items": [{"id": n} for n in range(2)]}])
    # 4 callbacks of 2 items: the oldest go until at most 5 items are left.
    assert [recent.get(n) is not None for n in range(1, 5)] == [False, False, True, True]
    assert len(recent) == 2
    recent.put(9, [{"items": [{"id": n} for n in range(50)]}])  # one too big still stays
    assert recent.get(9) is not None and len(recent) == 1
