"""A node's transcript holds its protocol messages, as an operator reads them: each Beckn call
with its ACK or NACK, and the registry's challenge (``/on_subscribe``: answered, it is an ACK;
refused, a NACK with its code — a vendor checks there which scheme it came in). The client API
(``/api``, whose requests carry API keys and the pôle's data) stays out. It used to be recorded,
read as a Beckn answer and so as ``ERROR http``, and so was an answered challenge. Served for
real by uvicorn."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from sqlalchemy import select

from reseau_poles.network.tables import transcript_table
from reseau_poles.seller.app import create_app
from reseau_poles.seller.settings import SellerSettings
from tests.network.support import serve

API_KEY = "cle-de-test-qui-ne-doit-pas-etre-gardee"


def test_only_protocol_messages_are_recorded(tmp_path: Path) -> None:
    settings = SellerSettings(
        database_url=f"sqlite:///{tmp_path / 'vendeur.sqlite'}",
        subscriber_id="vendeur.journal.example",
        key_dir=tmp_path / "cles",
        registry_url="http://127.0.0.1:9",
    )
    jsonl = tmp_path / "messages.jsonl"
    app = create_app(
        settings,
        network_settings=settings.network_settings(transcript_path=str(jsonl), transcript_linger=0),
    )
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        # The client API (an unknown key: refused) and the registry's challenge (unreadable).
        api = client.post(
            "/api/providers/pole-inconnu/webhooks",
            headers={"X-API-Key": API_KEY},
            json={"url": "https://pole.example/crochet"},
        )
        assert api.status_code == 401 and api.json()["error"]["code"] == "non_authentifie"
        challenge = client.post("/on_subscribe", json={"challenge": "pas une boîte scellée"})
        assert challenge.status_code == 400
        assert challenge.json()["message"]["ack"]["status"] == "NACK"
        # A protocol call without its signature: refused, and recorded as such.
        search = client.post("/search", json={"context": {"action": "search"}, "message": {}})
        assert search.status_code == 401
        assert app.state.network.transcript.flush()

    lines = [json.loads(line) for line in jsonl.read_text("utf-8").splitlines()]
    assert [(e["direction"], e["action"], e["url"], e["status"]) for e in lines] == [
        ("in", "on_subscribe", "/on_subscribe", "NACK"),
        ("in", "search", "/search", "NACK"),
    ]
    assert lines[0]["http_status"] == 400 and lines[0]["error_code"]
    assert lines[1]["http_status"] == 401 and lines[1]["error_code"] == "30016"
    assert API_KEY not in jsonl.read_text("utf-8")

    engine = app.state.service.engine
    with engine.connect() as connection:
        rows = connection.execute(
            select(transcript_table.c.url, transcript_table.c.status, transcript_table.c.headers)
        ).all()
    assert [(row.url, row.status) for row in rows] == [
        ("/on_subscribe", "NACK"),
        ("/search", "NACK"),
    ]
    assert all(API_KEY not in (row.headers or "") for row in rows)
