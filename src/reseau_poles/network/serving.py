"""How every role serves HTTP: uvicorn on its fast stack (uvloop and httptools), with limits.

One place, so each role gets the same stack: on a 2-core machine a FastAPI endpoint that
digests, signs and verifies answers markedly more requests per second on uvloop + httptools
than on asyncio + h11. ``uvicorn[standard]`` brings both.

Uvicorn closes an idle kept-alive connection, but waits forever for a request's head and
body: a client that opens connections and drips a byte now and then (slowloris) holds them
all. :class:`GuardedHttpProtocol` adds what it lacks (:class:`ServingLimits`): the head of a
request must arrive whole within ``serve_header_timeout`` and be at most
``serve_max_header_bytes`` (else 431), and a body that stops arriving for
``serve_body_timeout`` closes the connection (the application reads a disconnect and answers
its own 400). Beyond ``serve_limit_concurrency`` connections or requests at once, uvicorn
answers 503.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from typing import Any

from reseau_poles.config import ServingLimits

FAST_STACK: dict[str, str] = {"loop": "uvloop", "http": "httptools"}
# For uvicorn's worker processes: the limits, as JSON (read by GuardedHttpProtocol there).
LIMITS_ENV = "RESEAU_POLES_SERVE_LIMITS"

# Young-generation threshold of a serving process (CPython's default is 700 allocations).
GC_GEN0_THRESHOLD = 20_000
# How long a thread may hold the GIL while another waits for it (CPython's default: 5 ms).
SWITCH_INTERVAL = 0.001
# For uvicorn's worker processes (``workers`` > 1): the role's application factory.
FACTORY_ENV = "RESEAU_POLES_SERVE_FACTORY"


def tune_runtime() -> None:
    """The interpreter of a long-running node, tuned once its application is built.

    Garbage collection, for a server that parses catalogues all day. A message is thousands
    of short-lived dicts that reference counting frees on its own; CPython's defaults still
    ran a young collection every 700 allocations, and a full one that walked every object of
    the process, hundreds of ms on a buyer node holding its recent catalogues
    (bench/discovery.py: 10 full collections in 43 searches, up to 396 ms each, the p95
    tail). Here: what start-up built (modules, classes, the app) is frozen out of every later
    collection (``gc.freeze``), and young collections run every 20,000 allocations. Cycles
    are still collected.

    Thread switches. A node's event loop verifies messages while its protocol threads write
    them and other threads read for the streams; each database call releases the GIL and must
    get it back, and a thread that waits for it could wait a whole switch interval. At 1 ms
    instead of 5, bench/discovery.py (two pairs of runs, alternated): all 25 answers stored
    p50 161–167 ms against 179–181, the stream's end p95 248–250 ms against 275–301, a little
    less CPU for the buyer (140 ms per search against 147)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, middle, old)
    sys.setswitchinterval(SWITCH_INTERVAL)


def tuned_factory() -> Any:
    """The application of one of uvicorn's worker processes: the role's factory (named in
    ``FACTORY_ENV`` by :func:`serve`), then :func:`tune_runtime` in that process."""
    from uvicorn.importer import import_from_string

    app = import_from_string(os.environ[FACTORY_ENV])()
    tune_runtime()
    return app


def serve(
    app: Any,
    *,
    host: str,
    port: int,
    workers: int = 1,
    factory: str | None = None,
    log_level: str = "info",
    access_log: bool = True,
    limits: ServingLimits | None = None,
) -> None:
    """Run ``app`` until stopped; with ``workers`` > 1, each worker builds its own app by
    calling ``factory`` (an import string such as ``"reseau_poles.registry.app:create_app"``).
    ``limits``: the role's settings (they include :class:`ServingLimits`) or the defaults."""
    import uvicorn

    limits = limits.serving_limits() if limits is not None else ServingLimits()
    os.environ[LIMITS_ENV] = limits.model_dump_json()  # read here and by the workers
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": access_log,
        "lifespan": "on",
        **FAST_STACK,
        "http": guarded_protocol(),
        "timeout_keep_alive": limits.serve_keep_alive_timeout,
        "limit_concurrency": limits.serve_limit_concurrency,
    }
    if workers > 1:
        if factory is None:
            raise ValueError("plusieurs processus demandent une fabrique d'application (factory)")
        os.environ[FACTORY_ENV] = factory  # inherited by the workers
        uvicorn.run(f"{__name__}:tuned_factory", factory=True, workers=workers, **options)
        return
    tune_runtime()
    uvicorn.run(app, **options)


def _limits() -> ServingLimits:
    raw = os.environ.get(LIMITS_ENV)
    return ServingLimits.model_validate(json.loads(raw)) if raw else ServingLimits()


def guarded_protocol() -> type:
    """:class:`GuardedHttpProtocol`, made once (uvicorn is imported only by a process that
    serves); the same class each time, so uvicorn's worker processes can unpickle it."""
    cls = globals().get("GuardedHttpProtocol")
    if cls is None:
        cls = globals()["GuardedHttpProtocol"] = _make_guarded_protocol()
    return cls


def _make_guarded_protocol() -> type:
    """uvicorn's httptools protocol with the head and body limits."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class Guarded(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            limits = _limits()
            self._head_timeout = limits.serve_header_timeout
            self._body_timeout = limits.serve_body_timeout
            self._max_head = limits.serve_max_header_bytes
            self._head_bytes = 0
            self._head_too_large = False
            self._timer: Any = None

        def _arm(self, delay: float, reason: str) -> None:
            self._disarm()
            self._timer = self.loop.call_later(delay, self._expired, reason)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _expired(self, reason: str) -> None:
            self._timer = None
            if reason == "body" and self.flow.read_paused:
                # The application is slow to read what came, not the client to send it.
                self._arm(self._body_timeout, "body")
                return
            if self.transport.is_closing():
                return
            self.logger.info("connexion fermée : %s trop lent (%s)", reason, self.client)
            if reason == "head" and self._head_bytes:
                self._answer_and_close(408, "Délai dépassé pour l'en-tête de la requête.")
            else:
                self.transport.close()

        def _answer_and_close(self, status: int, message: str) -> None:
            text = message.encode("utf-8")
            reason = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}[status]
            self.transport.write(
                b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s"
                % (status, reason, len(text), text)
            )
            self.transport.close()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm(self._head_timeout, "head")

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_bytes = 0
            self._arm(self._head_timeout, "head")

        def _count(self, size: int) -> None:
            self._head_bytes += size
            if self._head_bytes > self._max_head:
                self._head_too_large = True
                raise ValueError("en-tête trop volumineux")  # stops the parser

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()
            cycle = self.cycle
            if (
                cycle is not None
                and not self.parser.should_upgrade()
                and not cycle.response_complete
                and cycle.more_body
            ):
                self._arm(self._body_timeout, "body")

        def on_body(self, body: bytes) -> None:
            super().on_body(body)
            if self._timer is not None:
                self._arm(self._body_timeout, "body")

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def send_400_response(self, msg: str) -> None:
            if self._head_too_large:
                self._answer_and_close(431, "En-tête de la requête trop volumineux.")
            else:
                super().send_400_response(msg)

    Guarded.__name__ = Guarded.__qualname__ = "GuardedHttpProtocol"
    return Guarded


def __getattr__(name: str) -> Any:
    # ``serving.GuardedHttpProtocol`` (a worker unpickling uvicorn's configuration): made on
    # first use.
    if name == "GuardedHttpProtocol":
        return guarded_protocol()
    raise AttributeError(name)
