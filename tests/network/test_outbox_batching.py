"""Fewer write transactions per call: outcomes of deliveries that end together recorded in one
transaction; a call queued on a Core connection leaves at the commit without a claim; a
worker killed between a delivery and its record sends it again after the lease."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert

from reseau_poles.network import NetworkClient, outbox
from reseau_poles.network.tables import outbox_table
from reseau_poles.storage import make_engine

from .support import on_status_body
from .test_outbox import (
    SELLER,
    Receiver,
    add,
    rows,
    start_outbox_node,
    until,
    wait,
    worker_for,
)
from .test_outbox_claimed import network_for, queue

pytestmark = pytest.mark.anyio


class Commits:
    """Counts the write transactions committed on an engine."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "commit", self._commit)

    def _commit(self, _connection: Any) -> None:
        self.count += 1


async def test_outcomes_ending_together_are_recorded_in_one_transaction(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    endpoint.failures_left = 2  # two retries and eight deliveries: two sets of columns
    add(engine, url, 10)
    commits = Commits(engine)
    async with NetworkClient(SELLER.signer()) as client:
        worker = worker_for(engine, client, record_window=0.2)
        assert await worker.run_once(look_first=False) == 10
    assert commits.count == 2  # the claim, then every outcome at once
    assert outbox.counts(engine) == {"delivered": 8, "pending": 2}
    assert all(row["claimed_until"] is None for row in rows(engine))


async def test_without_a_window_each_outcome_has_its_transaction(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    _, url = receiver
    add(engine, url, 3)
    commits = Commits(engine)
    async with NetworkClient(SELLER.signer()) as client:
        assert await worker_for(engine, client, record_window=0).run_once(look_first=False) == 3
    assert commits.count == 4
    assert outbox.counts(engine) == {"delivered": 3}


async def test_stop_records_the_deliveries_under_way(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    endpoint.delay = 0.2
    add(engine, url, 3)
    results: list[str] = []
    async with NetworkClient(SELLER.signer()) as client:
        worker = worker_for(
            engine,
            client,
            record_window=0.5,
            on_result=lambda _row, _result, status: results.append(status),
        )
        worker.start()
        await until(lambda: outbox.counts(engine).get("delivering") == 3)
        await worker.stop()
    assert outbox.counts(engine) == {"delivered": 3}
    assert results == ["delivered"] * 3


async def test_a_core_connection_hands_its_calls_over_at_the_commit(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    # An hour's poll: only the hand-over sends. No transcript: only the outbox commits.
    async with network_for(engine, transcript_database=False) as network:
        await until(lambda: network.worker is not None and network.worker.running)
        commits = Commits(engine)
        body = on_status_body("acheteur.example", "vendeur.example")
        with network.outgoing() as out, engine.connect() as connection, connection.begin():
            out.send(connection, url, "on_status", body)
            assert rows(engine) == []
            assert endpoint.deliveries == {}
        await until(lambda: rows(engine)[0]["status"] == "delivered")
        assert commits.count == 2  # the caller's, then the record: no claim transaction

        with (
            pytest.raises(RuntimeError),
            network.outgoing() as out,
            engine.connect() as connection,
            connection.begin(),
        ):
            out.send(connection, url, "on_status", on_status_body("a.ex", "v.ex"))
            raise RuntimeError("la transition d'état échoue")
        await until(lambda: len(rows(engine)) == 1)
    assert list(endpoint.deliveries) == [json.loads(body)["context"]["message_id"]]


async def test_a_core_connection_committed_inside_the_block_hands_over_at_its_end(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    async with network_for(engine) as network:
        await until(lambda: network.worker is not None and network.worker.running)
        with network.outgoing() as out, engine.connect() as connection:
            with connection.begin():
                out.send(connection, url, "on_status", on_status_body("a.ex", "v.ex"))
            assert rows(engine)[0]["status"] == "delivering"  # claimed, not handed over yet
        await until(lambda: rows(engine)[0]["status"] == "delivered")
        # Outside a begun transaction (or in a savepoint): queued due, unclaimed, and the
        # worker told to look at the end of the block.
        with network.outgoing() as out, engine.connect() as connection:
            out.send(connection, url, "on_status", on_status_body("a.ex", "v.ex"))
            connection.commit()
        await until(lambda: rows(engine)[1]["status"] == "delivered")
        assert rows(engine)[1]["attempts"] == 1
    assert len(endpoint.deliveries) == 2


async def test_a_connection_that_lost_its_database_rolls_back_as_before(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    """A database restarted under load invalidates the connections in use: the error leaves
    the block, whose queued call, never committed, is never sent; the next one goes out."""
    endpoint, url = receiver
    async with network_for(engine) as network:
        await until(lambda: network.worker is not None and network.worker.running)
        with (
            pytest.raises(ConnectionError),
            network.outgoing() as out,
            engine.connect() as connection,
            connection.begin(),
        ):
            out.send(connection, url, "on_status", on_status_body("a.ex", "v.ex"))
            connection.invalidate()  # what a server that went away leaves
            raise ConnectionError("le serveur de base de données est parti")
        with (
            network.outgoing() as out,
            engine.connect() as connection,
            connection.begin(),  # the pool goes on
        ):
            out.send(connection, url, "on_status", on_status_body("a.ex", "v.ex"))
        await until(lambda: [row["status"] for row in rows(engine)] == ["delivered"])
    assert len(endpoint.deliveries) == 1


async def test_calls_handed_over_read_nothing(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    statements: list[str] = []
    event.listen(
        engine,
        "before_cursor_execute",
        lambda _c, _cursor, statement, *_: statements.append(statement),
    )

    def looked() -> int:
        return len([s for s in statements if "network_outbox.deadline <" in s])

    async with network_for(engine, transcript_database=False) as network:
        await until(lambda: network.worker is not None and network.worker.running)
        await until(lambda: looked() >= 1)  # the worker's first look, at its start (however
        await asyncio.sleep(0.1)  # late a loaded machine makes it), is over
        looks = looked()
        queue(network, engine, url)
        await until(lambda: len(endpoint.deliveries) == 1)
        await until(lambda: rows(engine)[0]["status"] == "delivered")
        await asyncio.sleep(0.1)
    assert looked() == looks


def test_sigkill_between_delivery_and_record_sends_it_again_after_the_lease(
    database_url: str, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    endpoint.public_key = ""  # the node signs with its own throw-away key
    seed = os.urandom(32).hex()

    def start(count: int, record_window: float) -> subprocess.Popen[str]:
        return start_outbox_node(database_url, url, count, seed, record_window)

    # Outcomes held for a minute: the kill comes after the deliveries, before their record.
    node = start(2, 60.0)  # one batch (of two)
    wait(lambda: len(endpoint.deliveries) == 2)
    node.send_signal(signal.SIGKILL)
    node.wait(5)
    engine = make_engine(database_url)
    assert outbox.counts(engine) == {"delivering": 2}

    node = start(0, 0.05)  # its lease of 1 s over, the rows go out again and are recorded
    try:
        wait(lambda: outbox.counts(engine).get("delivered") == 2)
    finally:
        node.send_signal(signal.SIGKILL)
        node.wait(5)
    assert set(endpoint.deliveries.values()) == {2}  # at least once: twice here
    assert all(row["attempts"] == 2 for row in rows(engine))
    engine.dispose()


def test_a_record_leaves_another_workers_claim_alone(engine: Engine) -> None:
    # A lease that ended and was taken by another worker: the late outcome is not written.
    with engine.begin() as connection:
        connection.execute(
            insert(outbox_table),
            [
                {
                    "target_url": "http://x",
                    "action": "on_status",
                    "body": b"{}",
                    "status": "delivering",
                    "claimed_by": "autre",
                    "attempts": 1,
                    "created_at": outbox.utcnow(),
                    "next_attempt_at": outbox.utcnow(),
                    "deadline": outbox.utcnow(),
                }
            ],
        )
    worker = outbox.OutboxWorker(engine, None, worker_id="moi")  # type: ignore[arg-type]
    worker._record([(rows(engine)[0]["id"], {"status": "delivered", "claimed_until": None})])
    assert rows(engine)[0]["status"] == "delivering"
