"""What the follow-up pages' tests share: a person of an organisation signed in to the real
buyer node (an httpx client keeping its cookies, as a browser without JavaScript), orders
placed through the node's own API on the real seller nodes, and the pôle moving them through
its fulfilment API."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from reseau_poles.buyer.web.portal import ACCOUNTS
from reseau_poles.seller.repositories import api_keys as seller_keys
from reseau_poles.storage import make_session_factory, read_session, utcnow, write_session
from tests.portal.support import csrf_of
from tests.seller.support import CAPITALE, CHIPS, SYRUP

from ..conftest import SharedWorld

PASSWORD = "motdepasse-solide-1"
WAIT = {"wait_ms": "10000"}
DAY = (utcnow() + timedelta(days=3)).date().isoformat()
SCHOOL = {
    "type": "livraison",
    "address": "1100, boul. de la Cafétéria, Québec (Québec) G1V 4E2",
    "region": "QC-03",
    "site_name": "École des Berges",
    "contact": {"name": "Cuisine centrale", "phone": "418 555-0199"},
    "instructions": "Quai de réception, porte 3.",
}
BILLING = {
    "name": "Centre de services scolaire de la Capitale",
    "address": "1900, rue Côté, Québec (Québec) G1N 3Y5",
    "email": "comptes.fournisseurs@cscapitale.example",
}


@dataclass
class Person:
    """A signed-in person of ``organisation`` (its API key beside, for the machine's side)."""

    world: SharedWorld
    organisation: str
    api_key: str
    email: str
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.world.buyer_url, timeout=20, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        """A form posted with the session's CSRF token (read from the portal's home)."""
        token = csrf_of(self.get("/portail/"))
        return self.http.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, headers={"X-API-Key": self.api_key}, **kwargs)

    # --- orders through the API --------------------------------------------------------------

    def search(self) -> None:
        """A search first, as a person does: order lines keep what the catalogue said (names,
        certifications, origin), and cart lines must be items seen."""
        started = self.api("POST", "/api/searches", json={"region": "QC-03"})
        assert started.status_code == 202, started.text
        tx = started.json()["transaction_id"]
        found = self.api("GET", f"/api/searches/{tx}", params=WAIT)
        assert found.json()["complete"], found.text

    def order(self, seller: str = "capitale", **changes: Any) -> str:
        body: dict[str, Any] = {
            "provider": {"bpp_id": self.world.sellers[seller], "id": CAPITALE},
            "items": [{"id": SYRUP, "quantity": 6}, {"id": CHIPS, "quantity": 4}],
            "fulfilment": SCHOOL,
            "billing": BILLING,
            "payment": {"type": "POST-FULFILLMENT", "net_days": 30},
            "purchase_order_number": "BC-2026-0042",
            "delivery_window": {"start": f"{DAY}T13:00:00Z", "end": f"{DAY}T16:00:00-05:00"},
            **changes,
        }
        made = self.api("POST", "/api/orders", json=body)
        assert made.status_code == 202, made.text
        order_id = str(made.json()["id"])
        document = self.read(order_id, **WAIT)
        assert document["state"] == "selected", document
        return order_id

    def read(self, order_id: str, **params: str) -> dict[str, Any]:
        response = self.api("GET", f"/api/orders/{order_id}", params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def act(self, order_id: str, action: str, body: Any = None) -> dict[str, Any]:
        response = self.api("POST", f"/api/orders/{order_id}/{action}", json=body, params=WAIT)
        assert response.status_code in (200, 202), response.text
        return dict(response.json())

    def confirmed(self, seller: str = "capitale", **changes: Any) -> dict[str, Any]:
        order_id = self.order(seller, **changes)
        assert self.act(order_id, "init", {})["state"] == "initialized"
        document = self.act(order_id, "confirm", {})
        assert document["state"] == "confirmed", document
        return document


def sign_in(
    world: SharedWorld, roles: tuple[str, ...] = ("acheteur",), prefix: str = "p"
) -> Person:
    """A new organisation, a person of it with ``roles``, signed in."""
    organisation, key = world.organisation(prefix)
    email = f"{prefix}.{organisation}@example.org"
    with write_session(world.factory) as session:
        ACCOUNTS.create_user(
            session,
            organisation_id=organisation,
            email=email,
            name="Marie Tremblay",
            roles=roles,
            password=PASSWORD,
        )
    person = Person(world, organisation, key, email)
    person.search()
    form = person.get("/portail/connexion")
    assert form.status_code == 200, form.text
    signed = person.http.post(
        "/portail/connexion",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(form)},
    )
    assert signed.status_code == 303, signed.text
    return person


def move(world: SharedWorld, order: dict[str, Any], state: str, seller: str = "capitale") -> None:
    """The pôle moves the order's fulfilment through its own API (an on_status follows)."""
    app = world_seller_app(world, seller)
    with write_session(make_session_factory(app.state.service.engine)) as session:
        key = seller_keys.create_api_key(session, CAPITALE, "tests portail")
    moved = httpx.post(
        f"{order['provider']['bpp_uri']}/api/providers/{CAPITALE}/orders/"
        f"{order['seller_order_id']}/fulfillment",
        json={"state": state},
        headers={"X-API-Key": key},
        timeout=20,
    )
    assert moved.status_code == 200, moved.text


def world_seller_app(world: SharedWorld, seller: str) -> Any:
    return world.seller_apps[seller]


def wait_until(check: Any, timeout: float = 10, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"délai dépassé : {what}"
        time.sleep(0.05)


def audit_actions(world: SharedWorld, organisation: str) -> list[tuple[str, str | None, Any]]:
    with read_session(world.factory) as session:
        rows = ACCOUNTS.audit_rows(session, organisation)
    return [(row["action"], row["target"], row["detail"]) for row in rows]
