"""The pôle's pages on a real seller node: the application on a fresh database (SQLite, and
PostgreSQL when the CI names one) with the test catalogue and the pôle's people, driven by
httpx through ASGI as a browser without JavaScript would (cookies kept, forms posted, the
CSRF token read from the page); an htmx request is the same with ``HX-Request: true``.

Passwords are hashed with argon2id at a low cost here (the library's default takes about a
second on a busy machine, and these tests sign in often); the checks are the same."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reseau_poles.network import migrate as migrate_network
from reseau_poles.protocol.models import format_datetime
from reseau_poles.seller.app import create_app
from reseau_poles.seller.settings import SellerSettings
from reseau_poles.seller.web.portal import ACCOUNTS
from reseau_poles.storage import make_session_factory, utcnow, write_session
from tests.portal.support import csrf_of, quick_hashing
from tests.seller.support import CAPITALE, ESTRIE, SYRUP, confirm_in_steps, load_catalog
from tests.seller.test_order_view import DAY, beckn_order

PASSWORD = "motdepasse-solide-1"
MANAGER = "gestion@capitale.example"
PREPARER = "preparation@capitale.example"
ADMIN = "admin@capitale.example"
OTHER_POLE = "gestion@estrie.example"
HTMX = {"HX-Request": "true"}


@dataclass
class Pole:
    """The seller node's application and the pôle whose people sign in."""

    app: FastAPI

    @property
    def factory(self) -> Any:
        return make_session_factory(self.app.state.engine)

    @property
    def services(self) -> Any:
        return self.app.state.services

    def add_user(self, email: str, roles: list[str], organisation: str = CAPITALE) -> None:
        with write_session(self.factory) as session:
            ACCOUNTS.create_user(
                session,
                organisation_id=organisation,
                email=email,
                name=email.split("@")[0].capitalize(),
                roles=roles,
                password=PASSWORD,
            )

    def order(
        self,
        *lines: tuple[str, int],
        po: str | None = "BC-2026-0042",
        window: tuple[str, str] | None = (f"{DAY}T13:00:00Z", f"{DAY}T15:00:00Z"),
        fulfillment: str = "livraison-froid",
    ) -> str:
        """An order confirmed by a buyer (select, init, confirm through the node's service,
        as its protocol routes call it); its id."""
        wanted = beckn_order(*lines or ((SYRUP, 6),), po=po, window=window)
        wanted["fulfillments"][0]["id"] = fulfillment
        transaction = str(uuid.uuid4())

        def request(action: str, transaction: str, order: dict[str, Any]) -> dict[str, Any]:
            return {
                "context": {
                    "domain": "PLA:ALIMENTS",
                    "location": {"city": {"code": "QC-03"}, "country": {"code": "CAN"}},
                    "action": action,
                    "version": "1.1.0",
                    "bap_id": "acheteur.css.example",
                    "bap_uri": "https://acheteur.css.example/beckn",
                    "bpp_id": "vendeur.example",
                    "bpp_uri": "https://vendeur.example/beckn",
                    "transaction_id": transaction,
                    "message_id": str(uuid.uuid4()),
                    "timestamp": format_datetime(utcnow()),
                    "ttl": "PT30S",
                },
                "message": {"order": order},
            }

        return confirm_in_steps(self.app.state.service, request, transaction, wanted)

    def audit(self) -> list[dict[str, Any]]:
        """The audit's rows, oldest first."""
        with write_session(self.factory) as session:
            return [dict(row) for row in reversed(ACCOUNTS.audit_rows(session))]

    async def signed_in(self, email: str = MANAGER) -> Client:
        client = Client(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://testserver",
            follow_redirects=False,
        )
        page = await client.get("/gestion/connexion")
        answer = await client.post(
            "/gestion/connexion",
            data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(page)},
        )
        assert answer.status_code == 303, answer.text
        client.csrf = csrf_of(await client.get("/gestion/"))
        return client


class Client(httpx.AsyncClient):
    """A signed-in browser: ``csrf`` is its session's token."""

    csrf = ""

    async def send_form(
        self, path: str, data: dict[str, Any] | None = None, *, htmx: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """POST a form with the session's token (htmx sends it as a header)."""
        body = dict(data or {})
        headers = dict(kwargs.pop("headers", {}) or {})
        if htmx:
            headers |= {**HTMX, "X-CSRF-Token": self.csrf}
        else:
            body.setdefault("csrf_token", self.csrf)
        return await self.post(path, data=body, headers=headers, **kwargs)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def quick_argon2() -> Iterator[None]:
    with quick_hashing():
        yield


@pytest.fixture
def pole(database_url: str, tmp_path: Path) -> Iterator[Pole]:
    app = create_app(
        SellerSettings(
            database_url=database_url,
            key_dir=tmp_path / "keys",
            registry_url="http://127.0.0.1:9",
            # the tests' webhook addresses are on loopback, in plain http
            webhook_allow_private_networks=True,
            webhook_allow_http=True,
        )
    )
    migrate_network(app.state.engine)  # the outbox (the node's start does it in its lifespan)
    load_catalog(app.state.engine)
    pole = Pole(app)
    pole.add_user(MANAGER, ["gestion"])
    pole.add_user(PREPARER, ["preparation"])
    pole.add_user(ADMIN, ["admin"])
    pole.add_user(OTHER_POLE, ["gestion", "admin"], organisation=ESTRIE)
    yield pole
    app.state.engine.dispose()
