"""Two nodes wired with NodeNetwork: a buyer's signed search is ACKed by the seller, whose
on_search leaves through the outbox and is verified by the buyer (signer = bpp_id)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from reseau_poles.network import (
    InboundMessage,
    NetworkClient,
    NetworkSettings,
    NodeNetwork,
    outbox,
)
from reseau_poles.network.tables import transcript_table
from reseau_poles.storage import make_engine, make_session_factory, write_session

from .support import StandInRegistry, context, participant, serve

pytestmark = pytest.mark.anyio


def app_for(network: NodeNetwork, handle) -> FastAPI:  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with network:
            yield

    app = FastAPI(lifespan=lifespan)
    network.install(app)

    async def receive(message: InboundMessage) -> None:
        handle(message)

    network.serve_protocol(app, receive)
    return app


async def test_search_then_callback_through_the_outbox(database_url: str, tmp_path: Path) -> None:
    registry = StandInRegistry()
    buyer, seller = participant("acheteur.example", "BAP"), participant("vendeur.example", "BPP")
    buyer_record, seller_record = registry.add(buyer), registry.add(seller)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    callbacks: list[InboundMessage] = []

    with serve(registry.app) as registry_url:
        settings = NetworkSettings(
            registry_url=registry_url,
            registry_public_key=registry.public_key,
            outbox_poll_interval=0.05,
            transcript_path=str(tmp_path / "vendeur.jsonl"),
        )
        seller_network = NodeNetwork(
            subscriber_id=seller.subscriber_id,
            role="BPP",
            signer=seller.signer(),
            settings=settings,
            engine=engine,
        )

        def on_search(message: InboundMessage) -> None:
            reply = {
                "context": {
                    **message.context,
                    "action": "on_search",
                    "bpp_id": seller.subscriber_id,
                    "bpp_uri": seller_record["url"],
                },
                "message": {"catalog": {"descriptor": {"name": "Pôle de Québec"}}},
            }
            with seller_network.outgoing() as out, write_session(factory) as session:
                out.send(session, message.bap_uri, "on_search", reply)

        buyer_network = NodeNetwork(
            subscriber_id=buyer.subscriber_id,
            role="BAP",
            signer=buyer.signer(),
            settings=NetworkSettings(
                registry_url=registry_url, registry_public_key=registry.public_key
            ),
        )
        with (
            serve(app_for(seller_network, on_search)) as seller_url,
            serve(app_for(buyer_network, callbacks.append)) as buyer_url,
        ):
            # Where each node really listens is where the registry says it does.
            for record, url in ((buyer_record, buyer_url), (seller_record, seller_url)):
                record["url"] = record["subscriber_url"] = url
            search = {
                "context": {**context("search", bap=buyer.subscriber_id), "bap_uri": buyer_url},
                "message": {"intent": {"item": {"descriptor": {"name": "fromage"}}}},
            }
            # The buyer's application side: a client of its own, in this event loop.
            async with NetworkClient(buyer.signer()) as client:
                result = await client.send(seller_url, "search", search)
            assert result.ok, result
            deadline = time.monotonic() + 10
            while not callbacks:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)

    (callback,) = callbacks
    assert callback.action == "on_search"
    assert callback.signer.subscriber_id == seller.subscriber_id
    assert callback.message_id == search["context"]["message_id"]
    assert outbox.counts(engine) == {"delivered": 1}
    lines = [json.loads(line) for line in (tmp_path / "vendeur.jsonl").read_text().splitlines()]
    assert sorted((line["direction"], line["action"], line["status"]) for line in lines) == [
        ("in", "search", "ACK"),
        ("out", "on_search", "ACK"),
    ]
    with engine.connect() as connection:
        assert len(connection.execute(select(transcript_table)).all()) == 2
    engine.dispose()
