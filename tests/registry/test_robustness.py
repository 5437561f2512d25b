"""Bad input never gets a 500 or a stack trace."""

from __future__ import annotations

import json

from .conftest import RunningRegistry

JUNK = [
    b"",
    b"null",
    b"0",
    b"[]",
    b"{}",
    b'{"subscriber_id": null}',
    b'{"subscriber_id": {"a": 1}}',
    b"\xff\xfe\x00",
    b'{"' + b"a" * 5000 + b'": 1}',
    json.dumps({"type": ["BPP"], "domain": 3, "city": [], "location": {"city": 5}}).encode(),
    json.dumps({"url": "http://[::1", "domains": "PLA", "regions": None}).encode(),
    json.dumps({"valid_from": 10**20, "valid_until": "9999-99-99"}).encode(),
]


def test_no_500_on_junk(registry: RunningRegistry) -> None:
    http = registry.http
    for path in ("/subscribe", "/lookup", "/subscribers/lookup", "/admin/subscribers/x/suspend"):
        for body in JUNK:
            for headers in (
                {"Content-Type": "application/json"},
                {"Content-Type": "text/plain", "Authorization": 'Signature keyId="a|b|ed25519"'},
            ):
                response = http.post(path, content=body, headers=headers)
                assert response.status_code < 500, (path, body[:40], response.text)
                if response.status_code >= 400:
                    assert response.json()["message"]["ack"]["status"] == "NACK"
                    assert "Traceback" not in response.text
    too_big = b"{" + b" " * 200_000 + b"}"
    response = http.post("/subscribe", content=too_big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "15000"


def test_unexpected_errors_are_generic_nacks(registry_factory) -> None:
    registry = registry_factory()

    @registry.app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret interne")

    response = registry.http.get("/boom")
    assert response.status_code == 500
    assert response.json()["message"]["ack"]["status"] == "NACK"
    assert "secret" not in response.text
    assert "Traceback" not in response.text
