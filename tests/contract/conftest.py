"""The four roles running on loopback, once for the contract tests: a registry, a gateway, a
seller node (the seller tests' catalogue, one API key) and a buyer node (one organisation and
its API key), each on its own SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reseau_poles.buyer.app import create_app as create_buyer
from reseau_poles.buyer.repositories import organisations as buyer_repo
from reseau_poles.buyer.settings import BuyerSettings
from reseau_poles.gateway.app import create_app as create_gateway
from reseau_poles.gateway.settings import GatewaySettings
from reseau_poles.registry.app import create_app as create_registry
from reseau_poles.registry.settings import RegistrySettings
from reseau_poles.seller.app import create_app as create_seller
from reseau_poles.seller.repositories import api_keys as key_repo
from reseau_poles.seller.settings import SellerSettings
from reseau_poles.storage import make_session_factory, write_session
from tests.conftest import free_port, migrated_sqlite
from tests.registry.conftest import UvicornThread
from tests.seller.support import CAPITALE, load_catalog

ORGANISATION = "css-capitale"


@dataclass
class RunningRole:
    role: str
    url: str
    app: Any
    api_key: str | None = None


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="package")
def roles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RunningRole]]:
    tmp: Path = tmp_path_factory.mktemp("contrat")
    ports = {role: free_port() for role in ("registry", "gateway", "seller", "buyer")}
    registry_url = _url(ports["registry"])
    registry = create_registry(
        RegistrySettings(
            database_url=migrated_sqlite(tmp / "registry.sqlite"),
            key_dir=tmp / "registry-keys",
            subscriber_id="registre.contrat.example",
            public_url=registry_url,
            port=ports["registry"],
        )
    )
    gateway = create_gateway(
        GatewaySettings(
            key_dir=tmp / "gateway-keys",
            subscriber_id="passerelle.contrat.example",
            public_url=_url(ports["gateway"]),
            registry_url=registry_url,
            redis_url=None,
            transcript_path=None,
            log_level="WARNING",
        )
    )
    seller = create_seller(
        SellerSettings(
            database_url=migrated_sqlite(tmp / "seller.sqlite"),
            subscriber_id="vendeur.contrat.example",
            key_dir=tmp / "seller-keys",
            public_url=_url(ports["seller"]),
            registry_url=registry_url,
        )
    )
    load_catalog(seller.state.engine)
    with write_session(make_session_factory(seller.state.engine)) as session:
        seller_key = key_repo.create_api_key(session, CAPITALE, "contrat")
    buyer = create_buyer(
        BuyerSettings(
            database_url=migrated_sqlite(tmp / "buyer.sqlite"),
            subscriber_id="acheteur.contrat.example",
            key_dir=tmp / "buyer-keys",
            public_url=_url(ports["buyer"]),
            registry_url=registry_url,
        )
    )
    with write_session(make_session_factory(buyer.state.engine)) as session:
        buyer_repo.add_organisation(session, ORGANISATION, "Centre de services scolaire")
        buyer_key = buyer_repo.create_api_key(session, ORGANISATION, "contrat")
    apps = {"registry": registry, "gateway": gateway, "seller": seller, "buyer": buyer}
    keys = {"seller": seller_key, "buyer": buyer_key}
    servers = {role: UvicornThread(app, ports[role]).start() for role, app in apps.items()}
    try:
        yield {
            role: RunningRole(role, servers[role].url, apps[role], keys.get(role)) for role in apps
        }
    finally:
        for server in reversed(servers.values()):
            server.stop()
