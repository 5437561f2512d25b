"""The buyer node searching through the gateway, end to end on loopback: the real registry,
the real gateway (``reseau_poles.gateway``, registered as BG through the registry's
challenge), several real seller nodes, and the buyer node with ``use_gateway=True``."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from reseau_poles.buyer.app import create_app as create_buyer
from reseau_poles.buyer.repositories import organisations as repo
from reseau_poles.buyer.settings import BuyerSettings
from reseau_poles.gateway import GatewaySettings
from reseau_poles.gateway import create_app as create_gateway
from reseau_poles.gateway.cli import register
from reseau_poles.keystore import KeyFiles
from reseau_poles.network.tables import transcript_table
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.signing import Signer
from reseau_poles.storage import make_session_factory, utcnow, write_session
from tests.conftest import free_port
from tests.registry.conftest import (  # noqa: F401  (fixtures)
    RunningRegistry,
    UvicornThread,
    new_keys,
    operator_keys,
    participant_host,
    registry_factory,
)
from tests.seller.support import CAPITALE, SYRUP

from .conftest import REGISTRY_ID, World, _join, start_seller
from .test_sse import read_all

GATEWAY_ID = "passerelle.test.example"
# name: regions served
SELLERS = {"capitale": ["QC-03"], "estrie": ["QC-03", "QC-05"], "gaspesie": ["QC-11"]}


@dataclass
class GatewayWorld(World):
    gateway_app: FastAPI | None = None
    registry_bap_id: str = ""
    buyer_keys: SubscriberKeys | None = None
    seller_apps: dict[str, FastAPI] = field(default_factory=dict)

    @property
    def gateway(self) -> Any:
        return self.gateway_app.state.service  # type: ignore[union-attr]


@pytest.fixture
def gw(
    registry_factory: Callable[..., RunningRegistry],  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> Iterator[GatewayWorld]:
    registry = registry_factory(subscriber_id=REGISTRY_ID)
    started: list[tuple[UvicornThread, FastAPI | None]] = []
    sellers: dict[str, str] = {}
    seller_apps: dict[str, FastAPI] = {}
    try:
        for name, regions in SELLERS.items():
            keys, server, app = start_seller(registry, tmp_path, name, regions)
            sellers[name] = keys.subscriber_id
            seller_apps[name] = app
            started.append((server, app))

        port = free_port()
        gateway_settings = GatewaySettings(
            subscriber_id=GATEWAY_ID,
            key_dir=tmp_path / "gateway-keys",
            public_url=f"http://127.0.0.1:{port}",
            registry_url=registry.url,
            registry_subscriber_id=REGISTRY_ID,
            lookup_cache_ttl=1.0,
            seller_timeout=2.0,
            log_level="WARNING",
        )
        gateway_keys = SubscriberKeys.generate(GATEWAY_ID, "passerelle-1")
        gateway_app = create_gateway(gateway_settings, identity=gateway_keys)
        started.append((UvicornThread(gateway_app, port).start(), None))
        assert register(gateway_settings, gateway_keys) == "SUBSCRIBED"

        buyer_keys = new_keys("acheteur")
        KeyFiles(tmp_path / "buyer-keys").write(buyer_keys)
        port = free_port()
        buyer_url = f"http://127.0.0.1:{port}"
        settings = BuyerSettings(
            database_url=database_url,
            subscriber_id=buyer_keys.subscriber_id,
            key_dir=tmp_path / "buyer-keys",
            public_url=buyer_url,
            registry_url=registry.url,
            registry_subscriber_id=REGISTRY_ID,
            use_gateway=True,
        )
        buyer_app = create_buyer(settings)
        with write_session(make_session_factory(buyer_app.state.service.engine)) as session:
            repo.add_organisation(session, "cisss-gaspesie", "CISSS de la Gaspésie")
            api_key = repo.create_api_key(session, "cisss-gaspesie", "tests")
        started.append((UvicornThread(buyer_app, port).start(), buyer_app))
        _join(registry, buyer_keys, buyer_url, type="BAP", regions=["*"])
        world = GatewayWorld(
            registry,
            buyer_url,
            buyer_app,
            sellers,
            None,  # type: ignore[arg-type]  (no hand-driven seller here)
            api_key,
            gateway_app=gateway_app,
            registry_bap_id=buyer_keys.subscriber_id,
            buyer_keys=buyer_keys,
            seller_apps=seller_apps,
        )
        yield world
        world.http.close()
    finally:
        for server, app in reversed(started):
            server.stop()
            if app is not None:
                app.state.service.engine.dispose()


def test_a_search_through_the_gateway_gathers_every_matching_seller(gw: GatewayWorld) -> None:
    tx = gw.search(text="erable", region="QC-03")
    found = gw.results(tx, wait_ms=10_000)
    assert found["complete"] and found["state"] == "complete", found["sellers"]
    assert found["via_gateway"] == GATEWAY_ID
    capitale, estrie = gw.sellers["capitale"], gw.sellers["estrie"]
    assert sorted(found["sellers"]["targeted"]) == sorted([capitale, estrie])
    assert sorted(a["bpp_id"] for a in found["sellers"]["answered"]) == sorted([capitale, estrie])
    assert sorted(p["bpp_id"] for p in found["providers"]) == sorted([capitale, estrie])
    for provider in found["providers"]:
        assert provider["id"] == CAPITALE
        assert SYRUP in [item["id"] for item in provider["items"]]

    # The whole province: every seller node, the Gaspésie's included, through one request.
    everywhere = gw.results(gw.search(text="erable"), wait_ms=10_000)
    assert everywhere["complete"] and everywhere["via_gateway"] == GATEWAY_ID
    assert sorted(a["bpp_id"] for a in everywhere["sellers"]["answered"]) == sorted(
        gw.sellers.values()
    )
    # The gateway took each search once and reached the sellers itself.
    seen = {r["transaction_id"]: r for r in gw.gateway.stats.recent()}
    assert (seen[tx]["targeted"], seen[tx]["acked"]) == (2, 2)
    assert (seen[everywhere["transaction_id"]]["acked"]) == 3
    assert seen[tx]["bap_id"] == gw.registry_bap_id


def test_the_gateway_path_streams_and_filters_like_the_direct_one(gw: GatewayWorld) -> None:
    tx = gw.search(region="QC-05")
    stream = read_all(gw, f"/api/searches/{tx}/events?certification=aliments_du_quebec")
    results = [e for e in stream.events if e.name == "resultats"]
    assert [e.data["bpp_id"] for e in results] == [gw.sellers["estrie"]]
    assert stream.events[-1].name == "fin" and stream.events[-1].data["raison"] == "complete"
    for offer in results[0].data["offers"]:
        assert "aliments_du_quebec" in offer["certifications"]


def test_without_a_usable_gateway_the_search_fails_clearly(gw: GatewayWorld) -> None:
    service = gw.service
    service.settings = service.settings.model_copy(update={"gateway_id": "autre.example"})
    found = gw.results(gw.search(region="QC-03"), wait_ms=5_000)
    assert found["state"] == "echec" and found["complete"]
    assert found["via_gateway"] is None and found["sellers"]["targeted"] == []


def _sent_on_search(app: FastAPI, transaction_id: str, timeout: float = 10) -> dict[str, Any]:
    """The ``on_search`` a seller node sent for ``transaction_id``, from its transcript."""
    engine = app.state.service.engine
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as connection:
            row = connection.execute(
                sa.select(transcript_table.c.body).where(
                    transcript_table.c.direction == "out",
                    transcript_table.c.action == "on_search",
                    transcript_table.c.transaction_id == transaction_id,
                )
            ).first()
        if row is not None:
            return dict(json.loads(row.body))
        assert time.monotonic() < deadline, f"aucun on_search envoyé pour {transaction_id}"
        time.sleep(0.05)


def _item_ids(on_search: dict[str, Any]) -> set[str]:
    providers = on_search["message"]["catalog"].get("providers") or []
    return {item["id"] for provider in providers for item in provider.get("items") or []}


def test_other_stacks_a_quoted_signature_and_no_location_reach_every_real_seller(
    gw: GatewayWorld,
) -> None:
    """A search as another Beckn stack writes it (ONDC's Python helper quotes the whole
    Authorization; Beckn 1.1 lets context.location out): the gateway ACKs, each real seller
    node verifies the quoted buyer signature and ACKs, and answers with its whole catalogue."""
    keys = gw.buyer_keys
    assert keys is not None
    signer = Signer(keys.subscriber_id, keys.key_id, keys.signing)

    def search(location: dict[str, Any] | None) -> str:
        transaction_id = str(uuid.uuid4())
        context: dict[str, Any] = {
            "domain": "PLA:ALIMENTS",
            "action": "search",
            "version": "1.1.0",
            "bap_id": keys.subscriber_id,
            "bap_uri": gw.buyer_url,
            "transaction_id": transaction_id,
            "message_id": str(uuid.uuid4()),
            "timestamp": format_datetime(utcnow()),
            "ttl": "PT30S",
        }
        if location is not None:
            context["location"] = location
        body = json.dumps({"context": context, "message": {"intent": {}}}).encode()
        response = gw.http.post(
            f"{gw.gateway.settings.public_url}/search",
            content=body,
            headers={"Authorization": f'"{signer.sign(body)}"', "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"message": {"ack": {"status": "ACK"}}}
        return transaction_id

    nowhere = search(None)
    whole_province = search({"city": {"code": "*"}, "country": {"code": "CAN"}})
    for transaction_id in (nowhere, whole_province):
        deadline = time.monotonic() + 10
        while True:
            seen = {r["transaction_id"]: r for r in gw.gateway.stats.recent()}.get(transaction_id)
            if seen is not None and seen["acked"] == len(SELLERS):
                break
            assert time.monotonic() < deadline, seen
            time.sleep(0.05)
        assert (seen["targeted"], seen["city"]) == (len(SELLERS), "*")
    for name in SELLERS:
        answer = _sent_on_search(gw.seller_apps[name], nowhere)
        assert answer["context"]["bpp_id"] == gw.sellers[name]
        assert "location" not in answer["context"]  # the request's context, echoed
        items = _item_ids(answer)
        assert items and SYRUP in items
        # The whole catalogue: what the same seller answers for all of Québec.
        assert items == _item_ids(_sent_on_search(gw.seller_apps[name], whole_province))
