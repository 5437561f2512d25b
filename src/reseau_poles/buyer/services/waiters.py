"""Readers waiting for a transaction's callbacks (searches, orders, carts): woken when a
callback is stored by this process, looking again now and then otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

# How often a waiting reader looks at the database even without a signal (another process
# of the same node may have stored the callback).
WAIT_POLL_SECONDS = 0.25

T = TypeVar("T")


class Watch:
    """The waiters of one key: how many, and the event the next :meth:`Waiters.notify` sets
    (take :attr:`event` before reading, wait on it after: a change in between wakes you)."""

    __slots__ = ("count", "event")

    def __init__(self) -> None:
        self.count = 0
        self.event = asyncio.Event()


class Waiters:
    """Readers waiting for a transaction's callbacks: :meth:`notify` (from the event loop,
    after an ACK) wakes them; they also look again every ``poll_seconds``, since another
    process of the same node may have stored the callback. Shared by searches and orders.

    A key is in the table only while someone waits on it: :meth:`watching` counts the
    waiters of each key and the last one to leave (done, timed out or cancelled) removes it,
    so finished waits and streams leave nothing behind (``len(waiters)``: keys watched)."""

    def __init__(self, poll_seconds: float = WAIT_POLL_SECONDS) -> None:
        self.poll_seconds = poll_seconds
        self._watches: dict[str, Watch] = {}

    def __len__(self) -> int:
        return len(self._watches)

    def notify(self, key: str | None) -> None:
        watch = self._watches.get(key or "")
        if watch is not None:
            signal, watch.event = watch.event, asyncio.Event()
            signal.set()

    def join(self, key: str) -> Watch:
        """Start watching ``key``; call :meth:`leave` once (or use :meth:`watching`)."""
        watch = self._watches.get(key)
        if watch is None:
            watch = self._watches[key] = Watch()
        watch.count += 1
        return watch

    def leave(self, key: str, watch: Watch) -> None:
        watch.count -= 1
        if watch.count <= 0 and self._watches.get(key) is watch:
            del self._watches[key]

    @contextlib.contextmanager
    def watching(self, key: str) -> Iterator[Watch]:
        watch = self.join(key)
        try:
            yield watch
        finally:
            self.leave(key, watch)

    async def wait_for(
        self, key: str, read: Callable[[], T], done: Callable[[T], bool], wait_ms: int
    ) -> T:
        """``read()`` (in a thread) until ``done`` says so or ``wait_ms`` is over."""
        deadline = time.monotonic() + wait_ms / 1000
        with self.watching(key) as watch:
            while True:
                signal = watch.event
                value = await asyncio.to_thread(read)
                left = deadline - time.monotonic()
                if done(value) or left <= 0:
                    return value
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(signal.wait(), timeout=min(left, self.poll_seconds))
