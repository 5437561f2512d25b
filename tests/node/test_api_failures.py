"""On a node's ``/api``, every failure answers in the client API's format — FastAPI's own
validation, an unreachable database, an unexpected exception — while protocol routes keep
answering with a NACK. Served for real by uvicorn."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy.exc
from fastapi import FastAPI

from reseau_poles.seller.app import create_app
from reseau_poles.seller.settings import SellerSettings
from tests.network.support import serve


def _app(tmp_path: Path) -> FastAPI:
    settings = SellerSettings(
        database_url=f"sqlite:///{tmp_path / 'vendeur.sqlite'}",
        key_dir=tmp_path / "cles",
        registry_url="http://127.0.0.1:9",
    )
    app = create_app(settings)

    @app.get("/api/essai/entier")
    async def typed(n: int) -> dict[str, int]:
        return {"n": n}

    @app.get("/api/essai/panne")
    async def broken() -> None:
        raise RuntimeError("secret interne : ne doit pas sortir")

    @app.get("/api/essai/base")
    async def database_down() -> None:
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connexion refusée"))

    @app.get("/essai/panne")
    async def broken_outside_api() -> None:
        raise RuntimeError("secret interne : ne doit pas sortir")

    return app


def test_api_failures_answer_in_the_api_format(tmp_path: Path) -> None:
    with serve(_app(tmp_path)) as url, httpx.Client(base_url=url) as client:
        invalid = client.get("/api/essai/entier", params={"n": "abc"})
        assert invalid.status_code == 400
        assert invalid.json() == {
            "error": {
                "code": "parametres_invalides",
                "message": "nombre entier attendu",
                "path": "query.n",
            }
        }
        broken = client.get("/api/essai/panne")
        assert broken.status_code == 500
        assert broken.json()["error"]["code"] == "erreur_interne"
        assert "secret" not in broken.text and "Traceback" not in broken.text
        down = client.get("/api/essai/base")
        assert down.status_code == 503 and down.headers["Retry-After"] == "1"
        assert down.json()["error"]["code"] == "base_indisponible"
        assert "connexion" not in down.text
        # outside /api: the protocol's NACK, as before
        protocol = client.get("/essai/panne")
        assert protocol.status_code == 500
        assert protocol.json()["message"]["ack"]["status"] == "NACK"
        assert "secret" not in protocol.text
        # the server kept going
        assert client.get("/health").json()["status"] == "ok"


def test_gateway_keeps_the_connection_after_an_internal_error(tmp_path: Path) -> None:
    """The same middleware serves every role that installs the network layer's answers."""
    from reseau_poles.gateway import GatewaySettings
    from reseau_poles.gateway import create_app as create_gateway

    app = create_gateway(
        GatewaySettings(key_dir=tmp_path / "cles", registry_url="http://127.0.0.1:9")
    )

    @app.get("/essai/panne")
    async def broken() -> None:
        raise RuntimeError("secret interne : ne doit pas sortir")

    with serve(app) as url, httpx.Client(base_url=url) as client:
        broken_answer = client.get("/essai/panne")
        assert broken_answer.status_code == 500
        assert broken_answer.json()["message"]["ack"]["status"] == "NACK"
        assert "secret" not in broken_answer.text
        assert client.get("/health").status_code == 200  # same keep-alive connection
