"""How every role serves HTTP: uvicorn on its fast stack (uvloop and httptools).

One place, so each role gets the same stack: on a 2-core machine a FastAPI endpoint that
digests, signs and verifies answers markedly more requests per second on uvloop + httptools
than on asyncio + h11 (issue 4). ``uvicorn[standard]`` brings both.
"""

from __future__ import annotations

from typing import Any

FAST_STACK: dict[str, str] = {"loop": "uvloop", "http": "httptools"}


def serve(
    app: Any,
    *,
    host: str,
    port: int,
    workers: int = 1,
    factory: str | None = None,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Run ``app`` until stopped; with ``workers`` > 1, each worker builds its own app by
    calling ``factory`` (an import string such as ``"reseau_poles.registry.app:create_app"``)."""
    import uvicorn

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": access_log,
        "lifespan": "on",
        **FAST_STACK,
    }
    if workers > 1:
        if factory is None:
            raise ValueError("plusieurs processus demandent une fabrique d'application (factory)")
        uvicorn.run(factory, factory=True, workers=workers, **options)
        return
    uvicorn.run(app, **options)
