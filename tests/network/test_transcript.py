"""Transcript: each message sent and received, with its exact bytes, to JSONL and a table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI, Response
from sqlalchemy import select

from reseau_poles.network import (
    Inbound,
    InboundMessage,
    NetworkClient,
    RegistryLookup,
    Transcript,
    TranscriptMiddleware,
    ack,
    install,
    migrate,
)
from reseau_poles.network.tables import transcript_table
from reseau_poles.storage import make_engine

from .support import StandInRegistry, participant, search_body, serve

pytestmark = pytest.mark.anyio


async def test_sent_and_received_messages_are_recorded(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    registry = StandInRegistry()
    buyer = participant("acheteur.example", "BAP")
    registry.add(buyer)
    node_transcript = Transcript(tmp_path / "vendeur.jsonl", engine=engine)
    buyer_transcript = Transcript(tmp_path / "acheteur.jsonl")
    with serve(registry.app) as registry_url:
        inbound = Inbound(
            "vendeur.example",
            "BPP",
            RegistryLookup(registry_url, registry_public_key=registry.public_key),
        )
        app = FastAPI()
        install(app, inbound)
        app.add_middleware(TranscriptMiddleware, transcript=node_transcript)

        @app.post("/{action}")
        async def receive(message: InboundMessage = Depends(inbound)) -> Response:
            return ack()

        with serve(app) as url:
            body = search_body(buyer.subscriber_id)
            async with NetworkClient(buyer.signer(), transcript=buyer_transcript) as client:
                accepted = await client.send(url, "search", body)
                refused = await client.send(url, "search", body, signature_header=None)
    assert accepted.ok and refused.status == "NACK"
    node_transcript.close()
    buyer_transcript.close()

    sent = [json.loads(line) for line in (tmp_path / "acheteur.jsonl").read_text().splitlines()]
    assert [(e["direction"], e["status"], e["http_status"]) for e in sent] == [
        ("out", "ACK", 200),
        ("out", "NACK", 401),
    ]
    assert sent[0]["body"] == body.decode()
    assert sent[0]["headers"]["Authorization"].startswith('Signature keyId="acheteur.example|')
    assert sent[0]["message_id"] == json.loads(body)["context"]["message_id"]
    assert sent[1]["error_code"] == "30016"

    received = [json.loads(line) for line in (tmp_path / "vendeur.jsonl").read_text().splitlines()]
    assert [(e["direction"], e["status"], e["peer"]) for e in received] == [
        ("in", "ACK", "acheteur.example"),
        ("in", "NACK", None),
    ]
    assert received[0]["latency_ms"] > 0 and received[0]["action"] == "search"

    with engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(select(transcript_table))]
    assert [(row["direction"], row["status"], row["http_status"]) for row in rows] == [
        ("in", "ACK", 200),
        ("in", "NACK", 401),
    ]
    assert rows[0]["body"] == body
    assert rows[0]["transaction_id"] == json.loads(body)["context"]["transaction_id"]
    engine.dispose()
