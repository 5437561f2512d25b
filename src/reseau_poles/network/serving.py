"""How every role serves HTTP: uvicorn on its fast stack (uvloop and httptools).

One place, so each role gets the same stack: on a 2-core machine a FastAPI endpoint that
digests, signs and verifies answers markedly more requests per second on uvloop + httptools
than on asyncio + h11 (issue 4). ``uvicorn[standard]`` brings both.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

FAST_STACK: dict[str, str] = {"loop": "uvloop", "http": "httptools"}

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
        os.environ[FACTORY_ENV] = factory  # inherited by the workers
        uvicorn.run(f"{__name__}:tuned_factory", factory=True, workers=workers, **options)
        return
    tune_runtime()
    uvicorn.run(app, **options)
