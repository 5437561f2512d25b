"""Outbound client: the bytes sent are the bytes signed; a peer's garbage is a result."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request, Response

from reseau_poles.network import NetworkClient, read_ack
from reseau_poles.protocol import signing
from reseau_poles.protocol.models import SearchRequest, parse_message

from .support import participant, search_body, serve

pytestmark = pytest.mark.anyio

BUYER = participant("acheteur.example", "BAP")
seen: list[tuple[bytes, dict[str, str]]] = []


def peer_app() -> FastAPI:
    app = FastAPI()

    @app.post("/ok/{action}")
    async def ok(request: Request) -> Response:
        body = await request.body()
        seen.append((body, dict(request.headers)))
        signing.verify(body, request.headers["authorization"], BUYER.keys.signing.public_key_b64)
        return Response(b'{"message":{"ack":{"status":"ACK"}}}', media_type="application/json")

    @app.post("/nack/{action}")
    async def nack() -> Response:
        body = {
            "message": {"ack": {"status": "NACK"}},
            "error": {"code": "30004", "paths": "message.order.items[0].id", "message": "?"},
        }
        return Response(json.dumps(body), status_code=400, media_type="application/json")

    @app.post("/html/{action}")
    async def html() -> Response:
        return Response(b"<html>Bad Gateway</html>", status_code=502, media_type="text/html")

    @app.post("/silence/{action}")
    async def silence() -> Response:
        return Response(b"", status_code=200)

    @app.post("/slow/{action}")
    async def slow() -> Response:
        await asyncio.sleep(1)
        return Response(b'{"message":{"ack":{"status":"ACK"}}}')

    @app.post("/huge/{action}")
    async def huge() -> Response:
        return Response(b"x" * 3_000_000)

    return app


@pytest.fixture(scope="module")
def peer() -> Iterator[str]:
    with serve(peer_app()) as url:
        yield url


async def test_signed_bytes_are_the_bytes_sent(peer: str) -> None:
    async with NetworkClient(BUYER.signer()) as client:
        raw = search_body(BUYER.subscriber_id)
        result = await client.send(f"{peer}/ok", "search", raw)
        assert result.ok and result.http_status == 200 and result.latency > 0
        assert seen[-1][0] == raw

        as_dict = json.loads(raw)
        result = await client.send(f"{peer}/ok/", "search", as_dict)
        assert result.ok
        assert json.loads(seen[-1][0]) == as_dict

        model = parse_message("search", raw)
        assert isinstance(model, SearchRequest)
        result = await client.send(f"{peer}/ok", "search", model)
        assert result.ok
        assert seen[-1][1]["content-type"] == "application/json"


async def test_forwarding_keeps_the_original_authorization(peer: str) -> None:
    gateway = participant("passerelle.example", "BG")
    raw = search_body(BUYER.subscriber_id)
    original = BUYER.signer().sign(raw)
    async with NetworkClient(gateway.signer()) as client:
        result = await client.send(
            f"{peer}/ok",
            "search",
            raw,
            headers={"Authorization": original},
            signature_header=signing.GATEWAY_AUTHORIZATION,
        )
    assert result.ok
    body, headers = seen[-1]
    assert headers["authorization"] == original
    signing.verify(body, headers["x-gateway-authorization"], gateway.keys.signing.public_key_b64)


async def test_a_nack_carries_the_peer_error(peer: str) -> None:
    async with NetworkClient(BUYER.signer()) as client:
        result = await client.send(f"{peer}/nack", "select", {"context": {}})
    assert result.status == "NACK" and result.http_status == 400
    assert result.error_code == "30004"
    assert not result.retryable


@pytest.mark.parametrize(
    ("path", "http_status", "words"),
    [
        ("html", 502, "non JSON"),
        ("silence", 200, "non JSON"),
        ("huge", 200, "volumineuse"),
    ],
)
async def test_garbage_is_a_failed_result(
    peer: str, path: str, http_status: int, words: str
) -> None:
    async with NetworkClient(BUYER.signer(), max_response_bytes=1_000_000) as client:
        result = await client.send(f"{peer}/{path}", "search", {"context": {}})
    assert result.status == "ERROR"
    assert result.http_status == http_status
    assert words in result.error["message"]


async def test_timeouts_and_refused_connections_are_failed_results(peer: str) -> None:
    from tests.conftest import free_port

    async with NetworkClient(BUYER.signer(), timeout=0.3) as client:
        slow = await client.send(f"{peer}/slow", "search", {"context": {}})
        closed = await client.send(f"http://127.0.0.1:{free_port()}", "search", {"context": {}})
    assert slow.status == "ERROR" and "délai" in slow.error["message"] and slow.retryable
    assert closed.status == "ERROR" and closed.http_status is None and closed.retryable


def test_read_ack_only_takes_a_2xx_ack() -> None:
    assert read_ack(200, b'{"message":{"ack":{"status":"ACK"}}}') == ("ACK", None)
    assert read_ack(200, b'{"message": {"ack": {"status": "ACK"}}}')[0] == "ACK"
    assert read_ack(500, b'{"message":{"ack":{"status":"ACK"}}}')[0] == "ERROR"
    assert read_ack(200, b'{"message":{}}')[0] == "ERROR"
    assert read_ack(200, b"[1]")[0] == "ERROR"
    assert read_ack(401, b'{"message":{"ack":{"status":"NACK"}},"error":7}')[0] == "NACK"
