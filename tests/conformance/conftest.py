"""Real parts for the conformance tests, on loopback: the registry, our seller and buyer
nodes (uvicorn threads, SQLite, real keys), and the tester, which subscribes itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reseau_poles.buyer.app import create_app as create_buyer
from reseau_poles.buyer.repositories import organisations as buyer_repo
from reseau_poles.buyer.settings import BuyerSettings
from reseau_poles.conformance.peer import Tester
from reseau_poles.keystore import KeyFiles
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.seller.app import create_app as create_seller
from reseau_poles.seller.settings import SellerSettings
from reseau_poles.storage import make_session_factory, write_session
from tests.conftest import free_port, migrated_sqlite
from tests.registry.conftest import (  # noqa: F401  (fixtures)
    Participant,
    RunningRegistry,
    UvicornThread,
    new_keys,
    operator_keys,
    participant_host,
    registry_factory,
)
from tests.seller.support import load_catalog

REGISTRY_ID = "registre.test.example"


@dataclass
class Node:
    keys: SubscriberKeys
    url: str
    app: FastAPI
    server: UvicornThread

    @property
    def subscriber_id(self) -> str:
        return self.keys.subscriber_id


@pytest.fixture
def registry(registry_factory: Callable[..., RunningRegistry]) -> RunningRegistry:  # noqa: F811
    return registry_factory(subscriber_id=REGISTRY_ID)


@pytest.fixture
def start_seller(registry: RunningRegistry, tmp_path: Path) -> Iterator[Callable[..., Node]]:
    """``start_seller(prepare=None)``: our seller node with the seller tests' catalog,
    subscribed as a BPP; ``prepare(app)`` may break it before it starts."""
    started: list[Node] = []

    def start(prepare: Callable[[FastAPI], Any] | None = None, **overrides: Any) -> Node:
        keys = new_keys("vendeur")
        key_dir = tmp_path / f"{keys.subscriber_id}-keys"
        KeyFiles(key_dir).write(keys)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = SellerSettings(
            database_url=migrated_sqlite(tmp_path / f"{keys.subscriber_id}.sqlite"),
            subscriber_id=keys.subscriber_id,
            key_dir=key_dir,
            public_url=url,
            registry_url=registry.url,
            registry_subscriber_id=REGISTRY_ID,
            **overrides,
        )
        app = create_seller(
            settings, network_settings=settings.network_settings(outbox_poll_interval=0.05)
        )
        load_catalog(app.state.service.engine)
        if prepare is not None:
            prepare(app)
        server = UvicornThread(app, port).start()
        node = Node(keys, url, app, server)
        started.append(node)
        joined = registry.subscribe(Participant(keys, url), type="BPP", regions=["*"])
        assert joined.status_code == 200, joined.text
        return node

    yield start
    for node in started:
        node.server.stop()
        node.app.state.service.engine.dispose()


@pytest.fixture
def make_tester(registry: RunningRegistry) -> Iterator[Callable[[str], Tester]]:
    """A started tester playing ``beckn_type`` (BAP or BPP), subscribed to the registry."""
    started: list[Tester] = []

    def make(beckn_type: str) -> Tester:
        port = free_port()
        tester = Tester(
            SubscriberKeys.generate(f"testeur-{len(started)}-{port}.example"),
            registry.url,
            "127.0.0.1",
            port,
            f"http://127.0.0.1:{port}",
            beckn_type,
        )
        tester.start()
        started.append(tester)
        assert tester.join() == "SUBSCRIBED"
        return tester

    yield make
    for tester in started:
        tester.stop()


@dataclass
class BuyerNode(Node):
    api_key: str

    def search(self, **params: Any) -> str:
        """A search through the buyer's client API (what an application does)."""
        response = httpx.post(
            f"{self.url}/api/searches",
            json=params,
            headers={"X-API-Key": self.api_key},
            timeout=10,
        )
        assert response.status_code == 202, response.text
        return response.json()["transaction_id"]


@pytest.fixture
def start_buyer(registry: RunningRegistry, tmp_path: Path) -> Iterator[Callable[..., BuyerNode]]:
    """``start_buyer(prepare=None)``: our buyer node, subscribed as a BAP, with an
    organisation and its API key; ``prepare(app)`` may break it before it starts."""
    started: list[BuyerNode] = []

    def start(prepare: Callable[[FastAPI], Any] | None = None) -> BuyerNode:
        keys = new_keys("acheteur")
        key_dir = tmp_path / f"{keys.subscriber_id}-keys"
        KeyFiles(key_dir).write(keys)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = BuyerSettings(
            database_url=migrated_sqlite(tmp_path / f"{keys.subscriber_id}.sqlite"),
            subscriber_id=keys.subscriber_id,
            key_dir=key_dir,
            public_url=url,
            registry_url=registry.url,
            registry_subscriber_id=REGISTRY_ID,
        )
        app = create_buyer(settings)
        with write_session(make_session_factory(app.state.service.engine)) as session:
            buyer_repo.add_organisation(session, "css-essai", "Centre de services scolaire d'essai")
            api_key = buyer_repo.create_api_key(session, "css-essai", "tests")
        if prepare is not None:
            prepare(app)
        server = UvicornThread(app, port).start()
        node = BuyerNode(keys, url, app, server, api_key)
        started.append(node)
        joined = registry.subscribe(Participant(keys, url), type="BAP", regions=["*"])
        assert joined.status_code == 200, joined.text
        return node

    yield start
    for node in started:
        node.server.stop()
        node.app.state.service.engine.dispose()
