"""Real answers of the running roles match the success schemas their documents declare.

The answers are built by hand and the models of ``*/answers.py`` only describe them (they
never filter what is sent): this test is what keeps the two together. Every successful JSON
answer of a whole journey — a search, a cart and its preview, an order from select to
delivery, sites, webhooks, the report, the pôle's catalogue, stock, orders and pick list, the
registry's lookup and administration (a suspended participant included), the gateway's
statistics — is validated (``jsonschema``, draft 2020-12) against the schema the role's own
``/openapi.json`` gives for that operation and status. The schemas forbid fields they do not
name: a field added to an answer without its description fails here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from sqlalchemy import create_engine

from reseau_poles.gateway.stats import SearchRecord, SellerOutcome
from reseau_poles.seller.repositories import api_keys as key_repo
from reseau_poles.storage import make_session_factory, write_session
from tests.buyer.conftest import World, buyer_overrides, seller_overrides, world  # noqa: F401
from tests.buyer.test_orders import WAIT, confirmed_order, order_body
from tests.registry.conftest import (  # noqa: F401  (fixtures)
    operator_keys,
    participant_host,
    registry_factory,
)
from tests.seller.support import CAPITALE, SYRUP

from .conftest import RunningRole

SUCCESS = re.compile(r"2\d\d")


class Contract:
    """One role's document, and the operations' success schemas checked against answers."""

    def __init__(self, base_url: str) -> None:
        self.document = httpx.get(f"{base_url}/openapi.json", timeout=10).json()
        self.templates = [
            (re.compile("^" + re.sub(r"\{[^/}]+\}", "[^/]+", path) + "$"), path)
            for path in self.document["paths"]
        ]
        self.checked: set[tuple[str, str]] = set()

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        found = [
            template
            for pattern, template in self.templates
            if pattern.match(path) and method.lower() in self.document["paths"][template]
        ]
        assert found, f"{method} {path} : aucune opération dans le document"
        template = min(found, key=lambda t: t.count("{"))  # /api/sites before /{action}
        return template, self.document["paths"][template][method.lower()]

    def check(self, method: str, path: str, status: int, body: Any) -> None:
        template, operation = self.operation(method, path)
        answer = operation["responses"].get(str(status))
        assert answer is not None, f"{method} {template} : statut {status} non déclaré"
        schema = answer["content"]["application/json"]["schema"]
        root = {**schema, "components": self.document["components"]}
        try:
            jsonschema.Draft202012Validator(root).validate(body)
        except jsonschema.ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path)
            pytest.fail(f"{method} {template} {status} : {where} : {exc.message}")
        self.checked.add((method.upper(), template))


class Checked:
    """An HTTP client whose every successful JSON answer is checked against ``contract``."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url
        self.contract = Contract(base_url)
        self.http = httpx.Client(base_url=base_url, headers=headers or {}, timeout=30)

    def call(self, method: str, path: str, expect: int | tuple[int, ...] = 200, **kw: Any) -> Any:
        response = self.http.request(method, path, **kw)
        wanted = (expect,) if isinstance(expect, int) else expect
        assert response.status_code in wanted, f"{method} {path} → {response.text[:500]}"
        if response.headers.get("content-type", "").startswith("application/json"):
            body = response.json()
            if SUCCESS.fullmatch(str(response.status_code)):
                self.contract.check(method, path, response.status_code, body)
            return body
        return response

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def clients(world: World, tmp_path: Path) -> Iterator[dict[str, Checked]]:  # noqa: F811
    records = world.registry.lookup({"subscriber_id": world.sellers["capitale"]}).json()
    seller_url = records[0]["url"]
    engine = create_engine(f"sqlite:///{tmp_path / 'capitale.sqlite'}")
    try:
        with write_session(make_session_factory(engine)) as session:
            seller_key = key_repo.create_api_key(session, CAPITALE, "contrat")
    finally:
        engine.dispose()
    made = {
        "buyer": Checked(world.buyer_url, {"X-API-Key": world.api_key}),
        "seller": Checked(seller_url, {"X-API-Key": seller_key}),
        "registry": Checked(world.registry.url),
    }
    yield made
    for client in made.values():
        client.close()


def _until(read: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool]) -> Any:
    deadline = time.monotonic() + 10
    while True:
        found = read()
        if done(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_the_buyer_and_seller_answers_are_those_documented(
    world: World,  # noqa: F811
    clients: dict[str, Checked],
) -> None:
    buyer, seller = clients["buyer"], clients["seller"]
    api = f"/api/providers/{CAPITALE}"
    # --- the buyer: a search, its results, its stream, the next pages ---
    buyer.call("GET", "/health")
    started = buyer.call("POST", "/api/searches", 202, json={"text": "sirop", "region": "QC-03"})
    tx = started["transaction_id"]
    results = buyer.call("GET", f"/api/searches/{tx}", params={"wait_ms": "5000"})
    assert results["offers"], results
    buyer.call("GET", f"/api/searches/{tx}", params={"sort": "-price", "unit": "l"})
    buyer.call("GET", f"/api/searches/{tx}", params=[("certification", "aliments_du_quebec")])
    buyer.call("POST", f"/api/searches/{tx}/more", (200, 202), json={})
    stream = buyer.http.get(f"/api/searches/{tx}/events", params={"wait_ms": "100"})
    assert stream.headers["content-type"].startswith("text/event-stream"), stream.headers
    assert "event: fin" in stream.text, stream.text[-300:]
    # --- sites ---
    site = buyer.call(
        "POST",
        "/api/sites",
        201,
        json={
            "name": "Cuisine centrale",
            "address": "1100, boul. de la Cafétéria, Québec",
            "postal_code": "G1V 4E2",
            "receiving_hours": [{"days": ["lun", "mar"], "start": "07:00", "end": "11:00"}],
            "contact": {"name": "Chef", "phone": "+1-418-555-0142"},
        },
    )
    buyer.call("GET", "/api/sites")
    buyer.call("GET", f"/api/sites/{site['id']}")
    buyer.call("PATCH", f"/api/sites/{site['id']}", json={"instructions": "Porte 3"})
    # --- an order from select to confirm, then its history ---
    order = confirmed_order(world)
    buyer.call("GET", "/api/orders")
    buyer.call("GET", f"/api/orders/{order['id']}")
    buyer.call("POST", f"/api/orders/{order['id']}/status", (200, 202), params=WAIT)
    buyer.call("POST", "/api/orders", 202, json=order_body(world))  # without a wait
    # --- carts and their preview ---
    asked = order_body(world)
    fields = ("fulfilment", "billing", "payment", "delivery_window", "purchase_order_number")
    cart = {"name": "Semaine 12", **{name: asked[name] for name in fields}}
    cart = buyer.call("POST", "/api/carts", 201, json=cart)
    line = {"bpp_id": world.sellers["capitale"], "provider_id": CAPITALE, "item_id": SYRUP}
    cart = buyer.call("POST", f"/api/carts/{cart['id']}/lines", 201, json={**line, "quantity": 12})
    buyer.call("GET", "/api/carts")
    buyer.call("GET", f"/api/carts/{cart['id']}")
    buyer.call("POST", f"/api/carts/{cart['id']}/preview", (200, 202), params=WAIT)
    buyer.call("DELETE", f"/api/carts/{cart['id']}/lines/{cart['lines'][0]['id']}")
    # --- webhooks and the report ---
    hook = {"url": "https://erp.cscapitale.example/evenements", "event_types": ["*"]}
    buyer.call("POST", "/api/webhooks", 201, json=hook)
    buyer.call("GET", "/api/webhooks")
    day = order["confirmed_at"][:10]
    report = buyer.call("GET", "/api/reports/local-purchasing", params={"from": day, "to": day})
    assert report["orders"] >= 1, report
    sheet = buyer.http.get(
        "/api/reports/local-purchasing", params={"from": day, "to": day, "format": "csv"}
    )
    assert sheet.headers["content-type"].startswith("text/csv"), sheet.headers

    # --- the pôle: profile, places, options, catalogue, stock ---
    seller.call("GET", "/health")
    seller.call("GET", api)
    seller.call("GET", f"{api}/locations")
    seller.call("GET", f"{api}/fulfillment-options")
    page = seller.call("GET", f"{api}/products", params={"limit": 3, "active": "all"})
    product = page["products"][0]
    seller.call("GET", f"{api}/products/{product['sku']}")
    seller.call("PATCH", f"{api}/products/{product['sku']}", json={"producer": "Érablière"})
    seller.call("GET", f"{api}/products/{product['sku']}/stock")
    seller.call("POST", f"{api}/products/{product['sku']}/stock/adjustments", json={"delta": 5})
    seller.call("GET", f"{api}/products/{product['sku']}/stock-movements")
    export = seller.http.get(f"{api}/products/export")
    assert export.headers["content-type"].startswith("text/csv"), export.headers
    seller.call(
        "POST",
        f"{api}/products/import",
        params={"dry_run": "true"},
        content=export.content,
        headers={"Content-Type": "text/csv"},
    )
    seller.call("GET", f"{api}/api-keys")
    seller.call("POST", f"{api}/api-keys", 201, json={"label": "caisse"})
    # --- the pôle's orders, their fulfilment, the pick list, webhooks ---
    orders = seller.call("GET", f"{api}/orders")
    seller_order = orders["orders"][0]["id"]
    seller.call("GET", f"{api}/orders/{seller_order}")
    seller.call("POST", f"{api}/orders/{seller_order}/fulfillment", json={"state": "Packed"})
    delivery_day = order["delivery_window"]["start"][:10]
    picks = seller.call("GET", f"{api}/pick-list", params={"date": delivery_day})
    assert picks["orders"], picks
    hook = seller.call("POST", f"{api}/webhooks", 201, json=hook)
    seller.call("GET", f"{api}/webhooks")
    seller.call("GET", f"{api}/webhooks/{hook['id']}/deliveries")

    # Every route family was reached: nothing documented by hand was left unchecked.
    assert len(buyer.contract.checked) >= 21, sorted(buyer.contract.checked)
    assert len(seller.contract.checked) >= 20, sorted(seller.contract.checked)


def test_the_registry_answers_are_those_documented(
    world: World,  # noqa: F811
    clients: dict[str, Checked],
) -> None:
    registry = clients["registry"]
    contract = registry.contract
    registry.call("GET", "/health")
    registry.call("GET", "/revision")
    registry.call("GET", "/.well-known/reseau-poles/registry.json")
    found = registry.call("POST", "/lookup", json={"type": "BPP"})
    assert len(found) >= 3, found
    admin = world.registry.admin
    seller_id = world.sellers["estrie"]
    # A suspended participant: its lookup entry and its view show the grace period.
    suspended = admin.change("suspend", seller_id, "inventaire (contrat)")
    contract.check("POST", f"/admin/subscribers/{seller_id}/suspend", 200, suspended)
    contract.check("GET", "/admin/subscribers", 200, admin.subscribers())
    contract.check("GET", f"/admin/subscribers/{seller_id}", 200, admin.subscriber(seller_id))
    registry.call("POST", "/lookup", json={"subscriber_id": seller_id})
    back = admin.change("reactivate", seller_id, "fin de l'inventaire")
    contract.check("POST", f"/admin/subscribers/{seller_id}/reactivate", 200, back)
    hand = world.hand.keys
    revoked = admin.revoke_key(hand.subscriber_id, hand.key_id, "clé remplacée (contrat)")
    path = f"/admin/subscribers/{hand.subscriber_id}/keys/{hand.key_id}/revoke"
    contract.check("POST", path, 200, revoked)
    contract.check("GET", "/admin/audit", 200, admin.audit())
    contract.check("GET", "/admin/stats", 200, admin.stats())
    contract.check("GET", "/admin/keys/expiring", 200, admin.expiring_keys(within_days=3650))
    assert len(contract.checked) == 12, sorted(contract.checked)


def test_the_gateway_answers_are_those_documented(roles: dict[str, RunningRole]) -> None:
    gateway = roles["gateway"]
    record = SearchRecord(
        message_id="7b1d0c1e-contrat",
        transaction_id="2f6c-contrat",
        bap_id="acheteur.contrat.example",
        domain="PLA:ALIMENTS",
        city="QC-03",
        state="done",
    )
    record.add(SellerOutcome("vendeur.contrat.example", "https://v.example/beckn", "ACK", 200))
    record.add(
        SellerOutcome("lent.example", "https://l.example", "TIMEOUT", None, 5000.0, 2, "timeout")
    )
    gateway.app.state.service.stats.start(record)
    client = Checked(gateway.url)
    try:
        client.call("GET", "/health")
        listed = client.call("GET", "/searches", params={"limit": 5})
        assert listed[0]["message_id"] == record.message_id, listed
        one = client.call("GET", f"/searches/{record.message_id}")
        assert [s["status"] for s in one["sellers"]] == ["ACK", "TIMEOUT"], one
    finally:
        client.close()
    assert len(client.contract.checked) == 3
