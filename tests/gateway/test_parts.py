"""The gateway's small parts alone: token bucket, multicast HTTP client, settings, CLI."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from reseau_poles.gateway import GatewaySettings
from reseau_poles.gateway.cli import app as cli
from reseau_poles.network.ratelimit import RateLimiter
from reseau_poles.network.wire import ConnectionFailed, Target, WireClient
from tests.conftest import free_port


def test_token_bucket_per_subscriber() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 3, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # its own bucket
    assert limiter.retry_after("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.allow("a") and not limiter.allow("a")
    assert RateLimiter(0, 1).allow("x")  # 0 turns it off


def test_target_parsing() -> None:
    target = Target.parse("http://vendeur.example:8080/beckn/search?x=1")
    assert target.origin == ("http", "vendeur.example", 8080)
    assert target.path == "/beckn/search?x=1"
    assert target.host_header == "vendeur.example:8080"
    assert Target.parse("https://v.example/search").host_header == "v.example"
    with pytest.raises(ValueError):
        Target.parse("ftp://v.example/search")


def test_wire_client_keep_alive_chunked_and_stale_connections() -> None:
    async def scenario() -> None:
        connections = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connections.append(writer)
            served = 0
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                served += 1
                if served == 1:
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                else:  # chunked, then close: the next call needs a fresh connection
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"3\r\nabc\r\n0\r\n\r\n"
                    )
                    await writer.drain()
                    writer.close()
                    return

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = WireClient()
        target = Target.parse(f"http://127.0.0.1:{port}/search")
        data = client.request_bytes(target, b"{}", {"Content-Type": "application/json"})
        assert await client.post(target, data) == (200, b"ok")
        assert await client.post(target, data) == (200, b"abc")  # same connection
        assert len(connections) == 1
        await asyncio.sleep(0.05)
        assert await client.post(target, data) == (200, b"ok")  # stale one replaced
        assert len(connections) == 2
        client.close()
        server.close()
        await server.wait_closed()

        dead = Target.parse(f"http://127.0.0.1:{free_port()}/search")
        with pytest.raises(ConnectionFailed):
            await WireClient().post(dead, data)
        with pytest.raises(ValueError):
            client.request_bytes(target, b"", {"X": "a\r\nInjected: 1"})

    asyncio.run(scenario())


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEAU_POLES_REGISTRY_URL", "http://registre:8000")
    monkeypatch.setenv("RESEAU_POLES_MAX_IN_FLIGHT", "64")
    monkeypatch.setenv("RESEAU_POLES_DOMAINS", '["PLA:ALIMENTS"]')
    settings = GatewaySettings()
    assert settings.registry_url == "http://registre:8000"
    assert settings.max_in_flight == 64 and settings.domains == ["PLA:ALIMENTS"]
    assert settings.network().lookup_cache_ttl == 60
    monkeypatch.setenv("RESEAU_POLES_LOOKUP_CACHE_TTL", "300")
    with pytest.raises(ValueError):
        GatewaySettings()  # PROTOCOL.md: caches live at most 60 s


def test_cli_show(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEAU_POLES_KEY_DIR", str(tmp_path / "cles"))
    result = CliRunner().invoke(cli, ["show"])
    assert result.exit_code == 0, result.output
    assert "passerelle.reseau-poles.example" in result.output
    assert (tmp_path / "cles" / "keys.json").is_file()
