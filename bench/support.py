"""What several benchmarks share: a free loopback port, a percentile, a uvicorn server in a
thread, waiting for a URL to answer. Imported as ``support`` (the scripts run from ``bench/``,
which Python puts first on ``sys.path``)."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

import httpx

# The benchmarks' networks live on loopback: a network declared private (the processes they
# start inherit it), as the demonstration's.
os.environ.setdefault("RESEAU_POLES_PRIVATE_NETWORK", "true")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank value at ``fraction`` (0.5 median, 0.95 p95) of ``values``."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


class ServerThread:
    """``app`` served by uvicorn (uvloop + httptools) in a daemon thread."""

    def __init__(self, app: Any, port: int) -> None:
        import uvicorn

        self.port = port
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", loop="uvloop", http="httptools"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> ServerThread:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def wait_http(url: str, timeout: float = 120) -> None:
    """Until ``url`` answers 200, or a ``RuntimeError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} ne répond pas")
