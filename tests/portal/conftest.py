"""The portal on the real nodes: the buyer's and the seller's applications on a fresh database
(SQLite, and PostgreSQL when the CI names one), driven by httpx through ASGI, as a browser
without JavaScript would (cookies kept, forms posted).

Passwords are hashed with argon2id at a lower cost than the library's default here (the
default takes about a second on a busy two-core machine, and these tests sign in often); the
hashing, its checks and the stored format are the same."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reseau_poles.buyer.app import create_app as create_buyer
from reseau_poles.buyer.repositories import organisations as org_repo
from reseau_poles.buyer.settings import BuyerSettings
from reseau_poles.buyer.web.portal import ACCOUNTS as BUYER_ACCOUNTS
from reseau_poles.portal.accounts import Accounts
from reseau_poles.seller.app import create_app as create_seller
from reseau_poles.seller.settings import SellerSettings
from reseau_poles.seller.web.portal import ACCOUNTS as SELLER_ACCOUNTS
from reseau_poles.storage import make_session_factory, write_session
from tests.portal.support import csrf_of, quick_hashing
from tests.seller.support import CAPITALE, ESTRIE, load_catalog

PASSWORD = "motdepasse-solide-1"
ORGANISATION = "css-capitale"
OTHER_ORGANISATION = "chu-estrie"


@dataclass
class Node:
    """One node's application, its accounts' repository and its portal prefix."""

    app: FastAPI
    accounts: Accounts
    prefix: str
    organisation: str

    @property
    def factory(self) -> Any:
        return make_session_factory(self.app.state.engine)

    def add_user(self, email: str, roles: list[str], organisation: str | None = None) -> None:
        with write_session(self.factory) as session:
            self.accounts.create_user(
                session,
                organisation_id=organisation or self.organisation,
                email=email,
                name=email.split("@")[0].capitalize(),
                roles=roles,
                password=PASSWORD,
            )

    def client(self, base_url: str = "http://testserver") -> httpx.AsyncClient:
        return client_of(self.app, base_url)

    def audit_actions(self) -> list[str]:
        with write_session(self.factory) as session:
            return [row["action"] for row in reversed(self.accounts.audit_rows(session))]


def client_of(app: FastAPI, base_url: str = "http://testserver") -> httpx.AsyncClient:
    """A client of ``app`` through ASGI (from 127.0.0.1), redirects not followed."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=base_url, follow_redirects=False
    )


async def sign_in(
    client: httpx.AsyncClient,
    prefix: str,
    email: str,
    password: str = PASSWORD,
    **more: str,
) -> httpx.Response:
    """The sign-in page, then its form posted (the pre-session token from the page)."""
    page = await client.get(f"{prefix}/connexion")
    assert page.status_code == 200, page.text
    data = {"email": email, "password": password, "csrf_token": csrf_of(page), **more}
    return await client.post(f"{prefix}/connexion", data=data)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def quick_argon2() -> Iterator[None]:
    with quick_hashing():
        yield


def _settings(kind: type, database_url: str, folder: Path, **values: Any) -> Any:
    return kind(
        database_url=database_url,
        key_dir=folder / f"keys-{kind.__name__}",
        registry_url="http://127.0.0.1:9",
        **values,
    )


@pytest.fixture
def buyer(database_url: str, tmp_path: Path) -> Iterator[Node]:
    app = create_buyer(_settings(BuyerSettings, database_url, tmp_path))
    node = Node(app, BUYER_ACCOUNTS, "/portail", ORGANISATION)
    with write_session(node.factory) as session:
        org_repo.add_organisation(
            session, ORGANISATION, "Centre de services scolaire de la Capitale"
        )
        org_repo.add_organisation(session, OTHER_ORGANISATION, "CHU de l'Estrie")
    node.add_user("acheteur@css.example", ["acheteur"])
    node.add_user("admin@css.example", ["acheteur", "admin"])
    yield node
    app.state.engine.dispose()


@pytest.fixture
def seller(database_url: str, tmp_path: Path) -> Iterator[Node]:
    app = create_seller(_settings(SellerSettings, database_url, tmp_path))
    load_catalog(app.state.engine)
    node = Node(app, SELLER_ACCOUNTS, "/gestion", CAPITALE)
    node.add_user("gestion@capitale.example", ["gestion"])
    node.add_user("estrie@estrie.example", ["gestion", "admin"], organisation=ESTRIE)
    yield node
    app.state.engine.dispose()


def make_buyer(
    database_url: str, folder: Path, network_settings: Any = None, **settings: Any
) -> FastAPI:
    """A buyer node with more settings (``public_url``), or the network's own."""
    return create_buyer(
        _settings(BuyerSettings, database_url, folder, **settings),
        network_settings=network_settings,
    )
