"""The outbox's immediate send: a call queued through ``NodeNetwork.outgoing`` in an ORM
session starts claimed by the node's worker and leaves when the session commits, without the
worker's poll or claim transaction; a rollback sends nothing; a worker gone before sending
leaves the row to the next one after the lease; a failed first try is retried as any row."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from reseau_poles.network import NetworkClient, NodeNetwork, enqueue
from reseau_poles.network.settings import NetworkSettings
from reseau_poles.network.tables import outbox_table
from reseau_poles.storage import make_session_factory, utcnow, write_session

from .support import on_status_body
from .test_outbox import SELLER, Receiver, rows, until, worker_for

pytestmark = pytest.mark.anyio


def network_for(engine: Engine, **settings: object) -> NodeNetwork:
    # A poll of one hour: whatever leaves within the test left through the hand-over.
    values = {
        "registry_url": "http://127.0.0.1:9",  # never asked: the tests send, not receive
        "outbox_poll_interval": 3600.0,
        "outbox_base_delay": 0.05,
        **settings,
    }
    return NodeNetwork(
        subscriber_id=SELLER.keys.subscriber_id,
        role="BPP",
        signer=SELLER.signer(),
        settings=NetworkSettings(**values),
        engine=engine,
        run_retention=False,
    )


def queue(network: NodeNetwork, engine: Engine, url: str, count: int = 1) -> list[str]:
    ids = []
    with network.outgoing() as out, write_session(make_session_factory(engine)) as session:
        for _ in range(count):
            body = on_status_body("acheteur.example", "vendeur.example")
            out.send(session, url, "on_status", body)
            ids.append(json.loads(body)["context"]["message_id"])
    return ids


async def test_committed_calls_leave_without_a_poll(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    async with network_for(engine) as network:
        await until(lambda: network.worker is not None and network.worker._task is not None)
        sent = queue(network, engine, url, count=3)
        await until(
            lambda: all(rows_ := rows(engine)) and all(r["status"] == "delivered" for r in rows_)
        )
    assert sorted(endpoint.deliveries) == sorted(sent)
    assert set(endpoint.deliveries.values()) == {1}
    assert all(r["attempts"] == 1 and r["claimed_until"] is None for r in rows(engine))


async def test_a_rolled_back_session_sends_nothing(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    async with network_for(engine, outbox_poll_interval=0.05) as network:
        factory = make_session_factory(engine)
        with (
            pytest.raises(RuntimeError),
            network.outgoing() as out,
            write_session(factory) as session,
        ):
            out.send(session, url, "on_status", on_status_body("a.example", "v.example"))
            raise RuntimeError("la transition d'état échoue")
        kept = queue(network, engine, url)  # the session after it still goes out
        await until(lambda: len(endpoint.deliveries) == 1)
    assert list(endpoint.deliveries) == kept
    assert len(rows(engine)) == 1


async def test_a_worker_gone_before_sending_leaves_it_to_the_next_after_the_lease(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    # As a node killed right after its commit: the row was queued claimed by its worker.
    body = on_status_body("acheteur.example", "vendeur.example")
    with write_session(make_session_factory(engine)) as session:
        enqueue(session, url, "on_status", body, claim=("parti:1", 30.0))
    sent = [json.loads(body)["context"]["message_id"]]
    (row,) = rows(engine)
    assert row["status"] == "delivering" and row["claimed_by"] == "parti:1"

    async with NetworkClient(SELLER.signer()) as client:
        next_worker = worker_for(engine, client)
        next_worker.start()
        try:
            await asyncio.sleep(0.2)
            assert rows(engine)[0]["status"] == "delivering"
            assert endpoint.deliveries == {}  # the lease holds
            with engine.begin() as connection:  # the lease ends
                connection.execute(
                    update(outbox_table).values(claimed_until=utcnow() - timedelta(seconds=1))
                )
            next_worker.wake()
            await until(lambda: rows(engine)[0]["status"] == "delivered")
        finally:
            await next_worker.stop()
    assert list(endpoint.deliveries) == sent
    assert rows(engine)[0]["attempts"] == 2


async def test_a_command_line_tool_leaves_its_calls_to_the_serving_worker(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    """A network whose worker is not running here (``seller import``, a CLI) queues rows as
    due, not claimed: the serving process's worker sends them at its next look."""
    endpoint, url = receiver
    tool = network_for(engine)
    sent = queue(tool, engine, url)
    assert rows(engine)[0]["status"] == "pending"
    async with NetworkClient(SELLER.signer()) as client:
        serving = worker_for(engine, client)
        serving.start()
        try:
            await until(lambda: rows(engine)[0]["status"] == "delivered")
        finally:
            await serving.stop()
    assert list(endpoint.deliveries) == sent
    await tool.client.aclose()


async def test_one_transactions_calls_leave_in_order(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    """Three on_status of one order queued in three commits: each leaves once the one before
    it is answered, so the buyer gets them in order even when the peer is slow."""
    endpoint, url = receiver
    endpoint.delay = 0.1
    transaction = str(uuid.uuid4())
    async with network_for(engine) as network:
        await until(lambda: network.worker is not None and network.worker.running)
        sent = []
        started = time.monotonic()
        for _ in range(3):
            raw = json.loads(on_status_body("acheteur.example", "vendeur.example"))
            raw["context"]["transaction_id"] = transaction
            with network.outgoing() as out, write_session(make_session_factory(engine)) as session:
                out.send(session, url, "on_status", raw)
            sent.append(raw["context"]["message_id"])
        await until(lambda: len(endpoint.deliveries) == 3)
        elapsed = time.monotonic() - started
    received = [json.loads(body)["context"]["message_id"] for body in endpoint.bodies]
    assert received == sent
    assert elapsed >= 0.28  # one after the other (0.1 s each), not side by side


async def test_a_failed_first_try_is_retried_when_due_without_a_poll(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    endpoint.failures_left = 1
    async with network_for(engine) as network:  # an hour's poll: the retry wakes the worker
        await until(lambda: network.worker is not None and network.worker._task is not None)
        sent = queue(network, engine, url)
        await until(lambda: rows(engine)[0]["status"] == "delivered")
    assert list(endpoint.deliveries) == sent
    assert rows(engine)[0]["attempts"] == 2
