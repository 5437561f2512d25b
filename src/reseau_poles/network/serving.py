"""How every role serves HTTP: uvicorn on its fast stack (uvloop and httptools).

One place, so each role gets the same stack: on a 2-core machine a FastAPI endpoint that
digests, signs and verifies answers markedly more requests per second on uvloop + httptools
than on asyncio + h11 (issue 4). ``uvicorn[standard]`` brings both.
"""

from __future__ import annotations

import gc
from typing import Any

FAST_STACK: dict[str, str] = {"loop": "uvloop", "http": "httptools"}

# Young-generation threshold of a serving process (CPython's default is 700 allocations).
GC_GEN0_THRESHOLD = 20_000


def tune_gc() -> None:
    """Garbage collection for a long-running server that parses catalogues all day.

    A message is thousands of short-lived dicts that reference counting frees on its own;
    CPython's defaults still ran a young collection every 700 allocations, and a full one
    that walked every object of the process, hundreds of ms on a buyer node holding its
    recent catalogues (bench/discovery.py: 10 full collections in 43 searches, up to 396 ms
    each, the p95 tail). Here: what start-up built (modules, classes, the app) is frozen out
    of every later collection (``gc.freeze``), and young collections run every 20,000
    allocations. Cycles are still collected."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, middle, old)


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

    tune_gc()
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
