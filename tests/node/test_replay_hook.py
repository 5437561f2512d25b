"""``replay_exempt_actions``: the network's window replay guard leaves the named actions to
their handler (which de-duplicates them durably); every other action keeps the guard. With the
in-process guard and the Redis one; and the buyer node wires its order callbacks through it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
from fastapi import FastAPI

from reseau_poles.buyer.app import create_app as create_buyer_app
from reseau_poles.buyer.services.order_callbacks import ORDER_CALLBACKS
from reseau_poles.buyer.settings import BuyerSettings
from reseau_poles.network import InboundMessage, NetworkSettings, NodeNetwork
from reseau_poles.protocol.signing import Signer
from tests.network.support import (
    StandInRegistry,
    on_status_body,
    participant,
    search_body,
    serve,
)


def node_app(network: NodeNetwork, received: list[str]) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with network:
            yield

    app = FastAPI(lifespan=lifespan)
    network.install(app)

    async def receive(message: InboundMessage) -> None:
        received.append(f"{message.action} {message.message_id}")

    network.serve_protocol(app, receive)
    return app


@contextlib.contextmanager
def running_node(
    registry_url: str, registry: StandInRegistry, redis_url: str | None, role: str, **kwargs
) -> Iterator[tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    me = participant(f"noeud-{role.lower()}.example", role)
    network = NodeNetwork(
        subscriber_id=me.subscriber_id,
        role=role,
        signer=me.signer(),
        settings=NetworkSettings(
            registry_url=registry_url,
            registry_public_key=registry.public_key,
            redis_url=redis_url,
            transcript_database=False,
        ),
        **kwargs,
    )
    received: list[str] = []
    with serve(node_app(network, received)) as url:
        yield url, received


def post_twice(url: str, action: str, body: bytes, signer: Signer) -> list[httpx.Response]:
    headers = {"Content-Type": "application/json", "Authorization": signer.sign(body)}
    with httpx.Client(timeout=10) as http:
        return [http.post(f"{url}/{action}", content=body, headers=headers) for _ in range(2)]


def test_exempt_action_reaches_its_handler_twice_others_are_refused(
    redis_url: str | None,
) -> None:
    registry = StandInRegistry()
    buyer = participant("acheteur.example", "BAP")
    seller = participant("vendeur.example", "BPP")
    registry.add(buyer)
    registry.add(seller)
    with serve(registry.app) as registry_url:
        # A buyer whose on_status handler is its own replay guard.
        with running_node(
            registry_url, registry, redis_url, "BAP", replay_exempt_actions={"on_status"}
        ) as (url, received):
            body = on_status_body(buyer.subscriber_id, seller.subscriber_id)
            answers = post_twice(url, "on_status", body, seller.signer())
            assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
            assert len(received) == 2 and received[0] == received[1]

        # Without the exemption the same copy is a replay: refused, handler reached once.
        with running_node(registry_url, registry, redis_url, "BAP") as (url, received):
            body = on_status_body(buyer.subscriber_id, seller.subscriber_id)
            first, second = post_twice(url, "on_status", body, seller.signer())
            assert first.status_code == 200, first.text
            assert second.status_code == 401, second.text
            error = second.json()["error"]
            assert error["paths"] == "context.message_id" and "rejeu" in error["message"]
            assert len(received) == 1

        # An exemption names actions, not the node: a seller exempting on_status still
        # refuses a copied search.
        with running_node(
            registry_url, registry, redis_url, "BPP", replay_exempt_actions={"on_status"}
        ) as (url, received):
            body = search_body(buyer.subscriber_id)
            first, second = post_twice(url, "search", body, buyer.signer())
            assert (first.status_code, second.status_code) == (200, 401), second.text
            assert len(received) == 1


def test_buyer_node_leaves_order_callbacks_to_its_database(tmp_path: Path) -> None:
    settings = BuyerSettings(
        database_url=f"sqlite:///{tmp_path / 'acheteur.sqlite'}",
        key_dir=tmp_path / "cles",
        registry_url="http://127.0.0.1:9",
    )
    app = create_buyer_app(settings)
    app.state.engine.dispose()  # never served: only its wiring is looked at
    inbound = app.state.network.inbound
    assert inbound.replay_exempt_actions == ORDER_CALLBACKS
    assert {"on_select", "on_confirm", "on_status"} <= inbound.replay_exempt_actions
    # on_search keeps the window guard (its store ACKs a copy but does not compare bodies).
    assert "on_search" not in inbound.replay_exempt_actions
    # The guard itself is the network's own, not wrapped.
    assert app.state.network.replay_guard is inbound.replay_guard
