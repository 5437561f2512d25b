"""Real parts for the seller tests: the registry (tests/registry helpers), the seller node on
uvicorn, and a buyer-side receiver that verifies every callback's signature through the
registry and records it."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from reseau_poles.keystore import KeyFiles
from reseau_poles.network import InboundMessage, NetworkSettings, NodeNetwork
from reseau_poles.protocol.keys import SubscriberKeys, open_challenge
from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.signing import Signer
from reseau_poles.seller.app import create_app
from reseau_poles.seller.settings import SellerSettings
from reseau_poles.storage import utcnow
from tests.conftest import free_port
from tests.registry.conftest import (  # noqa: F401  (fixtures)
    Participant,
    RunningRegistry,
    UvicornThread,
    new_keys,
    operator_keys,
    participant_host,
    registry_factory,
)

from .support import load_catalog

REGISTRY_ID = "registre.test.example"


@dataclass
class Buyer:
    """A buyer node's receiving side: records verified callbacks by message id."""

    keys: SubscriberKeys
    registry: RunningRegistry
    callbacks: dict[str, InboundMessage] = field(default_factory=dict)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        network = NodeNetwork(
            subscriber_id=self.keys.subscriber_id,
            role="BAP",
            signer=self.signer,
            settings=NetworkSettings(
                registry_url=self.registry.url, registry_subscriber_id=REGISTRY_ID
            ),
        )
        import contextlib

        @contextlib.asynccontextmanager
        async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
            async with network:
                yield

        app = FastAPI(lifespan=lifespan)
        network.install(app)

        @app.post("/on_subscribe")
        async def on_subscribe(request: Request) -> dict[str, str]:
            challenge = json.loads(await request.body())["challenge"]
            return {"answer": open_challenge(self.keys.encryption, challenge)}

        async def receive(message: InboundMessage) -> None:
            with self.arrived:
                self.callbacks[message.message_id] = message
                self.arrived.notify_all()

        network.serve_protocol(app, receive)

        self.server = UvicornThread(app)

    @classmethod
    def join(cls, registry: RunningRegistry, name: str = "acheteur") -> Buyer:
        """A buyer that listens, then subscribes at its own address (where callbacks go)."""
        buyer = cls(new_keys(name), registry)
        buyer.server.start()
        joined = registry.subscribe(Participant(buyer.keys, buyer.url), type="BAP")
        assert joined.status_code == 200, joined.text
        return buyer

    @property
    def signer(self) -> Signer:
        return Signer(self.keys.subscriber_id, self.keys.key_id, self.keys.signing)

    @property
    def url(self) -> str:
        return self.server.url

    def wait(self, message_id: str, timeout: float = 10) -> InboundMessage:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while message_id not in self.callbacks:
                left = deadline - time.monotonic()
                assert left > 0, f"aucun rappel pour le message {message_id}"
                self.arrived.wait(left)
            return self.callbacks[message_id]


@dataclass
class Network:
    registry: RunningRegistry
    seller_keys: SubscriberKeys
    seller_url: str
    seller_app: FastAPI
    buyer: Buyer
    items: dict[str, int]
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))

    def context(self, action: str, transaction_id: str) -> dict[str, Any]:
        return {
            "domain": "PLA:ALIMENTS",
            "location": {"city": {"code": "QC-03"}, "country": {"code": "CAN"}},
            "action": action,
            "version": "1.1.0",
            "bap_id": self.buyer.keys.subscriber_id,
            "bap_uri": self.buyer.url,
            "bpp_id": self.seller_keys.subscriber_id,
            "bpp_uri": self.seller_url,
            "transaction_id": transaction_id,
            "message_id": str(uuid.uuid4()),
            "timestamp": format_datetime(utcnow()),
            "ttl": "PT30S",
        }

    def post(
        self, action: str, message: Any, transaction_id: str | None = None
    ) -> tuple[httpx.Response, dict[str, Any]]:
        body = {
            "context": self.context(action, transaction_id or str(uuid.uuid4())),
            "message": message,
        }
        raw = json.dumps(body, ensure_ascii=False).encode()
        response = self.http.post(
            f"{self.seller_url}/{action}",
            content=raw,
            headers={
                "Authorization": self.buyer.signer.sign(raw),
                "Content-Type": "application/json",
            },
        )
        return response, body

    def call(self, action: str, message: Any, transaction_id: str | None = None) -> dict[str, Any]:
        """Post a request, expect ACK, return the verified callback's payload."""
        response, body = self.post(action, message, transaction_id)
        assert response.status_code == 200, response.text
        assert response.json() == {"message": {"ack": {"status": "ACK"}}}
        callback = self.buyer.wait(body["context"]["message_id"])
        assert callback.action == f"on_{action}"
        assert callback.signer.subscriber_id == self.seller_keys.subscriber_id
        assert callback.transaction_id == body["context"]["transaction_id"]
        return callback.payload

    def refused(self, action: str, message: Any) -> dict[str, Any]:
        """Post a request, expect a NACK, return its error (and no callback follows)."""
        response, _body = self.post(action, message)
        assert response.status_code in (400, 401, 413), response.text
        payload = response.json()
        assert payload["message"]["ack"]["status"] == "NACK"
        return payload["error"]


@pytest.fixture
def api_overrides() -> dict[str, Any]:
    """Settings of ``test_api``'s ``api`` fixture node (a test module overrides this fixture;
    here, so that every module importing ``api`` has it)."""
    return {}


@pytest.fixture
def network(
    registry_factory: Callable[..., RunningRegistry],  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> Iterator[Network]:
    registry = registry_factory(subscriber_id=REGISTRY_ID)
    seller_keys = new_keys("vendeur")
    KeyFiles(tmp_path / "seller-keys").write(seller_keys)
    port = free_port()
    seller_url = f"http://127.0.0.1:{port}"
    settings = SellerSettings(
        database_url=database_url,
        subscriber_id=seller_keys.subscriber_id,
        key_dir=tmp_path / "seller-keys",
        public_url=seller_url,
        registry_url=registry.url,
        registry_subscriber_id=REGISTRY_ID,
        on_search_max_items=3,
        # the tests' webhook receivers listen on loopback, in plain http
        webhook_allow_private_networks=True,
        webhook_allow_http=True,
    )
    app = create_app(
        settings, network_settings=settings.network_settings(outbox_poll_interval=0.05)
    )
    items = load_catalog(app.state.service.engine)
    seller = UvicornThread(app, port).start()
    # The node joins the network itself: the registry's challenge goes to its /on_subscribe.
    joined = registry.subscribe(Participant(seller_keys, seller_url), type="BPP")
    assert joined.status_code == 200, joined.text
    buyer = Buyer.join(registry)
    try:
        yield Network(registry, seller_keys, seller_url, app, buyer, items)
    finally:
        buyer.server.stop()
        seller.stop()
        app.state.service.engine.dispose()
