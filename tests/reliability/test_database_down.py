"""A node whose database does not answer says so: 503 with ``Retry-After`` and a NACK the
caller may retry, on a connection that stays open (an ``Exception`` handler would make
Starlette re-raise and uvicorn drop the connection, which clients see as a read error)."""

from __future__ import annotations

import httpx
import sqlalchemy.exc
from fastapi import FastAPI

from reseau_poles.network.inbound import Inbound, install
from reseau_poles.network.lookup import RegistryLookup
from tests.registry.conftest import UvicornThread


def test_database_down_is_a_retryable_503_on_a_kept_connection() -> None:
    app = FastAPI()
    inbound = Inbound("vendeur.example", "BPP", RegistryLookup("http://127.0.0.1:9"))
    install(app, inbound)
    calls = {"n": 0}

    @app.post("/confirm")
    async def confirm() -> dict[str, str]:
        calls["n"] += 1
        if calls["n"] % 2:
            raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))
        raise sqlalchemy.exc.TimeoutError("QueuePool limit reached")

    server = UvicornThread(app).start()
    try:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            for _ in range(4):  # one keep-alive connection throughout
                response = client.post("/confirm", content=b"{}")
                assert response.status_code == 503, response.text
                assert response.headers["Retry-After"] == "1"
                payload = response.json()
                assert payload["message"]["ack"]["status"] == "NACK"
                assert payload["error"]["code"] == "30000"
                assert "indisponible" in payload["error"]["message"]
                assert "OperationalError" not in response.text
    finally:
        server.stop()
