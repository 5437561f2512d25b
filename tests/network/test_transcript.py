"""Transcript: each message sent and received, with its exact bytes, to JSONL and a table."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, select

from reseau_poles.network import (
    Inbound,
    NetworkClient,
    RegistryLookup,
    Transcript,
    migrate,
)
from reseau_poles.network.tables import transcript_table
from reseau_poles.storage import make_engine

from .support import StandInRegistry, participant, protocol_app, search_body, serve

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
        app = protocol_app(inbound, transcript=node_transcript)

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


def _entry(number: int) -> dict[str, object]:
    return {
        "direction": "in",
        "action": "search",
        "url": "/search",
        "headers": {"content-type": "application/json"},
        "body": f'{{"n":{number}}}'.encode(),
        "status": "ACK",
        "http_status": 200,
    }


def test_entries_of_a_burst_are_written_in_one_transaction(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    commits: list[int] = []
    event.listen(engine, "commit", lambda _connection: commits.append(1))
    transcript = Transcript(engine=engine, linger=0.3)
    for number in range(30):
        transcript.record(**_entry(number))
    time.sleep(0.6)  # the linger is over: written without a flush
    assert len(commits) == 1
    with engine.connect() as connection:
        bodies = connection.execute(select(transcript_table.c.body)).scalars().all()
    assert bodies == [f'{{"n":{number}}}'.encode() for number in range(30)]  # in order
    transcript.close()
    engine.dispose()


def test_flush_and_close_write_everything_recorded_without_waiting_for_the_linger(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    transcript = Transcript(tmp_path / "t.jsonl", engine=engine, linger=30.0)

    def written() -> int:
        with engine.connect() as connection:
            return len(connection.execute(select(transcript_table.c.id)).all())

    started = time.monotonic()
    for round_ in range(3):
        for number in range(5):
            transcript.record(**_entry(round_ * 5 + number))
        assert transcript.flush() is True
        assert written() == 5 * (round_ + 1)  # everything recorded before the flush
    transcript.record(**_entry(99))
    transcript.close()  # shutdown: the last entry too
    assert time.monotonic() - started < 5  # never the 30 s linger
    assert written() == 16
    assert len((tmp_path / "t.jsonl").read_text().splitlines()) == 16
    assert transcript.flush() is False  # closed: nothing more is written
    engine.dispose()


def test_flush_from_several_threads_while_recording(tmp_path: Path) -> None:
    transcript = Transcript(tmp_path / "t.jsonl", linger=0.05)
    path = tmp_path / "t.jsonl"

    missing: list[int] = []

    def work(offset: int) -> None:
        for number in range(50):
            transcript.record(**_entry(offset + number))
            if number % 10 == 9:
                flushed = transcript.flush()
                text = path.read_text()
                # Another thread's batch may be half written: only whole lines are read.
                whole = text[: text.rfind("\n") + 1]
                seen = {json.loads(line)["body"] for line in whole.splitlines()}
                if not flushed or f'{{"n":{offset + number}}}' not in seen:
                    missing.append(offset + number)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in (0, 1000, 2000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    transcript.close()
    assert missing == []
    assert len(path.read_text().splitlines()) == 150
