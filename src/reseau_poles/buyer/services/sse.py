"""``GET /api/searches/{id}/events``: a search's results as Server-Sent Events.

What the stream says (``text/event-stream``, UTF-8, one JSON object per ``data:`` line):

* ``event: resultats`` – one per ``on_search`` stored, in the order they were stored; its
  ``id:`` is the callback's number on this node (increasing). The data: the seller
  (``bpp_id``), when it answered, **what this callback brought** (its providers and items,
  filtered and sorted by the same query parameters as ``GET /api/searches/{id}``; a seller
  that pages its catalog over several callbacks sends one event per page, to be merged by
  pôle and item id, a later item replacing an earlier one), per pôle of the callback how many
  items matched and arrived so far (``poles``, cumulative), and where the search stands
  (answered / targeted). Nothing already sent is sent again.
* ``event: fin`` – once, last: every targeted seller answered (``raison: complete``), nobody
  took the search (``echec``), the search's own deadline passed (``expiree``: its ``ttl``
  after it was sent, or after its last follow-up page was asked for; a seller still due
  will not be waited for), or the client's wait is over (``delai``; ``?wait_ms=``, at most
  the node's ``max_wait_ms``). Its data is the search's progress. The server then closes the
  stream; a client should close its ``EventSource`` on ``fin`` (otherwise it reconnects and
  gets only ``fin`` again).
* ``: ping`` comments while nothing happens, so proxies keep the connection open.

A client that connects late gets every stored answer first (replayed from the database, one
event per callback), then the new ones as they arrive. ``Last-Event-ID`` (header, or
``?last_event_id=`` for clients that cannot set headers) resumes after that event: nothing
is sent twice, nothing is lost; the events up to it and after it make the whole view.

At most ``max_streams_per_organisation`` streams are open at once per organisation (whatever
its key): beyond, a 429 ``trop_de_flux`` with ``Retry-After`` (:class:`StreamSlots`). An idle
stream costs nothing but its connection: it wakes on the search's signal (a callback stored
by this process), and looks at the database itself less and less often while nothing
happens (another process of the node may have stored the callback).

The same stream, the same limits and the same reading of changes serve the portal's results
page (``/portail/recherche/{id}/flux``), whose :class:`EventWriter` writes each event as HTML
for htmx (``buyer/web/search_stream.py``); :func:`snapshot` is the view a page shows before it
resumes the stream after the last callback it holds.

Plain :class:`starlette.responses.StreamingResponse`: the format is four lines of code, and
sse-starlette would add a dependency for the pings and the disconnect check we do here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from reseau_poles.protocol.jsonfast import dumps
from reseau_poles.protocol.models import format_datetime
from reseau_poles.storage import read_session

from ..repositories import searches as repo
from .intent import merge
from .pages import coverage
from .results import ResultQuery, apply
from .searches import BuyerService, SearchNotFound, search_document, search_progress
from .waiters import Waiters, Watch

MEDIA_TYPE: Final = "text/event-stream; charset=utf-8"
HEADERS: Final = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
HEARTBEAT_SECONDS: Final = 15.0
RETRY_MS: Final = 2000
# How often the stream looks at the database without a signal (another process of the node
# may have stored the callback): at first, then twice as long after each look that found
# nothing, up to MAX_POLL_SECONDS.
POLL_SECONDS: Final = 0.25
MAX_POLL_SECONDS: Final = 2.0
# What a refused stream is told to wait before trying again.
RETRY_AFTER_SECONDS: Final = 5


class StreamSlots:
    """How many event streams each organisation has open; at most ``limit`` each.
    Thread-safe (a stream may be released by the garbage collector)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, organisation_id: str) -> bool:
        with self._lock:
            count = self._open.get(organisation_id, 0)
            if count >= self.limit:
                return False
            self._open[organisation_id] = count + 1
            return True

    def give_back(self, organisation_id: str) -> None:
        with self._lock:
            count = self._open.get(organisation_id, 0) - 1
            if count > 0:
                self._open[organisation_id] = count
            else:
                self._open.pop(organisation_id, None)

    def open(self, organisation_id: str | None = None) -> int:
        with self._lock:
            if organisation_id is None:
                return sum(self._open.values())
            return self._open.get(organisation_id, 0)


class Lease:
    """What an open stream holds (its slot, its watch of the search): :meth:`release` gives
    it back once, whether the stream ended, failed, or was never started (a client gone
    before the first byte: Starlette then drops the generator without running it; see
    :func:`guarded`)."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release: Callable[[], None] | None = release
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            release, self._release = self._release, None
        if release is not None:
            release()


def hold_stream(
    streams: StreamSlots, waiters: Waiters, organisation_id: str, key: str
) -> tuple[Watch, Lease] | None:
    """One of the organisation's ``streams`` slots and a watch of ``key`` (a search, an
    order), given back together by the lease; ``None`` when no slot is left."""
    if not streams.take(organisation_id):
        return None
    watch = waiters.join(key)

    def release() -> None:
        waiters.leave(key, watch)
        streams.give_back(organisation_id)

    return watch, Lease(release)


def guarded(stream: AsyncIterator[bytes], lease: Lease) -> AsyncIterator[bytes]:
    """``stream``, its ``lease`` released when it is collected if it did not end itself."""
    weakref.finalize(stream, lease.release)
    return stream


@dataclass(frozen=True, slots=True)
class Changes:
    progress: dict[str, Any]
    # (callback id, bpp_id, received_at, the seller's providers merged up to this callback)
    answers: list[tuple[int, str, Any, list[dict[str, Any]]]]
    text: str | None = None  # the search's words: offers by relevance (results.Relevance)
    # When the search's own wait is over (its ttl after it, or its last page, was sent).
    expires_at: float | None = None
    # per callback of ``answers``: what that callback alone brought, merged
    brought: tuple[list[dict[str, Any]], ...] = ()


def _epoch(value: Any) -> float | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value.timestamp() if isinstance(value, datetime) else None


def search_expiry(search: Mapping[str, Any], ttl_seconds: float) -> float | None:
    """When a search stops waiting for its sellers (epoch seconds): ``ttl_seconds`` after it
    was created, or after its last follow-up page was sent, whichever is later."""
    sent = [_epoch(search.get("created_at"))]
    sent += [_epoch(page.get("sent_at")) for page in search.get("pages") or ()]
    known = [at for at in sent if at is not None]
    return max(known) + ttl_seconds if known else None


def read_changes(
    service: BuyerService, organisation_id: str, transaction_id: str, after: int
) -> Changes:
    """The search's progress and the ``on_search`` callbacks stored after callback ``after``,
    each with what its seller sent up to it. Raises :class:`SearchNotFound`.

    The catalogues come from :attr:`BuyerService.recent` when this process stored them (the
    usual case: the stream wakes up when a callback lands), from the database otherwise."""
    with read_session(service.factory) as session:
        search = repo.get_search(session, transaction_id)
        if search is None or search["organisation_id"] != organisation_id:
            raise SearchNotFound(transaction_id)
        answers = repo.callbacks_of(session, transaction_id, "on_search", with_ids=True)
        fresh = [answer for answer in answers if answer["id"] > after]
        # Every callback of the sellers heard from since ``after``, up to the last one: an
        # event carries everything its seller sent so far.
        sellers = {answer["bpp_id"] for answer in fresh}
        last = fresh[-1]["id"] if fresh else after
        needed = [a["id"] for a in answers if a["bpp_id"] in sellers and a["id"] <= last]
        # The cache's rows are shared with other streams: read, never changed.
        rows_of: dict[int, Sequence[Mapping[str, Any]]] = {}
        missing = []
        for callback_id in needed:
            cached = service.recent.get(callback_id)
            if cached is None:
                missing.append(callback_id)
            else:
                rows_of[callback_id] = cached
        if missing:
            read: dict[int, list[Mapping[str, Any]]] = {}
            for row in repo.results_of(session, transaction_id, callback_ids=missing):
                read.setdefault(row["callback_id"], []).append(row)
            rows_of.update(read)
    found = []
    brought = []
    for callback in fresh:
        mine = [
            row
            for callback_id in needed
            if callback_id <= callback["id"]
            for row in rows_of.get(callback_id, ())
            if row["bpp_id"] == callback["bpp_id"]
        ]
        found.append(
            (int(callback["id"]), callback["bpp_id"], callback["received_at"], merge(mine))
        )
        brought.append(merge(rows_of.get(callback["id"], ())))
    return Changes(
        search_progress(search, answers),
        found,
        (search["params"] or {}).get("text"),
        search_expiry(search, service.settings.search_ttl_seconds),
        tuple(brought),
    )


def event(name: str, data: Mapping[str, Any], event_id: int | None = None) -> bytes:
    lines = [f"event: {name}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    # Compact JSON holds no raw newline: one data line.
    return ("\n".join(lines) + "\ndata: ").encode() + dumps(data) + b"\n\n"


def _counts(progress: Mapping[str, Any]) -> dict[str, int]:
    sellers = progress["sellers"]
    return {"answered": len(sellers["answered"]), "targeted": len(sellers["targeted"])}


def results_event(
    transaction_id: str,
    answer: tuple[int, str, Any, list[dict[str, Any]]],
    progress: Mapping[str, Any],
    query: ResultQuery,
    text: str | None = None,
    brought: list[dict[str, Any]] | None = None,
) -> bytes:
    """The event of one callback: what it ``brought`` (all its seller sent so far when not
    given), with its pôles' counts so far."""
    callback_id, bpp_id, received_at, providers = answer
    new = providers if brought is None else brought
    kept, offers = apply(new, query, text)
    touched = {(p.get("bpp_id"), p.get("id")) for p in new}
    data = {
        "transaction_id": transaction_id,
        "bpp_id": bpp_id,
        "received_at": format_datetime(received_at),
        "sellers": _counts(progress),
        "counts": {"providers": len(kept), "items": sum(len(p["items"]) for p in kept)},
        "poles": [
            pole.summary()
            for pole in coverage(providers)
            if (pole.bpp_id, pole.provider_id) in touched
        ],
        "providers": kept,
        "offers": [offer.summary() for offer in offers],
    }
    return event("resultats", data, callback_id)


def end_event(transaction_id: str, progress: Mapping[str, Any], reason: str) -> bytes:
    return event("fin", {"transaction_id": transaction_id, "raison": reason, **progress})


class EventWriter(Protocol):
    """What a stream says of each change: the JSON events of the client API
    (:class:`JsonEvents`), or the portal's HTML fragments (``buyer/web/search_stream.py``).
    Each method returns one whole event (its bytes); ``start`` an event to send before any
    change, or ``None``."""

    async def start(self) -> bytes | None: ...

    async def results(
        self,
        answer: tuple[int, str, Any, list[dict[str, Any]]],
        progress: Mapping[str, Any],
        text: str | None,
        brought: list[dict[str, Any]],
    ) -> bytes: ...

    async def end(self, progress: Mapping[str, Any], reason: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class JsonEvents:
    """The events of ``GET /api/searches/{id}/events`` (the module's text)."""

    transaction_id: str
    query: ResultQuery

    async def start(self) -> bytes | None:
        return None

    async def results(
        self,
        answer: tuple[int, str, Any, list[dict[str, Any]]],
        progress: Mapping[str, Any],
        text: str | None,
        brought: list[dict[str, Any]],
    ) -> bytes:
        return results_event(self.transaction_id, answer, progress, self.query, text, brought)

    async def end(self, progress: Mapping[str, Any], reason: str) -> bytes:
        return end_event(self.transaction_id, progress, reason)


def snapshot(
    service: BuyerService,
    organisation_id: str,
    transaction_id: str,
    query: ResultQuery,
    until: int | None = None,
    answers_at_most: int | None = None,
) -> tuple[dict[str, Any], int]:
    """The search as ``GET /api/searches/{id}`` shows it, made of the callbacks stored up to
    the last one read (or up to callback ``until``, or of the first ``answers_at_most``), and
    that callback's number: a stream resumed after it (``last_event_id``) sends each later
    callback once, none twice. Raises :class:`SearchNotFound`."""
    with read_session(service.factory) as session:
        search = repo.get_search(session, transaction_id)
        if search is None or search["organisation_id"] != organisation_id:
            raise SearchNotFound(transaction_id)
        answers = repo.callbacks_of(session, transaction_id, "on_search", with_ids=True)
        if until is not None:
            answers = [answer for answer in answers if answer["id"] <= until]
        if answers_at_most is not None:
            answers = answers[:answers_at_most]
        last = int(answers[-1]["id"]) if answers else 0
        # Rows stored after the callbacks were read belong to the stream, not to this view;
        # of the first answers, only theirs are read.
        wanted = [answer["id"] for answer in answers] if answers_at_most is not None else None
        rows = [
            row
            for row in repo.results_of(session, transaction_id, callback_ids=wanted)
            if row["callback_id"] <= last
        ]
    return search_document(search, answers, rows, query), last


async def first_answers(
    service: BuyerService, organisation_id: str, transaction_id: str, wait_ms: int
) -> dict[str, Any]:
    """Wait (at most ``wait_ms``) until a seller answered or the search is over; its
    progress. Raises :class:`SearchNotFound`."""

    def read() -> dict[str, Any]:
        with read_session(service.factory) as session:
            search = repo.get_search(session, transaction_id)
            if search is None or search["organisation_id"] != organisation_id:
                raise SearchNotFound(transaction_id)
            answers = repo.callbacks_of(session, transaction_id, "on_search")
        return search_progress(search, answers)

    return await service.waiters.wait_for(
        transaction_id,
        read,
        lambda p: p["complete"] or p["state"] == "echec" or bool(p["sellers"]["answered"]),
        wait_ms,
    )


async def first_changes(
    service: BuyerService, watch: Watch, organisation_id: str, transaction_id: str, after: int
) -> tuple[asyncio.Event, Changes]:
    """The signal of the search's next change (from ``watch``, the stream's watch of the
    search), then what changed after ``after``: in this order, so that a callback stored in
    between wakes the stream at once instead of at the next poll. Raises
    :class:`SearchNotFound`."""
    signal = watch.event
    changes = await asyncio.to_thread(read_changes, service, organisation_id, transaction_id, after)
    return signal, changes


async def search_events(
    service: BuyerService,
    organisation_id: str,
    transaction_id: str,
    query: ResultQuery,
    first: Changes,
    *,
    watch: Watch,
    signal: asyncio.Event,
    after: int,
    wait_seconds: float,
    lease: Lease,
    heartbeat: float = HEARTBEAT_SECONDS,
    writer: EventWriter | None = None,
) -> AsyncIterator[bytes]:
    """The stream, from ``first`` and its ``signal`` (:func:`first_changes`, read before the
    response started, so an unknown search is a 404 and not a broken stream); ``lease`` is
    released when it ends. ``writer`` writes the events (the client API's JSON ones by
    default)."""
    write = writer or JsonEvents(transaction_id, query)
    try:
        deadline = time.monotonic() + wait_seconds
        last_sent = time.monotonic()
        poll = POLL_SECONDS
        yield f"retry: {RETRY_MS}\n: recherche {transaction_id}\n\n".encode()
        opening = await write.start()
        if opening is not None:
            yield opening
        changes = first
        while True:
            for answer, brought in zip(changes.answers, changes.brought, strict=True):
                yield await write.results(answer, changes.progress, changes.text, brought)
                after = answer[0]
                last_sent = time.monotonic()
            if changes.answers:
                poll = POLL_SECONDS
            progress = changes.progress
            if progress["state"] == "echec":
                yield await write.end(progress, "echec")
                return
            if progress["complete"]:
                yield await write.end(progress, "complete")
                return
            now = time.monotonic()
            left = (changes.expires_at or float("inf")) - time.time()
            if left <= 0:
                yield await write.end(progress, "expiree")
                return
            if now >= deadline:
                yield await write.end(progress, "delai")
                return
            if now - last_sent >= heartbeat:
                yield b": ping\n\n"
                last_sent = now
            wait = min(deadline - now, left, heartbeat - (now - last_sent), poll)
            woken = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), timeout=max(wait, 0.001))
                woken = True
            if not woken:
                poll = min(poll * 2, MAX_POLL_SECONDS)
            signal = watch.event  # before reading: no change slips between
            changes = await asyncio.to_thread(
                read_changes, service, organisation_id, transaction_id, after
            )
    finally:
        lease.release()


async def open_stream(
    service: BuyerService,
    streams: StreamSlots,
    organisation_id: str,
    transaction_id: str,
    query: ResultQuery,
    *,
    after: int,
    wait_seconds: float,
    heartbeat: float = HEARTBEAT_SECONDS,
    writer: EventWriter | None = None,
) -> AsyncIterator[bytes] | None:
    """The event stream of a search for one client, holding one of the organisation's
    ``streams`` slots and a watch of the search until it ends; ``None`` when the organisation
    has no slot left (429 ``trop_de_flux``). Raises :class:`SearchNotFound` (the slot and the
    watch given back)."""
    held = hold_stream(streams, service.waiters, organisation_id, transaction_id)
    if held is None:
        return None
    watch, lease = held
    try:
        signal, first = await first_changes(service, watch, organisation_id, transaction_id, after)
    except BaseException:
        lease.release()
        raise
    stream = search_events(
        service,
        organisation_id,
        transaction_id,
        query,
        first,
        watch=watch,
        signal=signal,
        after=after,
        wait_seconds=wait_seconds,
        lease=lease,
        heartbeat=heartbeat,
        writer=writer,
    )
    return guarded(stream, lease)
