"""Every validation refusal of the buyer's and the seller's ``/api`` speaks French: the code
``parametres_invalides``, the path at fault, and a French sentence, never pydantic's English.

One real buyer node and one real seller node per database backend (SQLite, PostgreSQL),
served by uvicorn on loopback; each case sends one bad body or query."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reseau_poles.buyer.app import create_app as create_buyer
from reseau_poles.buyer.repositories import organisations as buyer_repo
from reseau_poles.buyer.settings import BuyerSettings
from reseau_poles.seller.app import create_app as create_seller
from reseau_poles.seller.repositories import api_keys as key_repo
from reseau_poles.seller.settings import SellerSettings
from reseau_poles.storage import make_session_factory, write_session
from tests.buyer.conftest import _module_database, _shared_backends
from tests.registry.conftest import UvicornThread
from tests.seller.support import CAPITALE, load_catalog

# pydantic's own words: none of them may reach a user.
ENGLISH = (
    "Input should",
    "Field required",
    "Extra inputs",
    "should have",
    "Value error",
    "String should",
    "valid integer",
    "Invalid JSON",
    "List should",
)


@dataclass
class Nodes:
    urls: dict[str, str]  # "buyer" / "seller" → base URL
    keys: dict[str, str]
    http: httpx.Client

    def call(self, node: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-API-Key": self.keys[node]}
        return self.http.request(method, self.urls[node] + path, headers=headers, **kwargs)


@pytest.fixture(scope="module", params=_shared_backends())
def nodes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Nodes]:
    tmp_path: Path = tmp_path_factory.mktemp("noeuds-fr")
    buyer_db = _module_database(request.param, tmp_path / "acheteur")
    seller_db = _module_database(request.param, tmp_path / "vendeur")
    (tmp_path / "acheteur").mkdir()
    (tmp_path / "vendeur").mkdir()
    # No protocol traffic: the registry is never called.
    seller = create_seller(
        SellerSettings(
            database_url=next(seller_db),
            subscriber_id="vendeur.test.example",
            key_dir=tmp_path / "vendeur-cles",
            registry_url="http://127.0.0.1:9",
        )
    )
    buyer = create_buyer(
        BuyerSettings(
            database_url=next(buyer_db),
            subscriber_id="acheteur.test.example",
            key_dir=tmp_path / "acheteur-cles",
            registry_url="http://127.0.0.1:9",
        )
    )
    load_catalog(seller.state.service.engine)
    with write_session(make_session_factory(seller.state.service.engine)) as session:
        seller_key = key_repo.create_api_key(session, CAPITALE, "tests")
    with write_session(make_session_factory(buyer.state.service.engine)) as session:
        buyer_repo.add_organisation(session, "css-essai", "Centre de services scolaire d'essai")
        buyer_key = buyer_repo.create_api_key(session, "css-essai", "tests")
    servers = [UvicornThread(seller).start(), UvicornThread(buyer).start()]
    try:
        with httpx.Client(timeout=10) as http:
            yield Nodes(
                {"seller": servers[0].url, "buyer": servers[1].url},
                {"seller": seller_key, "buyer": buyer_key},
                http,
            )
    finally:
        for server in servers:
            server.stop()
        for app in (seller, buyer):
            app.state.service.engine.dispose()
        for database in (seller_db, buyer_db):
            next(database, None)


PROVIDER = {"bpp_id": "vendeur.test.example", "id": CAPITALE}
LINE = {"id": "sirop", "quantity": 2}
PRODUCT = {"name": "Miel 500 g", "category_id": "miel", "category_name": "Miel", "price": "9.75"}
SELLER = f"/api/providers/{CAPITALE}"


def _order(**change: Any) -> dict[str, Any]:
    return {"provider": PROVIDER, "items": [LINE], **change}


def _product(**change: Any) -> dict[str, Any]:
    return {**PRODUCT, **change}


# (node, method, path, body or query, path at fault, a French word of the message)
CASES: list[tuple[str, str, str, dict[str, Any], str, str]] = [
    ("buyer", "POST", "/api/searches", {"zz": 1}, "zz", "champ inconnu"),
    ("buyer", "POST", "/api/searches", {"text": "x" * 201}, "text", "au plus 200 caractères"),
    ("buyer", "POST", "/api/searches", {"region": "QC-99"}, "region", "QC-"),
    ("buyer", "POST", "/api/orders", {"items": [LINE]}, "provider", "obligatoire"),
    ("buyer", "POST", "/api/orders", _order(provider="x"), "provider", "objet JSON attendu"),
    ("buyer", "POST", "/api/orders", _order(items="x"), "items", "liste attendue"),
    ("buyer", "POST", "/api/orders", _order(items=[]), "items", "au moins 1"),
    (
        "buyer",
        "POST",
        "/api/orders",
        _order(items=[{"id": "sirop", "quantity": "beaucoup"}]),
        "items.0.quantity",
        "entier",
    ),
    (
        "buyer",
        "POST",
        "/api/orders",
        _order(items=[{"id": "sirop", "quantity": 0}]),
        "items.0.quantity",
        "au moins 1",
    ),
    (
        "buyer",
        "POST",
        "/api/orders",
        _order(fulfilment={"type": "drone"}),
        "fulfilment.type",
        "valeur non permise",
    ),
    (
        "buyer",
        "POST",
        "/api/orders",
        _order(delivery_window={"start": "demain", "end": "2026-12-01T10:00:00Z"}),
        "delivery_window.start",
        "date-heure",
    ),
    (
        "buyer",
        "POST",
        "/api/orders",
        _order(payment={"type": "PRE-ORDER", "net_days": 30}),
        "payment",
        "seulement avec le paiement après livraison",
    ),
    (
        "buyer",
        "POST",
        "/api/carts",
        {"lines": [{"bpp_id": "a", "provider_id": "b", "item_id": "c", "quantity": 1.5}]},
        "lines.0.quantity",
        "entier",
    ),
    ("buyer", "POST", "/api/sites", {"name": "École"}, "address", "obligatoire"),
    (
        "buyer",
        "POST",
        "/api/webhooks",
        {"url": "https://exemple.ca/crochet", "event_types": []},
        "event_types",
        "trop peu d'éléments",
    ),
    ("seller", "GET", f"{SELLER}/orders", {"limit": "abc"}, "query.limit", "entier"),
    ("seller", "GET", f"{SELLER}/orders", {"limit": "0"}, "query.limit", "au moins 1"),
    ("seller", "GET", f"{SELLER}/orders", {"status": "FINI"}, "query.status", "ACTIVE"),
    (
        "seller",
        "GET",
        f"{SELLER}/orders",
        {"fulfillment_state": "perdu"},
        "query.fulfillment_state",
        "état inconnu",
    ),
    (
        "seller",
        "POST",
        f"{SELLER}/webhooks",
        {"url": "https://exemple.ca/crochet", "event_types": ["rien"]},
        "event_types",
        "type d'événement inconnu",
    ),
    (
        "seller",
        "PUT",
        f"{SELLER}/products/miel",
        {k: v for k, v in PRODUCT.items() if k != "price"},
        "price",
        "obligatoire",
    ),
    ("seller", "PUT", f"{SELLER}/products/miel", _product(price="-1"), "price", "au moins 0"),
    ("seller", "PUT", f"{SELLER}/products/miel", _product(price="abc"), "price", "nombre"),
    ("seller", "PUT", f"{SELLER}/products/miel", _product(name=""), "name", "requise"),
    ("seller", "PUT", f"{SELLER}/products/miel", _product(couleur="or"), "couleur", "inconnu"),
    ("seller", "PUT", f"{SELLER}/products/miel", _product(taxable="bof"), "taxable", "oui ou non"),
    (
        "seller",
        "PUT",
        f"{SELLER}/products/miel",
        _product(minimum_quantity="douze"),
        "minimum_quantity",
        "entier",
    ),
    (
        "seller",
        "PUT",
        f"{SELLER}/products/miel",
        _product(season_months=[13]),
        "season_months",
        "de 1 à 12",
    ),
    # a list field sent as null: refused as such (its validator once raised a TypeError: a 500)
    (
        "seller",
        "PUT",
        f"{SELLER}/products/miel",
        _product(certifications=None),
        "certifications",
        "liste attendue",
    ),
    (
        "seller",
        "PUT",
        SELLER,
        {"name": "Pôle", "legal_form": "cooperative", "region": "QC-03", "served_regions": 3},
        "served_regions",
        "liste attendue",
    ),
    ("seller", "PUT", f"{SELLER}/products/sirop/stock", {"quantity": "x"}, "quantity", "entier"),
]


@pytest.mark.parametrize(
    ("node", "method", "path", "sent", "at", "word"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{c[4]}-{c[5][:12]}" for c in CASES],
)
def test_validation_refusals_speak_french(
    nodes: Nodes, node: str, method: str, path: str, sent: dict[str, Any], at: str, word: str
) -> None:
    kwargs = {"params": sent} if method == "GET" else {"json": sent}
    response = nodes.call(node, method, path, **kwargs)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "parametres_invalides"
    assert error["path"] == at
    assert word in error["message"], error["message"]
    assert not any(english in error["message"] for english in ENGLISH), error["message"]
