"""Outbox: written with the state change, delivered with retries until ACK or deadline,
never twice by two workers, and nothing lost when the node is killed."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import Engine, select

from reseau_poles.network import NetworkClient, OutboxWorker, enqueue, migrate, outbox
from reseau_poles.network.tables import outbox_table
from reseau_poles.protocol import signing
from reseau_poles.storage import make_engine, make_session_factory, utcnow, write_session

from .support import on_status_body, participant

pytestmark = pytest.mark.anyio

SELLER = participant("vendeur.example", "BPP")
ACK = b'{"message":{"ack":{"status":"ACK"}}}'


class Receiver:
    """A buyer endpoint that counts deliveries per message id and can be told to fail."""

    def __init__(self) -> None:
        self.deliveries: collections.Counter[str] = collections.Counter()
        self.bodies: list[bytes] = []
        self.failures_left = 0
        self.always = None  # or (status, body)
        self.delay = 0.0
        self.public_key = SELLER.keys.signing.public_key_b64
        self.app = FastAPI()
        self.app.post("/{action}")(self.receive)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        if self.public_key:
            signing.verify(body, request.headers["authorization"], self.public_key)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures_left > 0:
            self.failures_left -= 1
            return Response(b"surcharge", status_code=503)
        if self.always is not None:
            status, payload = self.always
            return Response(json.dumps(payload), status_code=status)
        self.bodies.append(body)
        self.deliveries[json.loads(body)["context"]["message_id"]] += 1
        return Response(ACK, media_type="application/json")


def add(engine: Engine, url: str, count: int = 1, **kwargs) -> list[bytes]:  # type: ignore[no-untyped-def]
    bodies = [on_status_body("acheteur.example", "vendeur.example") for _ in range(count)]
    with write_session(make_session_factory(engine)) as session:
        for body in bodies:
            enqueue(session, url, "on_status", body, **kwargs)
    return bodies


def rows(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(select(outbox_table))]


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "délai dépassé"
        await asyncio.sleep(0.02)


def wait(condition: Callable[[], bool], timeout: float = 20) -> None:
    """:func:`until` for a test that is not async (it watches another process)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "délai dépassé"
        time.sleep(0.02)


def start_outbox_node(database_url: str, url: str, *arguments: object) -> subprocess.Popen[str]:
    """``outbox_node.py`` in a process of its own (a node the test can kill), once ready."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("outbox_node.py")), database_url, url]
        + [str(argument) for argument in arguments],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "prêt"
    return process


def worker_for(engine: Engine, client: NetworkClient, **kwargs) -> OutboxWorker:  # type: ignore[no-untyped-def]
    kwargs.setdefault("poll_interval", 0.05)
    kwargs.setdefault("base_delay", 0.05)
    return OutboxWorker(engine, client, **kwargs)


def test_enqueue_is_part_of_the_callers_transaction(engine: Engine) -> None:
    body = on_status_body("acheteur.example", "vendeur.example")
    factory = make_session_factory(engine)
    with pytest.raises(RuntimeError), write_session(factory) as session:
        enqueue(session, "http://127.0.0.1:9", "on_status", body)
        raise RuntimeError("la transition d'état échoue")
    assert rows(engine) == []
    with write_session(factory) as session:
        row_id = enqueue(session, "http://127.0.0.1:9", "on_status", json.loads(body), ttl=60)
    (row,) = rows(engine)
    assert row["id"] == row_id and row["status"] == "pending"
    assert row["message_id"] == json.loads(body)["context"]["message_id"]
    assert row["deadline"] - row["created_at"] == timedelta(seconds=60)


async def test_retries_with_the_same_bytes_until_acked(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    endpoint.failures_left = 2
    (body,) = add(engine, url)
    async with NetworkClient(SELLER.signer()) as client:
        worker = worker_for(engine, client)
        worker.start()
        await until(lambda: outbox.counts(engine).get("delivered") == 1)
        await worker.stop()
    (row,) = rows(engine)
    assert row["attempts"] == 3 and row["delivered_at"] is not None
    assert endpoint.bodies == [body]


async def test_undeliverable_rows_expire_and_nacks_fail(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    endpoint.failures_left = 10_000
    add(engine, url, ttl=0.4)
    async with NetworkClient(SELLER.signer()) as client:
        worker = worker_for(engine, client)
        worker.start()
        await until(lambda: outbox.counts(engine).get("expired") == 1)
        endpoint.failures_left = 0
        endpoint.always = (
            400,
            {"message": {"ack": {"status": "NACK"}}, "error": {"code": "30018"}},
        )
        add(engine, url)
        worker.wake()
        await until(lambda: outbox.counts(engine).get("failed") == 1)
        await worker.stop()
    failed = next(row for row in rows(engine) if row["status"] == "failed")
    assert failed["attempts"] == 1 and "30018" in failed["last_error"]


async def test_a_stale_nack_on_a_retry_means_already_delivered(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    add(engine, url)
    with engine.begin() as connection:  # as if a first attempt had been made
        connection.execute(outbox_table.update().values(attempts=1))
    endpoint.always = (401, {"message": {"ack": {"status": "NACK"}}, "error": {"code": "20002"}})
    async with NetworkClient(SELLER.signer()) as client:
        assert await worker_for(engine, client).run_once() == 1
    assert outbox.counts(engine) == {"delivered": 1}


@pytest.mark.postgres
async def test_two_workers_never_deliver_the_same_row(
    database_url: str, receiver: tuple[Receiver, str]
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("plusieurs workers : PostgreSQL seulement (SKIP LOCKED)")
    endpoint, url = receiver
    endpoint.delay = 0.002
    first_engine, second_engine = make_engine(database_url), make_engine(database_url)
    migrate(first_engine)
    add(first_engine, url, 150)
    async with NetworkClient(SELLER.signer()) as client:
        workers = [
            worker_for(first_engine, client, batch_size=5, worker_id="w1"),
            worker_for(second_engine, client, batch_size=5, worker_id="w2"),
        ]
        for worker in workers:
            worker.start()
        await until(lambda: outbox.counts(first_engine).get("delivered") == 150, 30)
        for worker in workers:
            await worker.stop()
    assert len(endpoint.deliveries) == 150
    assert set(endpoint.deliveries.values()) == {1}
    with first_engine.connect() as connection:
        by = set(connection.execute(select(outbox_table.c.claimed_by).distinct()).scalars())
    assert by == {"w1", "w2"}  # both worked, on different rows
    first_engine.dispose()
    second_engine.dispose()


def test_sigkill_with_callbacks_pending_loses_nothing(
    database_url: str, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    endpoint.delay = 0.03
    endpoint.public_key = ""  # the node signs with its own throw-away key
    seed = os.urandom(32).hex()

    def start(count: int) -> subprocess.Popen[str]:
        return start_outbox_node(database_url, url, count, seed)

    node = start(40)
    wait(lambda: len(endpoint.deliveries) >= 8)
    node.send_signal(signal.SIGKILL)
    node.wait(5)
    engine = make_engine(database_url)
    left = outbox.counts(engine)
    assert left.get("pending", 0) + left.get("delivering", 0) > 0, left

    node = start(0)
    try:
        wait(lambda: outbox.counts(engine).get("delivered") == 40)
    finally:
        node.send_signal(signal.SIGKILL)
        node.wait(5)
    expected = {row["message_id"] for row in rows(engine)}
    assert set(endpoint.deliveries) == expected and len(expected) == 40
    # At least once: only what was in flight at the kill may arrive twice.
    assert sum(endpoint.deliveries.values()) - 40 <= 2
    assert all(row["delivered_at"] <= utcnow() for row in rows(engine))
    engine.dispose()


def test_backoff_doubles_and_is_capped() -> None:
    from reseau_poles.network.outbox import backoff

    for attempts, ceiling in ((1, 1), (2, 2), (3, 4), (10, 60)):
        for _ in range(20):
            assert ceiling / 2 <= backoff(attempts, 1.0, 60.0) <= ceiling
