"""Real parts for the buyer tests, all on loopback: the registry, seller nodes (each with its
own SQLite file and the seller tests' catalog) in chosen regions, a hand-driven seller whose
callbacks the test writes itself, and the buyer node under test."""

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
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from reseau_poles.buyer.app import create_app as create_buyer
from reseau_poles.buyer.repositories import organisations as repo
from reseau_poles.buyer.settings import BuyerSettings
from reseau_poles.keystore import KeyFiles
from reseau_poles.network import ACK_BODY
from reseau_poles.protocol.keys import SubscriberKeys, open_challenge
from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.signing import Signer
from reseau_poles.seller.app import create_app as create_seller
from reseau_poles.seller.settings import SellerSettings
from reseau_poles.storage import make_session_factory, utcnow, write_session
from tests.conftest import free_port, migrated_sqlite
from tests.registry.conftest import (  # noqa: F401  (fixtures)
    Participant,
    RunningRegistry,
    UvicornThread,
    new_keys,
    operator_keys,
    participant_host,
    registry_factory,
    stop_all,
)
from tests.seller.support import load_catalog

REGISTRY_ID = "registre.test.example"


def _join(registry: RunningRegistry, keys: SubscriberKeys, url: str, **record: Any) -> None:
    response = registry.subscribe(Participant(keys, url), **record)
    assert response.status_code == 200, response.text


@dataclass
class HandSeller:
    """A seller node the test drives: records the searches it gets (ACK), and the test
    writes and signs its ``on_search`` callbacks."""

    keys: SubscriberKeys
    searches: list[dict[str, Any]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        app = FastAPI()

        @app.post("/on_subscribe")
        async def on_subscribe(request: Request) -> Any:
            body = json.loads(await request.body())
            return JSONResponse({"answer": open_challenge(self.keys.encryption, body["challenge"])})

        @app.post("/search")
        async def search(request: Request) -> Response:
            body = json.loads(await request.body())
            with self.arrived:
                self.searches.append(body)
                self.arrived.notify_all()
            return Response(ACK_BODY, media_type="application/json")

        self.server = UvicornThread(app)

    @property
    def signer(self) -> Signer:
        return Signer(self.keys.subscriber_id, self.keys.key_id, self.keys.signing)

    def wait_search(self, transaction_id: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for body in self.searches:
                    if body["context"]["transaction_id"] == transaction_id:
                        return body
                left = deadline - time.monotonic()
                assert left > 0, f"aucune recherche reçue pour {transaction_id}"
                self.arrived.wait(left)

    def on_search(self, search: dict[str, Any], providers: list[dict[str, Any]]) -> bytes:
        context = dict(search["context"])
        context.update(
            action="on_search",
            bpp_id=self.keys.subscriber_id,
            bpp_uri=self.server.url,
            timestamp=format_datetime(utcnow()),
        )
        body = {
            "context": context,
            "message": {"catalog": {"descriptor": {"name": "Pôle manuel"}, "providers": providers}},
        }
        return json.dumps(body, ensure_ascii=False).encode()


@dataclass
class World:
    registry: RunningRegistry
    buyer_url: str
    buyer_app: FastAPI
    sellers: dict[str, str]  # name → subscriber id
    hand: HandSeller
    api_key: str
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=20))

    @property
    def service(self) -> Any:
        return self.buyer_app.state.service

    def api(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"X-API-Key": key or self.api_key, **kwargs.pop("headers", {})}
        return self.http.request(method, self.buyer_url + path, headers=headers, **kwargs)

    def search(self, **params: Any) -> str:
        response = self.api("POST", "/api/searches", json=params)
        assert response.status_code == 202, response.text
        return response.json()["transaction_id"]

    def results(self, transaction_id: str, wait_ms: int | None = None) -> dict[str, Any]:
        query = f"?wait_ms={wait_ms}" if wait_ms is not None else ""
        response = self.api("GET", f"/api/searches/{transaction_id}{query}")
        assert response.status_code == 200, response.text
        return response.json()

    def callback(self, body: bytes, signer: Signer) -> httpx.Response:
        return self.http.post(
            f"{self.buyer_url}/on_search",
            content=body,
            headers={"Authorization": signer.sign(body), "Content-Type": "application/json"},
        )


def start_seller(
    registry: RunningRegistry, tmp_path: Path, name: str, regions: list[str], **overrides: Any
) -> tuple[SubscriberKeys, UvicornThread, FastAPI]:
    keys = new_keys(name)
    KeyFiles(tmp_path / f"{name}-keys").write(keys)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = SellerSettings(
        database_url=migrated_sqlite(tmp_path / f"{name}.sqlite"),
        subscriber_id=keys.subscriber_id,
        key_dir=tmp_path / f"{name}-keys",
        public_url=url,
        registry_url=registry.url,
        registry_subscriber_id=REGISTRY_ID,
        **overrides,
    )
    app = create_seller(
        settings, network_settings=settings.network_settings(outbox_poll_interval=0.05)
    )
    load_catalog(app.state.service.engine)
    server = UvicornThread(app, port).start()
    _join(registry, keys, url, type="BPP", regions=regions)
    return keys, server, app


@pytest.fixture
def seller_overrides() -> dict[str, Any]:
    """Settings of the ``world``'s two seller nodes (a test module overrides this fixture)."""
    return {}


@pytest.fixture
def buyer_overrides() -> dict[str, Any]:
    """Settings of the ``world``'s buyer node (a test module overrides this fixture)."""
    return {}


@pytest.fixture
def world(
    registry_factory: Callable[..., RunningRegistry],  # noqa: F811
    database_url: str,
    tmp_path: Path,
    seller_overrides: dict[str, Any],
    buyer_overrides: dict[str, Any],
) -> Iterator[World]:
    registry = registry_factory(subscriber_id=REGISTRY_ID)
    started: list[tuple[UvicornThread, FastAPI | None]] = []
    sellers: dict[str, str] = {}
    # Two seller nodes serve the Capitale-Nationale, one of them the Estrie as well.
    for name, regions in (("capitale", ["QC-03"]), ("estrie", ["QC-03", "QC-05"])):
        keys, server, app = start_seller(registry, tmp_path, name, regions, **seller_overrides)
        sellers[name] = keys.subscriber_id
        started.append((server, app))
    hand = HandSeller(new_keys("gaspesie"))
    hand.server.start()
    started.append((hand.server, None))
    _join(registry, hand.keys, hand.server.url, type="BPP", regions=["QC-11"])

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
        # the tests' webhook receivers listen on loopback, in plain http
        webhook_allow_private_networks=True,
        webhook_allow_http=True,
        **buyer_overrides,
    )
    buyer_app = create_buyer(settings)
    with write_session(make_session_factory(buyer_app.state.service.engine)) as session:
        repo.add_organisation(session, "css-capitale", "Centre de services scolaire de la Capitale")
        api_key = repo.create_api_key(session, "css-capitale", "tests")
    buyer = UvicornThread(buyer_app, port).start()
    started.append((buyer, buyer_app))
    _join(registry, buyer_keys, buyer_url, type="BAP", regions=["*"])
    world = World(registry, buyer_url, buyer_app, sellers, hand, api_key)
    try:
        yield world
    finally:
        world.http.close()
        stop_all(server for server, _ in reversed(started))
        for _, app in started:
            if app is not None:
                app.state.service.engine.dispose()


def new_transaction() -> str:
    return str(uuid.uuid4())


# --- one network for a whole test module ------------------------------------------------------
#
# Starting a registry, two seller nodes and the buyer takes most of a buyer test's time. Tests
# that can share them (each with its own organisation: ``SharedWorld.organisation()``) use
# ``shared_world``: one network per module and database backend. Seller stock is shared too:
# such tests order small quantities (or ask for more than any stock on purpose).


@dataclass
class SharedWorld(World):
    factory: Any = None
    database_url: str = ""
    # name → the seller node's application (its database, for a pôle's API key)
    seller_apps: dict[str, FastAPI] = field(default_factory=dict)

    def organisation(self, prefix: str = "org") -> tuple[str, str]:
        """A new organisation of its own and its API key: ``(id, key)``."""
        organisation_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
        with write_session(self.factory) as session:
            repo.add_organisation(session, organisation_id, f"Organisation {organisation_id}")
            key = repo.create_api_key(session, organisation_id, "tests")
        return organisation_id, key


def _module_database(kind: str, tmp: Path) -> Iterator[str]:
    from tests.conftest import fresh_database

    yield from fresh_database(kind, tmp, "shared.sqlite")


def _shared_backends() -> list[str]:
    from tests.conftest import _backends

    return _backends()


@pytest.fixture(scope="module", params=_shared_backends())
def shared_world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    operator_keys: SubscriberKeys,  # noqa: F811
) -> Iterator[SharedWorld]:
    """The registry, two real seller nodes (capitale: QC-03; estrie: QC-03 and QC-05) and the
    buyer node, started once for the module; no hand-driven seller."""
    from reseau_poles.registry.settings import OperatorKey, RegistrySettings
    from tests.registry.conftest import ParticipantHost

    tmp_path = tmp_path_factory.mktemp("shared-world")
    databases = _module_database(request.param, tmp_path)
    database_url = next(databases)
    registry = RunningRegistry(
        RegistrySettings(
            database_url=database_url,
            key_dir=tmp_path / "registry-keys",
            subscriber_id=REGISTRY_ID,
            operators=[
                OperatorKey(
                    operator_id=operator_keys.subscriber_id,
                    key_id=operator_keys.key_id,
                    signing_public_key=operator_keys.signing.public_key_b64,
                )
            ],
            challenge_timeout_seconds=2.0,
            snapshot_refresh_seconds=0.2,
            port=free_port(),
        ),
        ParticipantHost(),
        operator_keys,
    ).start()
    started: list[tuple[UvicornThread, FastAPI | None]] = []
    world: SharedWorld | None = None
    try:
        sellers: dict[str, str] = {}
        seller_apps: dict[str, FastAPI] = {}
        for name, regions in (("capitale", ["QC-03"]), ("estrie", ["QC-03", "QC-05"])):
            keys, server, app = start_seller(registry, tmp_path, name, regions)
            sellers[name] = keys.subscriber_id
            seller_apps[name] = app
            started.append((server, app))
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
            webhook_allow_private_networks=True,
            webhook_allow_http=True,
        )
        buyer_app = create_buyer(settings)
        factory = make_session_factory(buyer_app.state.service.engine)
        buyer = UvicornThread(buyer_app, port).start()
        started.append((buyer, buyer_app))
        _join(registry, buyer_keys, buyer_url, type="BAP", regions=["*"])
        world = SharedWorld(
            registry,
            buyer_url,
            buyer_app,
            sellers,
            None,  # type: ignore[arg-type]
            "",
            factory=factory,
            database_url=database_url,
            seller_apps=seller_apps,
        )
        yield world
    finally:
        if world is not None:
            world.http.close()
        for server, app in reversed(started):
            server.stop()
            if app is not None:
                app.state.service.engine.dispose()
        registry.stop()
        next(databases, None)
