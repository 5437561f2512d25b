"""``GET /portail/commandes/{id}/flux``: an order's follow-up, live, as Server-Sent Events
for htmx's SSE extension (``sse-swap="suivi"``).

What the stream says (``text/event-stream``):

* ``event: suivi`` — the order's follow-up fragment (its state, its timeline, what may be
  done), rendered again each time the order changes; its ``id:`` is the order's version
  (:func:`version`). Nothing is sent while the version is the one the page already shows
  (``Last-Event-ID``, or ``?version=`` from the page itself).
* ``event: fin`` — once the order has reached its end (delivered or collected, or
  cancelled) and no request awaits the pôle: the page's ``sse-close="fin"`` closes the
  stream, nothing more will change.
* ``: ping`` comments while nothing happens (``sse_heartbeat_seconds``), so that proxies keep
  the connection open.

The stream wakes on the order's signal (:class:`~..services.waiters.Waiters`: a callback of
the order's transaction stored by this process, which the pôle's ``on_status`` is), and
looks at the database itself now and then (another process of the node may have stored it),
less often while nothing happens. It ends after :data:`STREAM_SECONDS`; the browser then
connects again by itself (with ``Last-Event-ID``), which also gives its slot back now and
then. Each open stream holds one of the organisation's ``max_streams_per_organisation``
slots (:class:`~..services.sse.StreamSlots`, shared with the API's search streams).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Final

from ..services.orders import OrderNotFound, OrderService
from ..services.sse import Lease, StreamSlots, guarded, hold_stream
from ..services.waiters import Watch
from .shared import sse_event

STREAM_SECONDS: Final = 300.0
POLL_SECONDS: Final = 0.25
MAX_POLL_SECONDS: Final = 2.0
RETRY_MS: Final = 3000
FINAL_STATES: Final = frozenset({"completed", "cancelled"})


def version(order: Mapping[str, Any]) -> str:
    """A short token that changes whenever what the page shows of the order may change."""
    pending = order.get("pending") or {}
    parts = (
        order.get("updated_at"),
        order.get("state"),
        (order.get("fulfillment") or {}).get("state"),
        len(order.get("events") or ()),
        pending.get("action"),
        pending.get("dispatch"),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def finished(order: Mapping[str, Any]) -> bool:
    return order.get("state") in FINAL_STATES and order.get("pending") is None


async def open_order_stream(
    orders: OrderService,
    streams: StreamSlots,
    organisation_id: str,
    order_id: str,
    *,
    known: str | None,
    render: Callable[[dict[str, Any]], str],
    heartbeat: float,
    lifetime: float = STREAM_SECONDS,
) -> AsyncIterator[bytes] | None:
    """The stream of one order for one page, or ``None`` when the organisation has no slot
    left. Raises :class:`OrderNotFound` (the slot and the watch given back) before anything
    is sent, so that an unknown order is a 404 and not a broken stream."""
    held = hold_stream(streams, orders.waiters, organisation_id, order_id)
    if held is None:
        return None
    watch, lease = held
    try:
        signal = watch.event
        first = await orders.view(organisation_id, order_id)
    except BaseException:
        lease.release()
        raise
    stream = _events(
        orders,
        organisation_id,
        order_id,
        first,
        known=known,
        watch=watch,
        signal=signal,
        lease=lease,
        render=render,
        heartbeat=heartbeat,
        lifetime=lifetime,
    )
    return guarded(stream, lease)


async def _events(
    orders: OrderService,
    organisation_id: str,
    order_id: str,
    order: dict[str, Any],
    *,
    known: str | None,
    watch: Watch,
    signal: asyncio.Event,
    lease: Lease,
    render: Callable[[dict[str, Any]], str],
    heartbeat: float,
    lifetime: float,
) -> AsyncIterator[bytes]:
    try:
        yield f"retry: {RETRY_MS}\n: commande {order_id}\n\n".encode()
        started = last_sent = time.monotonic()
        poll = POLL_SECONDS
        shown = known
        while True:
            current = version(order)
            if current != shown:
                yield sse_event("suivi", render(order), current)
                shown, last_sent, poll = current, time.monotonic(), POLL_SECONDS
            if finished(order):
                yield sse_event("fin", "", current)
                return
            now = time.monotonic()
            if now - started >= lifetime:
                return
            if now - last_sent >= heartbeat:
                yield b": ping\n\n"
                last_sent = now
            wait = min(lifetime - (now - started), heartbeat - (now - last_sent), poll)
            woken = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), timeout=max(wait, 0.001))
                woken = True
            if not woken:
                poll = min(poll * 2, MAX_POLL_SECONDS)
            signal = watch.event  # before reading: no change slips in between
            try:
                order = await orders.view(organisation_id, order_id)
            except OrderNotFound:
                return
    finally:
        lease.release()
