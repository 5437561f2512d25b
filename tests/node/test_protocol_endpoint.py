"""A node's ``POST /{action}``: the one pipeline, raw ASGI in front of FastAPI (the outermost
layer), answers each refusal with its status, NACK and challenge header; a database that
does not answer is a 503 to retry and anything unexpected a 500 NACK without a traceback, on
a connection that stays open; each message lands once in the transcript."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy.exc
from fastapi import FastAPI
from sqlalchemy import func, select

from reseau_poles.network import InboundMessage, NetworkSettings, NodeNetwork
from reseau_poles.network.pipeline import ProtocolEndpoint
from reseau_poles.network.tables import transcript_table
from reseau_poles.seller.app import create_app
from reseau_poles.seller.settings import SellerSettings
from tests.network.support import StandInRegistry, participant, search_body, serve


@pytest.fixture(scope="module")
def registry() -> Iterator[tuple[StandInRegistry, str, Any]]:
    registry = StandInRegistry()
    buyer = participant("acheteur.example", "BAP")
    registry.add(buyer)
    with serve(registry.app) as url:
        yield registry, url, buyer


def seller_app(tmp: Path, registry: StandInRegistry, registry_url: str) -> FastAPI:
    settings = SellerSettings(
        database_url=f"sqlite:///{tmp / 'vendeur'}.sqlite",
        subscriber_id="vendeur.example",
        key_dir=tmp / "cles",
        public_url="http://127.0.0.1:9",
        registry_url=registry_url,
        registry_public_key=registry.public_key,
    )
    app = create_app(settings, network_settings=settings.network_settings())
    endpoints = [m for m in app.user_middleware if m.cls is ProtocolEndpoint]
    assert endpoints == app.user_middleware[:1]  # one, the outermost layer
    assert "/{action}" not in {getattr(route, "path", "") for route in app.routes}
    return app


def raw_post(url: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, str]:
    """A request announcing a body it never sends (httpx sends what it announces)."""
    host, port = url.removeprefix("http://").split(":")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}"] + [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
    return int(answer.split(b" ", 2)[1]), answer.decode("latin-1")


Case = tuple[str, bytes, dict[str, str]]


def cases(buyer: Any) -> list[Case]:
    """Good and bad requests; built once, sent to each variant (each has its replay guard)."""
    signer = buyer.signer()
    good = search_body(buyer.subscriber_id)
    wrong_action = good.replace(b'"action":"search"', b'"action":"select"')
    someone_else = participant("inconnu.example", "BAP")
    stranger = search_body(someone_else.subscriber_id)
    return [
        ("/search", good, {"Authorization": signer.sign(good)}),
        ("/search", good, {"Authorization": signer.sign(good)}),  # the same copy: a replay
        ("/search", good, {}),  # unsigned
        ("/search", b"{pas du json", {"Authorization": signer.sign(b"{pas du json")}),
        ("/search", wrong_action, {"Authorization": signer.sign(wrong_action)}),
        ("/select", good, {"Authorization": signer.sign(good)}),  # body says search
        ("/search", stranger, {"Authorization": someone_else.signer().sign(stranger)}),
        ("/search", b"x" * 2_000_000, {}),  # over the body limit
        ("/on_search", good, {"Authorization": signer.sign(good)}),  # not a seller's action
    ]


def answers(url: str, requests: list[Case]) -> list[tuple[Any, ...]]:
    """The node's answers to ``requests``, as comparable tuples."""
    found = []
    with httpx.Client(base_url=url, timeout=10) as http:
        for path, body, headers in requests:
            response = http.post(
                path, content=body, headers={"Content-Type": "application/json", **headers}
            )
            payload = response.json()
            error = payload.get("error") or {}
            found.append(
                (
                    path,
                    response.status_code,
                    response.headers.get("www-authenticate"),
                    payload["message"]["ack"]["status"],
                    error.get("code"),
                    error.get("paths"),
                    error.get("message"),
                )
            )
    # Declared too large: refused before a byte of the body is read.
    status, text = raw_post(url, "/search", {"Content-Length": "99999999"})
    found.append(("déclaré", status, "trop volumineux" in text))
    return found


def test_each_refusal_has_its_answer(
    tmp_path: Path, registry: tuple[StandInRegistry, str, Any]
) -> None:
    stand_in, registry_url, buyer = registry
    app = seller_app(tmp_path, stand_in, registry_url)
    with serve(app) as url:
        seen = answers(url, cases(buyer))
    statuses = [row[1] for row in seen]
    assert statuses == [200, 401, 401, 400, 400, 400, 401, 413, 400, 413], seen
    acks = [row[3] for row in seen[:-1]]
    assert acks == ["ACK"] + ["NACK"] * 8, seen
    codes = [row[4] for row in seen[:-1]]
    assert codes == [None, "30022", "30016", "30000", "30000", "30000", "30016", "30000", "30000"]
    paths = [row[5] for row in seen[:-1]]
    assert paths[1:] == [
        "context.message_id",  # the replay
        "headers.Authorization",  # unsigned
        "$",  # not JSON
        "context.action",  # the body says select
        "context.action",  # the URL says select
        "headers.Authorization",  # a key the registry does not know
        "body",  # too large
        "context.action",  # not a seller's action (the URL is checked against the body first)
    ], seen
    assert seen[-1][2] is True
    assert seen[2][2] and seen[2][2].startswith("Signature realm=")


def test_each_message_is_transcribed_once(
    tmp_path: Path, registry: tuple[StandInRegistry, str, Any]
) -> None:
    stand_in, registry_url, buyer = registry
    app = seller_app(tmp_path, stand_in, registry_url)
    body = search_body(buyer.subscriber_id)
    with serve(app) as url, httpx.Client(timeout=10) as http:
        response = http.post(
            f"{url}/search",
            content=body,
            headers={
                "Authorization": buyer.signer().sign(body),
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 200, response.text
        http.post(f"{url}/search", content=b"{}")  # refused: recorded too
        app.state.network.transcript.flush()
        with app.state.engine.connect() as connection:
            rows = connection.execute(
                select(transcript_table.c.action, transcript_table.c.http_status, func.count())
                .where(transcript_table.c.direction == "in")
                .group_by(transcript_table.c.action, transcript_table.c.http_status)
                .order_by(transcript_table.c.http_status)
            ).all()
    assert [tuple(row) for row in rows] == [("search", 200, 1), ("search", 401, 1)]


def test_database_down_and_the_unexpected_keep_the_connection(
    registry: tuple[StandInRegistry, str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    stand_in, registry_url, buyer = registry
    network = NodeNetwork(
        subscriber_id="vendeur.example",
        role="BPP",
        signer=None,
        settings=NetworkSettings(
            registry_url=registry_url,
            registry_public_key=stand_in.public_key,
            transcript_database=False,
        ),
    )
    failures = iter(
        [
            sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connexion refusée")),
            RuntimeError("secret interne"),
        ]
    )

    async def handle(_message: InboundMessage) -> None:
        raise next(failures)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        async with network:
            yield

    app = FastAPI(lifespan=lifespan)
    network.serve_protocol(app, handle)
    signer = buyer.signer()
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        found = []
        for _ in range(2):  # one keep-alive connection throughout
            body = search_body(buyer.subscriber_id)
            response = http.post(
                "/search",
                content=body,
                headers={"Authorization": signer.sign(body), "Content-Type": "application/json"},
            )
            found.append(response)
    down, unexpected = found
    assert down.status_code == 503 and down.headers["Retry-After"] == "1"
    assert down.json()["message"]["ack"]["status"] == "NACK"
    assert "indisponible" in down.json()["error"]["message"]
    assert unexpected.status_code == 500
    assert unexpected.json()["error"]["message"] == "erreur interne du nœud ; réessayez plus tard"
    assert "secret interne" not in unexpected.text and "Traceback" not in unexpected.text
    assert any("secret interne" in (r.exc_text or "") for r in caplog.records)
    json.dumps([r.getMessage() for r in caplog.records])  # logged, readable
