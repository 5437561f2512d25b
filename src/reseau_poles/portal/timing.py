"""``Server-Timing: app;dur=…, cpu;dur=…`` on every answer of the portal's pages: how long the
application took, in milliseconds, from the request reaching it to the start of its answer (for
an HTML page, the whole page: it is rendered before it is sent; for a stream, until it opens),
and the processor time the node's process used meanwhile (every thread: the page's own work
when it is the only request, more when others run beside it; on a busy machine the first
grows with the wait for a processor, the second does not).

A browser's developer tools show it beside the network's time; ``bench/portal.py`` reads it to
tell the server's share of a page from the rest. Raw ASGI (no ``BaseHTTPMiddleware``: nothing
is buffered), added by :func:`~.routes.install_portal` as the innermost of the application's
middleware, so the protocol's front (:mod:`reseau_poles.network.pipeline`) stays outermost and
the time is the page's own; only the portal's paths get the header.
"""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "Server-Timing"
METRIC = "app"
CPU_METRIC = "cpu"


class ServerTiming:
    """Times every HTTP request under ``prefix`` (``/portail``, ``/gestion``)."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = "/" + prefix.strip("/")

    def covers(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.covers(scope["path"]):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        processor = time.process_time()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = (time.perf_counter() - started) * 1000
                used = (time.process_time() - processor) * 1000
                headers = MutableHeaders(scope=message)
                # A route that timed itself keeps its own figure; ours goes beside it.
                headers.append(HEADER, f"{METRIC};dur={elapsed:.1f}, {CPU_METRIC};dur={used:.1f}")
            await send(message)

        await self.app(scope, receive, timed)


def server_time(value: str | None, metric: str = METRIC) -> float | None:
    """The ``metric`` duration (ms; ``app`` by default) of a ``Server-Timing`` header's value,
    else ``None``."""
    for entry in (value or "").split(","):
        name, _, params = entry.strip().partition(";")
        if name.strip() != metric:
            continue
        for param in params.split(";"):
            key, _, number = param.strip().partition("=")
            if key == "dur":
                try:
                    return float(number)
                except ValueError:
                    return None
    return None
