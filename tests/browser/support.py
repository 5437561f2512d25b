"""A small real site for the browser tests that need no node: the portal's static files
(straight from the package, at /static/portal/ as the nodes serve them), a folder of pages,
an htmx fragment and a Server-Sent Events stream, served by uvicorn on loopback."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import reseau_poles
from tests.conftest import free_port

PORTAL_STATIC = Path(reseau_poles.__file__).resolve().parent / "portal" / "static"
PAGES = Path(__file__).resolve().parent / "pages"


async def fragment(request: Request) -> HTMLResponse:
    """What an htmx request gets: a fragment, slowly enough to see the indicator."""
    await asyncio.sleep(float(request.query_params.get("attente", "0.6")))
    marker = request.headers.get("hx-request", "absent")
    return HTMLResponse(
        f'<p id="fragment" class="flash flash-ok">Fragment reçu (HX-Request : {marker})</p>',
        headers={"Vary": "HX-Request"},
    )


async def events(request: Request) -> StreamingResponse:
    """One ``message`` event, then comments to keep the stream open for a few seconds."""

    async def stream() -> AsyncIterator[str]:
        yield 'event: message\ndata: <p id="direct">Reçu en direct</p>\n\n'
        for _ in range(50):
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.1)
            yield ": attente\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


def site(pages: Path = PAGES) -> Starlette:
    return Starlette(
        routes=[
            Route("/fragment", fragment),
            Route("/evenements", events),
            Mount("/static/portal", StaticFiles(directory=PORTAL_STATIC)),
            Mount("/", StaticFiles(directory=pages, html=True)),
        ]
    )


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """``app`` on uvicorn, 127.0.0.1, in a thread; yields its base URL. Open streams are cut
    a second after the end."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("le serveur de test n'a pas démarré")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
