"""The on_search a seller sends, from documents rendered once per content
(seller.catalog.CatalogDocuments) and spliced as JSON text (SellerService.handle_search):
the same bytes as the plain functions' dict serialised whole, and every change a pôle makes
through the management functions visible in the very next search, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from reseau_poles.keystore import KeyFiles
from reseau_poles.network import migrate as migrate_network
from reseau_poles.network.client import body_bytes
from reseau_poles.network.tables import outbox_table
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.profile import ProviderResults
from reseau_poles.seller.app import create_app
from reseau_poles.seller.repositories import places as place_repo
from reseau_poles.seller.repositories import products as product_repo
from reseau_poles.seller.repositories import providers as provider_repo
from reseau_poles.seller.repositories import stock as stock_repo
from reseau_poles.seller.repositories.search import SearchQuery
from reseau_poles.seller.requests import FulfillmentOptionIn, LocationIn
from reseau_poles.seller.services.catalog import CatalogDocuments, provider_document
from reseau_poles.seller.services.protocol import SellerService
from reseau_poles.seller.settings import SellerSettings
from reseau_poles.seller.tables import items
from reseau_poles.storage import make_session_factory, read_session, utcnow, write_session

from .support import CAPITALE, CHIPS, CURDS, ESTRIE, SYRUP, load_catalog


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[SellerService]:
    keys = SubscriberKeys.generate("vendeur.documents.example", "k1")
    KeyFiles(tmp_path / "keys").write(keys)
    settings = SellerSettings(
        database_url=database_url,
        subscriber_id=keys.subscriber_id,
        key_dir=tmp_path / "keys",
        public_url="http://127.0.0.1:9",
        registry_url="http://127.0.0.1:9",
        registry_subscriber_id="registre.documents.example",
    )
    app = create_app(settings, network_settings=settings.network_settings())
    engine = app.state.service.engine
    migrate_network(engine)  # the outbox, which the app's start-up would create
    load_catalog(engine)
    try:
        yield app.state.service
    finally:
        engine.dispose()


def search(
    service: SellerService, text: str | None = "érable", region: str = "QC-03", **intent: Any
) -> bytes:
    """``handle_search`` for ``text``; the on_search body it put in the outbox."""
    message_id = str(uuid.uuid4())
    payload = {
        "context": {
            "domain": "PLA:ALIMENTS",
            "location": {"city": {"code": region}, "country": {"code": "CAN"}},
            "action": "search",
            "version": "1.1.0",
            "bap_id": "acheteur.documents.example",
            "bap_uri": "http://127.0.0.1:9/acheteur",
            "bpp_id": service.settings.subscriber_id,
            "bpp_uri": service.settings.public_url,
            "transaction_id": str(uuid.uuid4()),
            "message_id": message_id,
            "timestamp": format_datetime(utcnow()),
            "ttl": "PT30S",
        },
        "message": {"intent": intent},
    }
    if text is not None:
        intent["item"] = {"descriptor": {"name": text}}
    service.handle_search(payload)
    with read_session(service.factory) as session:
        row = session.execute(
            select(outbox_table).where(outbox_table.c.message_id == message_id)
        ).one()
    assert (row.action, row.target_url) == ("on_search", "http://127.0.0.1:9/acheteur")
    assert row.transaction_id == payload["context"]["transaction_id"]
    return bytes(row.body)


def providers_sent(body: bytes) -> list[dict[str, Any]]:
    return json.loads(body)["message"]["catalog"]["providers"]


def items_sent(body: bytes) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for p in providers_sent(body) for item in p["items"]}


def expected_providers(service: SellerService, skus: list[str]) -> list[dict[str, Any]]:
    """What the plain functions make of the rows (no cache), for items in this order."""
    with read_session(service.factory) as session:
        by_sku = {row.sku: row.id for row in session.execute(select(items.c.sku, items.c.id))}
        ids = [by_sku[sku] for sku in skus]
        rows = product_repo.get_items(session, ids)
        return [
            provider_document(
                provider,
                place_repo.get_locations(session, [provider["id"]]),
                place_repo.get_fulfillment_options(session, [provider["id"]]),
                [row for row in rows if row["provider_id"] == provider["id"]],
                ProviderResults(
                    total=sum(row["provider_id"] == provider["id"] for row in rows),
                    shown=sum(row["provider_id"] == provider["id"] for row in rows),
                ),
            )
            for provider in provider_repo.get_providers(
                session, {row["provider_id"] for row in rows}
            )
        ]


def test_the_body_is_the_dict_serialised_whole(service: SellerService) -> None:
    """Spliced text, cached or not, is byte for byte what body_bytes makes of the dict."""
    first = search(service)
    again = search(service)  # every document from the cache now
    for body in (first, again):
        sent = json.loads(body)
        assert body == body_bytes(sent)  # compact, same key order, UTF-8 as sent before
        assert sent["message"]["catalog"]["providers"] == expected_providers(
            service, list(items_sent(body))
        )
        assert set(items_sent(body)) == {CHIPS, SYRUP}
        assert sent["message"]["catalog"]["descriptor"]["code"] == "resultats:2/2"
    assert json.loads(first)["message"] == json.loads(again)["message"]
    with read_session(service.factory) as session:  # in the search's order
        found = service.search_backend.search(session, SearchQuery(text="érable"))
        rows = product_repo.get_items(session, found.item_ids)
    assert list(items_sent(first)) == [row["sku"] for row in rows]
    nothing = json.loads(search(service, "introuvable"))["message"]["catalog"]
    assert nothing["providers"] == []
    assert nothing["descriptor"]["short_desc"] == "Aucun produit ne correspond à la recherche."
    # A pôle without locations or fulfilment options, next to one with them.
    both = search(service, None, region="*")  # everything, listed
    assert {p["id"] for p in providers_sent(both)} == {CAPITALE, ESTRIE}
    assert providers_sent(both) == expected_providers(service, list(items_sent(both)))
    # No text: the listing (read by id, not by the full-text page) goes the same way.
    listed = search(service, None, provider={"id": CAPITALE})
    assert providers_sent(listed) == expected_providers(service, [CHIPS, CURDS, SYRUP])


def test_changes_show_in_the_very_next_search(service: SellerService) -> None:
    factory = make_session_factory(service.engine)
    before = items_sent(search(service))
    assert before[SYRUP]["quantity"]["available"]["count"] == 240
    assert before[SYRUP]["price"]["value"] == "12.50"

    with write_session(factory) as session:  # stock, as the management API sets it
        stock_repo.set_item_stock(session, CAPITALE, SYRUP, 17)
    assert items_sent(search(service))[SYRUP]["quantity"]["available"]["count"] == 17

    with write_session(factory) as session:  # a confirm's take_stock
        stock_repo.take_stock(session, product_repo.item(session, CAPITALE, SYRUP)["id"], 5)
    assert items_sent(search(service))[SYRUP]["quantity"]["available"]["count"] == 12

    with write_session(factory) as session:  # price and name, through the whole item
        product = product_repo.item_in_from_row(product_repo.item(session, CAPITALE, SYRUP))
        changed = product.model_copy(
            update={"price": Decimal("13.25"), "name": "Sirop d'érable 540 ml"}
        )
        product_repo.put_item(session, CAPITALE, changed, keep_stock=True)
    syrup = items_sent(search(service))[SYRUP]
    assert syrup["price"]["value"] == "13.25"
    assert syrup["descriptor"]["name"] == "Sirop d'érable 540 ml"
    assert syrup["quantity"]["available"]["count"] == 12

    with write_session(factory) as session:  # the pôle's profile
        profile = provider_repo.provider_in_from_row(provider_repo.provider(session, CAPITALE))
        provider_repo.save_provider(
            session, profile.model_copy(update={"name": "Pôle de la Capitale-Nationale"})
        )
    (capitale,) = providers_sent(search(service))
    assert capitale["descriptor"]["name"] == "Pôle de la Capitale-Nationale"

    with write_session(factory) as session:  # a location and a fulfilment option
        place_repo.put_location(
            session,
            CAPITALE,
            LocationIn(id="entrepot-vanier", name="Entrepôt de Vanier (quai 2)", region="QC-03"),
        )
        place_repo.put_fulfillment_option(
            session,
            CAPITALE,
            FulfillmentOptionIn(
                id="livraison-seche",
                type="livraison",
                name="Livraison produits secs",
                regions=["QC-03"],
                fee=Decimal("19.00"),
            ),
        )
    body = search(service)
    (capitale,) = providers_sent(body)
    assert capitale["locations"][0]["descriptor"]["name"] == "Entrepôt de Vanier (quai 2)"
    fees = {f["id"]: f["tags"][-1]["list"][1]["value"] for f in capitale["fulfillments"]}
    assert fees["livraison-seche"] == "19.00"
    assert providers_sent(body) == expected_providers(service, list(items_sent(body)))

    with write_session(factory) as session:  # an option withdrawn: no longer offered
        place_repo.deactivate_fulfillment_option(session, CAPITALE, "livraison-seche")
    syrup = items_sent(search(service))[SYRUP]
    assert "livraison-seche" not in syrup["fulfillment_ids"]

    with write_session(factory) as session:  # a retired item
        product_repo.deactivate_item(session, CAPITALE, CHIPS)
    after = search(service)
    assert set(items_sent(after)) == {SYRUP}
    assert json.loads(after)["message"]["catalog"]["descriptor"]["code"] == "resultats:1/1"
    assert providers_sent(after) == expected_providers(service, [SYRUP])


def test_the_cache_keeps_at_most_its_size(service: SellerService) -> None:
    """Oldest first out; what was pushed out is rendered again, the same."""
    service.documents = CatalogDocuments(size=1)
    first = search(service)
    assert len(service.documents._items) == 1
    assert len(service.documents._providers) == 1
    assert providers_sent(search(service)) == providers_sent(first)
    assert providers_sent(first) == expected_providers(service, list(items_sent(first)))


def test_own_check_sends_the_same_body(service: SellerService) -> None:
    """With check_own_on_search the catalog is validated by its model first; the bytes
    sent are the same."""
    unchecked = json.loads(search(service))
    service.settings = service.settings.model_copy(update={"check_own_on_search": True})
    checked = json.loads(search(service))
    assert checked["message"] == unchecked["message"]


def test_rows_that_cannot_be_keys_are_rendered_each_time(service: SellerService) -> None:
    """A value that is not hashable (a JSON column some day) is no reason to fail: the
    document is rendered, not kept."""
    documents = CatalogDocuments()
    with read_session(service.factory) as session:
        provider = provider_repo.get_providers(session, [CAPITALE])[0]
        locations = place_repo.get_locations(session, [CAPITALE])
        options = place_repo.get_fulfillment_options(session, [CAPITALE])
        rows = product_repo.get_items(session, [product_repo.item(session, CAPITALE, SYRUP)["id"]])
    odd_provider = {**provider, "extra": {"a": 1}}
    odd_rows = [{**row, "extra": ["x"]} for row in rows]
    text = documents.provider_json(odd_provider, locations, options, odd_rows)
    assert json.loads(text) == provider_document(provider, locations, options, rows)
    assert not documents._items and not documents._providers
