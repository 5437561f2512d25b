"""Slow and oversized clients meet limits on every role's server (network.serving): a real
``reseau-poles registry serve`` process, raw sockets, short limits set by the environment."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.processes import Process, registry_process

HEADER_TIMEOUT = 0.6
BODY_TIMEOUT = 0.6
MAX_HEADER = 4096


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    process = registry_process(
        tmp_path_factory.mktemp("lents"),
        "registre.lents.example",
        RESEAU_POLES_SERVE_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        RESEAU_POLES_SERVE_BODY_TIMEOUT=str(BODY_TIMEOUT),
        RESEAU_POLES_SERVE_MAX_HEADER_BYTES=str(MAX_HEADER),
    ).start()
    try:
        yield process
    finally:
        process.stop()


def connect(process: Process) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", process.port), timeout=10)
    sock.settimeout(10)
    return sock


def read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started = time.monotonic()
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received, time.monotonic() - started


def test_a_silent_connection_is_closed(registry: Process) -> None:
    with connect(registry) as sock:
        received, waited = read_until_closed(sock)
    assert received == b""
    assert waited < HEADER_TIMEOUT + 5


def test_a_head_dripped_byte_by_byte_gets_408(registry: Process) -> None:
    with connect(registry) as sock:
        sock.sendall(b"POST /lookup HTTP/1.1\r\nHost: registre\r\n")
        started = time.monotonic()
        closed = False
        for _ in range(100):  # one byte every 50 ms: alive, never done
            try:
                sock.sendall(b"X")
            except OSError:
                closed = True
                break
            time.sleep(0.05)
            if time.monotonic() - started > HEADER_TIMEOUT + 2:
                break
        received = b"" if closed else read_until_closed(sock)[0]
    assert closed or received.startswith(b"HTTP/1.1 408"), received[:200]


def test_a_body_that_stops_arriving_closes_the_connection(registry: Process) -> None:
    with connect(registry) as sock:
        sock.sendall(
            b"POST /lookup HTTP/1.1\r\nHost: registre\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"subscriber_id":'
        )
        received, waited = read_until_closed(sock)
    assert waited < BODY_TIMEOUT + 5
    assert b" 500 " not in received.split(b"\r\n", 1)[0]


def test_an_oversized_head_gets_431(registry: Process) -> None:
    with connect(registry) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: registre\r\nX-Bourrage: " + b"a" * MAX_HEADER)
        sock.sendall(b"\r\n\r\n")
        received, _ = read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 431"), received[:200]


def test_ordinary_clients_are_served_and_kept_alive(registry: Process) -> None:
    with httpx.Client(base_url=registry.url, timeout=5) as http:
        for _ in range(3):
            assert http.get("/health").status_code == 200
        # A client that pauses between requests less than the keep-alive timeout keeps its
        # connection; a body sent in slow chunks, each within the body timeout, arrives whole.
        time.sleep(HEADER_TIMEOUT / 2)
        assert http.get("/health").status_code == 200

        def slowly() -> Iterator[bytes]:
            for part in (b'{"subscriber_id":', b'"personne.example"', b"}"):
                time.sleep(BODY_TIMEOUT / 3)
                yield part

        response = http.post("/lookup", content=slowly())
        assert response.status_code == 200, response.text


def test_slow_limits_are_settings(tmp_path: Path) -> None:
    """The limits are read from each role's settings, with the documented defaults."""
    from reseau_poles.config import ServingLimits
    from reseau_poles.gateway.settings import GatewaySettings
    from reseau_poles.registry.settings import RegistrySettings
    from reseau_poles.seller.settings import SellerSettings

    for settings in (RegistrySettings(), GatewaySettings(), SellerSettings()):
        limits = settings.serving_limits()
        assert limits == ServingLimits()
        assert limits.serve_header_timeout == 10.0 and limits.serve_body_timeout == 30.0
