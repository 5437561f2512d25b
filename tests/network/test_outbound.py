"""One outbound path: both transports answer the same, and every failure is read once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from hypothesis import given
from hypothesis import strategies as st

from reseau_poles.network import NetworkClient
from reseau_poles.network.destinations import DestinationPolicy
from reseau_poles.network.outbound import (
    DESTINATION_FORBIDDEN,
    CallFailure,
    FailureKind,
    HttpxTransport,
    Interrupted,
    Transport,
    WireTransport,
    call_failure,
)
from reseau_poles.network.wire import (
    TOO_LARGE,
    BadResponse,
    ConnectionFailed,
    DestinationForbidden,
)
from tests.conftest import free_port

from .support import participant, serve

pytestmark = pytest.mark.anyio

BUYER = participant("acheteur.example", "BAP")
ACK = b'{"message":{"ack":{"status":"ACK"}}}'
MAX_BYTES = 100_000


def peer_app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        body = await request.body()
        return Response(body, headers={"X-Seen": request.headers.get("x-probe", "")})

    @app.post("/huge")
    async def huge() -> Response:
        return Response(b"x" * (MAX_BYTES * 3), status_code=202)

    @app.post("/slow")
    async def slow() -> Response:
        await asyncio.sleep(1)
        return Response(ACK)

    @app.post("/ack/{action}")
    async def ack() -> Response:
        return Response(ACK, media_type="application/json")

    return app


@pytest.fixture(scope="module")
def peer() -> Iterator[str]:
    with serve(peer_app()) as url:
        yield url


def make(kind: str, **wire: object) -> Transport:
    if kind == "wire":
        return WireTransport(max_response_bytes=MAX_BYTES, **wire)  # type: ignore[arg-type]
    http = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=1.0), trust_env=False)
    return HttpxTransport(http, max_response_bytes=MAX_BYTES, owned=True)


TRANSPORTS = ["wire", "httpx"]


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_each_transport_posts_the_bytes_and_returns_the_answer(peer: str, kind: str) -> None:
    transport = make(kind)
    try:
        status, body = await transport.post(
            f"{peer}/echo", b'{"a":"\xc3\xa9"}', {"Content-Type": "application/json"}, timeout=5
        )
    finally:
        await transport.aclose()
    assert (status, body) == (200, b'{"a":"\xc3\xa9"}')


async def failure_of(transport: Transport, url: str, timeout: float = 5.0) -> CallFailure:
    try:
        await transport.post(url, b"{}", {}, timeout=timeout)
    except Exception as exc:
        return call_failure(exc)
    finally:
        await transport.aclose()
    raise AssertionError("the call should have failed")


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_too_large_an_answer_is_a_bad_answer_with_its_status(peer: str, kind: str) -> None:
    failure = await failure_of(make(kind), f"{peer}/huge")
    assert failure.kind is FailureKind.BAD_ANSWER
    assert failure.message == TOO_LARGE == "réponse trop volumineuse"
    assert failure.http_status == 202
    assert failure.error == {"code": "network", "message": TOO_LARGE}


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_silence_is_a_timeout(peer: str, kind: str) -> None:
    failure = await failure_of(make(kind), f"{peer}/slow", timeout=0.3)
    assert failure.kind is FailureKind.TIMEOUT
    assert failure.message == "délai dépassé"


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_a_closed_port_is_a_connection_failure(kind: str) -> None:
    failure = await failure_of(make(kind), f"http://127.0.0.1:{free_port()}/x")
    assert failure.kind is FailureKind.CONNECT and failure.http_status is None
    assert failure.code == "network"
    # The wire client says what happened, httpx its exception's type: as before.
    if kind == "wire":
        assert failure.message.startswith("échec réseau : connexion impossible à 127.0.0.1:")
    else:
        assert failure.message == "échec réseau : ConnectError"


async def test_a_forbidden_destination_is_refused_before_any_connection(peer: str) -> None:
    transport = make("wire", policy=DestinationPolicy(allow_http=True))
    failure = await failure_of(transport, f"{peer}/echo")
    assert failure.kind is FailureKind.FORBIDDEN
    assert failure.code == DESTINATION_FORBIDDEN == "destination_interdite"


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_the_client_records_the_same_result_over_either_transport(
    peer: str, kind: str
) -> None:
    async with NetworkClient(BUYER.signer(), transport=make(kind)) as client:
        ok = await client.send(f"{peer}/ack", "search", {"context": {}})
        huge = await client.post(f"{peer}/huge", "search", b"{}", {})
        closed = await client.send(f"http://127.0.0.1:{free_port()}", "search", {})
    assert ok.ok and ok.failure is None and ok.http_status == 200
    assert (huge.status, huge.http_status, huge.error) == (
        "ERROR",
        202,
        {"code": "network", "message": TOO_LARGE},
    )
    assert huge.failure is not None and huge.failure.kind is FailureKind.BAD_ANSWER
    assert not huge.retryable  # a 2xx too large: sending it again gives the same
    assert closed.status == "ERROR" and closed.retryable
    assert closed.failure is not None and closed.failure.kind is FailureKind.CONNECT


async def test_httpx_extensions_over_the_wire_client_go_through_httpx(peer: str) -> None:
    """A call with httpx ``extensions`` (a TLS server name) cannot take the wire transport:
    the client makes an httpx one for it, and closes it with itself."""
    async with NetworkClient(None) as client:
        result = await client.post(
            f"{peer}/ack/x", "x", b"{}", {}, extensions={"sni_hostname": "pair.example"}
        )
        assert result.ok
        assert client._extended is not None
    assert client._extended is None


@pytest.mark.parametrize(
    ("exc", "kind", "message", "code"),
    [
        (TimeoutError(), FailureKind.TIMEOUT, "délai dépassé", "network"),
        (httpx.ReadTimeout("lent"), FailureKind.TIMEOUT, "délai dépassé", "network"),
        (httpx.ConnectTimeout("lent"), FailureKind.TIMEOUT, "délai dépassé", "network"),
        (
            ConnectionFailed("connexion impossible à h:1 : refusée"),
            FailureKind.CONNECT,
            "échec réseau : connexion impossible à h:1 : refusée",
            "network",
        ),
        (
            httpx.ConnectError("refusée"),
            FailureKind.CONNECT,
            "échec réseau : ConnectError",
            "network",
        ),
        (
            DestinationForbidden("adresse privée refusée"),
            FailureKind.FORBIDDEN,
            "adresse privée refusée",
            DESTINATION_FORBIDDEN,
        ),
        (BadResponse(TOO_LARGE, 200), FailureKind.BAD_ANSWER, TOO_LARGE, "network"),
        (
            BadResponse("pas du HTTP"),
            FailureKind.BAD_ANSWER,
            "échec réseau : réponse illisible (pas du HTTP)",
            "network",
        ),
        (
            httpx.RemoteProtocolError("?"),
            FailureKind.OTHER,
            "échec réseau : RemoteProtocolError",
            "network",
        ),
        (
            ValueError("URL non prise en charge"),
            FailureKind.OTHER,
            "échec réseau : ValueError",
            "network",
        ),
        (OSError("?"), FailureKind.OTHER, "échec réseau : OSError", "network"),
    ],
)
def test_every_failure_is_read_once(
    exc: BaseException, kind: FailureKind, message: str, code: str
) -> None:
    failure = call_failure(exc)
    assert (failure.kind, failure.message, failure.code) == (kind, message, code)
    assert failure.cause is exc
    assert failure.error == {"code": code, "message": message}


def test_a_failure_after_the_answer_head_keeps_its_status() -> None:
    cut = Interrupted(httpx.ReadError("coupée"), 503)
    failure = call_failure(cut)
    assert (failure.kind, failure.http_status) == (FailureKind.OTHER, 503)
    assert failure.message == "échec réseau : ReadError"
    late = call_failure(Interrupted(httpx.ReadTimeout("lent"), 200))
    assert (late.kind, late.http_status, late.message) == (
        FailureKind.TIMEOUT,
        200,
        "délai dépassé",
    )


@given(st.text(max_size=500), st.none() | st.integers(100, 599))
def test_an_unreadable_answer_is_said_briefly(text: str, status: int | None) -> None:
    failure = call_failure(BadResponse(text, status))
    assert failure.kind is FailureKind.BAD_ANSWER
    assert failure.http_status == status
    if text != TOO_LARGE:
        assert failure.message == f"échec réseau : réponse illisible ({text[:200]})"
        assert len(failure.message) <= len("échec réseau : réponse illisible ()") + 200
