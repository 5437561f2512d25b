"""One small network per test module: a real registry, a real gateway (uvicorn, its own
keys, registered as BG through the registry's challenge), seller endpoints in several domains
and regions, a dead seller (closed port) and a slow one, and buyers that join on demand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reseau_poles.gateway import GatewaySettings, create_app
from reseau_poles.gateway.cli import register
from reseau_poles.gateway.service import GatewayService
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.signing import Signer
from reseau_poles.registry.settings import OperatorKey, RegistrySettings
from tests.conftest import free_port, migrated_sqlite
from tests.registry.conftest import (
    Participant,
    ParticipantHost,
    RunningRegistry,
    UvicornThread,
    new_keys,
)

from .support import Seller, SellerHost

REGISTRY_ID = "registre.test.example"
GATEWAY_ID = "passerelle.test.example"
CACHE_TTL = 1.0  # seconds; 60 in production: the bound on seeing a suspension
SELLER_TIMEOUT = 1.0

# name: (domain, regions, behaviour)
SELLERS: dict[str, tuple[str, list[str], str]] = {
    "capitale-a": ("PLA:ALIMENTS", ["QC-03"], "ack"),
    "capitale-b": ("PLA:ALIMENTS", ["QC-03", "QC-12"], "ack"),
    "province": ("PLA:ALIMENTS", ["*"], "ack"),
    "montreal": ("PLA:ALIMENTS", ["QC-06"], "ack"),
    "transport": ("PLA:LOGISTIQUE", ["QC-03"], "ack"),
    "estrie-ok": ("PLA:ALIMENTS", ["QC-05"], "ack"),
    "estrie-nack": ("PLA:ALIMENTS", ["QC-05"], "nack"),
    "estrie-lent": ("PLA:ALIMENTS", ["QC-05"], "slow"),
}
DEAD = "estrie-mort"  # PLA:ALIMENTS, QC-05, port closed after it subscribed


@dataclass
class GatewayNetwork:
    registry: RunningRegistry
    buyers_host: ParticipantHost
    sellers: SellerHost
    sellers_by_name: dict[str, Seller]
    dead: Seller
    gateway_keys: SubscriberKeys
    gateway_server: UvicornThread
    service: GatewayService
    http: httpx.Client

    @property
    def url(self) -> str:
        return self.gateway_server.url

    def buyer(self) -> Participant:
        return self.registry.join(new_keys("acheteur"), type="BAP")

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {"Content-Type": "application/json", **(headers or {})}
        return self.http.post(f"{self.url}/search", content=body, headers=sent)

    def search(self, buyer: Participant, body: bytes, **sign: Any) -> httpx.Response:
        signer = Signer(buyer.keys.subscriber_id, buyer.keys.key_id, buyer.keys.signing)
        return self.post(body, {"Authorization": signer.sign(body, **sign)})

    def public_key(self, subscriber_id: str) -> str:
        records = self.registry.lookup({"subscriber_id": subscriber_id}).json()
        return records[0]["signing_public_key"]

    def names(self, deliveries: list[Any]) -> set[str]:
        return {d.seller for d in deliveries}


def _subscribe_seller(registry: RunningRegistry, seller: Seller, domain: str, regions: list[str]):
    participant = Participant(seller.keys, seller.url)
    response = registry.subscribe(participant, type="BPP", domains=[domain], regions=regions)
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayNetwork]:
    tmp: Path = tmp_path_factory.mktemp("gateway")
    buyers_host = ParticipantHost()
    buyers_host.server.start()
    operator = new_keys("operateur")
    registry = RunningRegistry(
        RegistrySettings(
            database_url=migrated_sqlite(tmp / "registry.sqlite"),
            key_dir=tmp / "registry-keys",
            subscriber_id=REGISTRY_ID,
            operators=[
                OperatorKey(
                    operator_id=operator.subscriber_id,
                    key_id=operator.key_id,
                    signing_public_key=operator.signing.public_key_b64,
                )
            ],
            challenge_timeout_seconds=2.0,
            snapshot_refresh_seconds=0.2,
            port=free_port(),
        ),
        buyers_host,
        operator,
    ).start()
    sellers = SellerHost().start()
    by_name: dict[str, Seller] = {}
    for name, (domain, regions, behaviour) in SELLERS.items():
        by_name[name] = seller = sellers.add(name, behaviour)
        _subscribe_seller(registry, seller, domain, regions)
    dead_host = SellerHost().start()
    dead = dead_host.add(DEAD)
    _subscribe_seller(registry, dead, "PLA:ALIMENTS", ["QC-05"])
    dead_host.stop()

    port = free_port()
    settings = GatewaySettings(
        subscriber_id=GATEWAY_ID,
        key_dir=tmp / "gateway-keys",
        public_url=f"http://127.0.0.1:{port}",
        registry_url=registry.url,
        registry_subscriber_id=REGISTRY_ID,
        lookup_cache_ttl=CACHE_TTL,
        lookup_negative_ttl=0.2,
        seller_timeout=SELLER_TIMEOUT,
        rate_limit_per_second=2,
        rate_limit_burst=5,
        log_level="WARNING",
    )
    gateway_keys = SubscriberKeys.generate(GATEWAY_ID, "passerelle-1")
    app = create_app(settings, identity=gateway_keys)
    server = UvicornThread(app, port).start()
    assert register(settings, gateway_keys) == "SUBSCRIBED"
    http = httpx.Client(timeout=10)
    yield GatewayNetwork(
        registry,
        buyers_host,
        sellers,
        by_name,
        dead,
        gateway_keys,
        server,
        app.state.service,
        http,
    )
    http.close()
    server.stop()
    sellers.stop()
    registry.stop()
    buyers_host.server.stop()
