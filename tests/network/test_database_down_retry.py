"""A message a node could not take because its database did not answer is not lost: the node
answers 503 (a NACK with ``Retry-After``) and gives the message's replay slot back; the
sender's outbox sends it again, and the node takes it then — once. A message the node judged
(a NACK below 500) stays seen."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy.exc
from sqlalchemy import Engine

from reseau_poles.network import Inbound, InboundMessage, MemoryReplayGuard, NetworkClient, enqueue
from reseau_poles.network.lookup import RegistryLookup
from reseau_poles.network.outbox import DELIVERED, FAILED
from reseau_poles.network.replay import replay_key
from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.storage import make_session_factory, write_session

from .support import StandInRegistry, on_status_body, participant, protocol_app, serve
from .test_outbox import rows, until, worker_for

pytestmark = pytest.mark.anyio

SELLER = participant("vendeur.example", "BPP")
BUYER = participant("acheteur.example", "BAP")


class Buyer:
    """A buyer's protocol endpoint whose handler fails as told, on real checks (signature,
    registry, replay guard)."""

    def __init__(self, registry_url: str, registry: StandInRegistry) -> None:
        lookup = RegistryLookup(registry_url, registry_public_key=registry.public_key)
        self.inbound = Inbound(BUYER.subscriber_id, "BAP", lookup, replay_guard=MemoryReplayGuard())
        self.failures: list[Exception] = []
        self.seen: list[str] = []
        self.taken: list[str] = []
        self.app = protocol_app(self.inbound, self.handle)

    def handle(self, message: InboundMessage) -> None:
        self.seen.append(message.message_id)
        if self.failures:
            raise self.failures.pop(0)
        self.taken.append(message.message_id)


@pytest.fixture
def registry() -> StandInRegistry:
    registry = StandInRegistry()
    registry.add(SELLER)
    registry.add(BUYER)
    return registry


async def deliver(engine: Engine, buyer: Buyer, url: str, body: bytes) -> dict:
    with write_session(make_session_factory(engine)) as session:
        enqueue(session, url, "on_status", body)
    async with NetworkClient(SELLER.signer(), timeout=5) as client:
        worker = worker_for(engine, client, base_delay=0.05)
        task = asyncio.create_task(worker.run())
        try:
            await until(lambda: rows(engine)[0]["status"] in (DELIVERED, FAILED))
        finally:
            task.cancel()
    return rows(engine)[0]


async def test_a_message_refused_while_the_database_is_down_is_sent_again_and_taken(
    engine: Engine, registry: StandInRegistry
) -> None:
    with serve(registry.app) as registry_url:
        buyer = Buyer(registry_url, registry)
        buyer.failures.append(
            sqlalchemy.exc.OperationalError("INSERT", {}, Exception("database is locked"))
        )
        with serve(buyer.app) as url:
            body = on_status_body(BUYER.subscriber_id, SELLER.subscriber_id)
            row = await deliver(engine, buyer, url, body)
    assert row["status"] == DELIVERED, (row["last_error"], row["last_http_status"], buyer.seen)
    assert row["attempts"] == 2 and row["last_http_status"] == 200, row
    message_id = buyer.seen[0]
    assert buyer.seen == [message_id, message_id]  # refused (503), then taken
    assert buyer.taken == [message_id]


async def test_a_message_the_node_refused_is_not_sent_again(
    engine: Engine, registry: StandInRegistry
) -> None:
    with serve(registry.app) as registry_url:
        buyer = Buyer(registry_url, registry)
        buyer.failures.append(
            ProtocolError("transaction inconnue", code=ErrorCode.BUYER_INVALID_CATALOG)
        )
        with serve(buyer.app) as url:
            body = on_status_body(BUYER.subscriber_id, SELLER.subscriber_id)
            row = await deliver(engine, buyer, url, body)
            # Its replay slot is kept: the same message again is a replay.
            again = await buyer.inbound.replay_guard.remember(  # type: ignore[union-attr]
                replay_key(SELLER.subscriber_id, buyer.seen[0], "on_status"), 60
            )
    assert row["status"] == FAILED and row["attempts"] == 1, row
    assert buyer.taken == []
    assert again is False
