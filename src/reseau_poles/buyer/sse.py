"""``GET /api/searches/{id}/events``: a search's results as Server-Sent Events.

What the stream says (``text/event-stream``, UTF-8, one JSON object per ``data:`` line):

* ``event: resultats`` – one per ``on_search`` stored, in the order they were stored; its
  ``id:`` is the callback's number on this node (increasing). The data: the seller
  (``bpp_id``), when it answered, **everything that seller sent so far** merged per pôle and
  item (a seller that pages its catalog over several callbacks sends the whole of it in the
  last event), filtered and sorted by the same query parameters as ``GET
  /api/searches/{id}``, and where the search stands (answered / targeted).
* ``event: fin`` – once, last: every targeted seller answered (``raison: complete``), nobody
  took the search (``echec``), or the wait is over (``delai``; ``?wait_ms=``, at most the
  node's ``max_wait_ms``). Its data is the search's progress. The server then closes the
  stream; a client should close its ``EventSource`` on ``fin`` (otherwise it reconnects and
  gets only ``fin`` again).
* ``: ping`` comments while nothing happens, so proxies keep the connection open.

A client that connects late gets every stored answer first (replayed from the database), then
the new ones as they arrive. ``Last-Event-ID`` (header, or ``?last_event_id=`` for clients that
cannot set headers) resumes after that event: nothing is sent twice, nothing is lost.

Plain :class:`starlette.responses.StreamingResponse`: the format is four lines of code, and
sse-starlette would add a dependency for the pings and the disconnect check we do here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select

from reseau_poles.protocol.jsonfast import dumps
from reseau_poles.protocol.models import format_datetime
from reseau_poles.storage import read_session

from . import repository as repo
from .intent import merge
from .pages import coverage
from .results import ResultQuery, apply
from .service import BuyerService, SearchNotFound, search_progress
from .tables import callbacks, search_results

MEDIA_TYPE: Final = "text/event-stream; charset=utf-8"
HEADERS: Final = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
HEARTBEAT_SECONDS: Final = 15.0
RETRY_MS: Final = 2000
# How often the stream looks at the database without a signal (another process of the node
# may have stored the callback).
POLL_SECONDS: Final = 0.25


@dataclass(frozen=True, slots=True)
class Changes:
    progress: dict[str, Any]
    # (callback id, bpp_id, received_at, the seller's providers merged up to this callback)
    answers: list[tuple[int, str, Any, list[dict[str, Any]]]]
    text: str | None = None  # the search's words: offers by relevance (results.Relevance)


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
        answers = list(
            session.execute(
                select(
                    callbacks.c.id,
                    callbacks.c.bpp_id,
                    callbacks.c.bpp_uri,
                    callbacks.c.message_id,
                    callbacks.c.received_at,
                )
                .where(
                    callbacks.c.transaction_id == transaction_id, callbacks.c.action == "on_search"
                )
                .order_by(callbacks.c.id)
            ).mappings()
        )
        fresh = [answer for answer in answers if answer["id"] > after]
        # Every callback of the sellers heard from since ``after``, up to the last one: an
        # event carries everything its seller sent so far.
        sellers = {answer["bpp_id"] for answer in fresh}
        last = fresh[-1]["id"] if fresh else after
        needed = [a["id"] for a in answers if a["bpp_id"] in sellers and a["id"] <= last]
        rows_of: dict[int, list[Mapping[str, Any]]] = {}
        missing = []
        for callback_id in needed:
            cached = service.recent.get(callback_id)
            if cached is None:
                missing.append(callback_id)
            else:
                rows_of[callback_id] = cached
        if missing:
            for row in session.execute(
                select(search_results)
                .where(
                    search_results.c.transaction_id == transaction_id,
                    search_results.c.callback_id.in_(missing),
                )
                .order_by(search_results.c.id)
            ).mappings():
                rows_of.setdefault(row["callback_id"], []).append(row)
    found = []
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
    return Changes(search_progress(search, answers), found, (search["params"] or {}).get("text"))


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
) -> bytes:
    callback_id, bpp_id, received_at, providers = answer
    kept, offers = apply(providers, query, text)
    data = {
        "transaction_id": transaction_id,
        "bpp_id": bpp_id,
        "received_at": format_datetime(received_at),
        "sellers": _counts(progress),
        "counts": {"providers": len(kept), "items": sum(len(p["items"]) for p in kept)},
        "poles": [pole.summary() for pole in coverage(providers)],
        "providers": kept,
        "offers": [offer.summary() for offer in offers],
    }
    return event("resultats", data, callback_id)


def end_event(transaction_id: str, progress: Mapping[str, Any], reason: str) -> bytes:
    return event("fin", {"transaction_id": transaction_id, "raison": reason, **progress})


async def first_changes(
    service: BuyerService, organisation_id: str, transaction_id: str, after: int
) -> tuple[asyncio.Event, Changes]:
    """The signal of the search's next change, then what changed after ``after``: in this
    order, so that a callback stored in between wakes the stream at once instead of at the
    next poll. Raises :class:`SearchNotFound`."""
    signal = service.signal(transaction_id)
    changes = await asyncio.to_thread(read_changes, service, organisation_id, transaction_id, after)
    return signal, changes


async def search_events(
    service: BuyerService,
    organisation_id: str,
    transaction_id: str,
    query: ResultQuery,
    first: Changes,
    *,
    signal: asyncio.Event,
    after: int,
    wait_seconds: float,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[bytes]:
    """The stream, from ``first`` and its ``signal`` (:func:`first_changes`, read before the
    response started, so an unknown search is a 404 and not a broken stream)."""
    deadline = time.monotonic() + wait_seconds
    last_sent = time.monotonic()
    yield f"retry: {RETRY_MS}\n: recherche {transaction_id}\n\n".encode()
    changes = first
    while True:
        for answer in changes.answers:
            yield results_event(transaction_id, answer, changes.progress, query, changes.text)
            after = answer[0]
            last_sent = time.monotonic()
        progress = changes.progress
        if progress["state"] == "echec":
            yield end_event(transaction_id, progress, "echec")
            return
        if progress["complete"]:
            yield end_event(transaction_id, progress, "complete")
            return
        now = time.monotonic()
        if now >= deadline:
            yield end_event(transaction_id, progress, "delai")
            return
        if now - last_sent >= heartbeat:
            yield b": ping\n\n"
            last_sent = now
        wait = min(deadline - now, heartbeat - (now - last_sent), POLL_SECONDS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(signal.wait(), timeout=max(wait, 0.001))
        signal = service.signal(transaction_id)  # before reading: no change slips between
        changes = await asyncio.to_thread(
            read_changes, service, organisation_id, transaction_id, after
        )
