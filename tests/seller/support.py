"""A small Québec catalog for the seller tests, loaded through the repository."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from reseau_poles.seller.repositories import places as place_repo
from reseau_poles.seller.repositories import products as product_repo
from reseau_poles.seller.repositories import providers as provider_repo
from reseau_poles.seller.requests import FulfillmentOptionIn, ItemIn, LocationIn, ProviderIn
from reseau_poles.storage import make_session_factory, write_session

CAPITALE = "pole-capitale"
ESTRIE = "pole-estrie"
SYRUP = "sirop-erable-540ml"
CURDS = "fromage-grains-1kg"
CHIPS = "croustilles-erable"
APPLES = "pommes-cortland"


def load_catalog(engine: Engine, *, syrup_stock: int = 240) -> dict[str, int]:
    """Two pôles, four items; returns the item row ids by SKU."""
    ids: dict[str, int] = {}
    with write_session(make_session_factory(engine)) as session:
        provider_repo.upsert_provider(
            session,
            ProviderIn(
                id=CAPITALE,
                name="Pôle agroalimentaire de la Capitale",
                short_desc="Coopérative de producteurs de la Capitale-Nationale",
                legal_form="cooperative",
                region="QC-03",
                served_regions=["QC-03", "QC-12"],
                payment_types=["POST-FULFILLMENT", "ON-FULFILLMENT"],
                net_days=30,
            ),
        )
        place_repo.add_location(
            session,
            CAPITALE,
            LocationIn(
                id="entrepot-vanier",
                name="Entrepôt de Vanier",
                gps="46.8139,-71.2080",
                address="350, rue de l'Entrepôt, Québec (Québec) G1M 2X3",
                city="Québec",
                region="QC-03",
                postal_code="G1M 2X3",
            ),
        )
        for option in (
            FulfillmentOptionIn(
                id="livraison-froid",
                type="livraison",
                name="Livraison réfrigérée",
                regions=["QC-03", "QC-12"],
                fee=Decimal("25.00"),
                cold_chain=["refrigere", "congele"],
            ),
            FulfillmentOptionIn(
                id="livraison-seche",
                type="livraison",
                name="Livraison produits secs",
                regions=["QC-03"],
                fee=Decimal("15.00"),
            ),
            FulfillmentOptionIn(
                id="cueillette-vanier",
                type="cueillette",
                name="Cueillette à l'entrepôt de Vanier",
                regions=["QC-03"],
                cold_chain=["refrigere", "congele"],
                location_id="entrepot-vanier",
            ),
        ):
            place_repo.add_fulfillment_option(session, CAPITALE, option)
        for item in (
            ItemIn(
                sku=SYRUP,
                name="Sirop d'érable biologique 540 ml",
                short_desc="Sirop d'érable ambré, goût riche",
                name_en="Organic maple syrup 540 ml",
                category_id="produits-erable",
                category_name="Produits de l'érable",
                unit="ml",
                pack_size=Decimal(540),
                price=Decimal("12.50"),
                minimum_quantity=6,
                certifications=["aliments_du_quebec", "biologique_canada"],
                conservation="ambiant",
                producer="Érablière du Rang 4",
                origin_region="QC-12",
                stock=syrup_stock,
            ),
            ItemIn(
                sku=CURDS,
                name="Fromage en grains 1 kg",
                short_desc="Frais du jour",
                category_id="produits-laitiers",
                category_name="Produits laitiers",
                unit="kg",
                price=Decimal("18.75"),
                certifications=["aliments_du_quebec"],
                conservation="refrigere",
                stock=100,
            ),
            ItemIn(
                sku=CHIPS,
                name="Croustilles à l'ÉRABLE",
                category_id="collations",
                category_name="Collations",
                price=Decimal("3.49"),
                taxable=True,
                stock=50,
            ),
        ):
            ids[item.sku] = product_repo.upsert_item(session, CAPITALE, item)
        provider_repo.upsert_provider(
            session,
            ProviderIn(
                id=ESTRIE,
                name="Pôle solidaire de l'Estrie",
                legal_form="obnl",
                region="QC-05",
                payment_types=["PRE-ORDER"],
                net_days=None,
            ),
        )
        ids[APPLES] = product_repo.upsert_item(
            session,
            ESTRIE,
            ItemIn(
                sku=APPLES,
                name="Pommes Cortland",
                category_id="fruits",
                category_name="Fruits",
                unit="kg",
                price=Decimal("2.10"),
                season_months=[9, 10, 11],
                stock=500,
            ),
        )
    return ids


def confirm_in_steps(service: Any, request: Any, transaction: str, message: dict) -> str:
    """select → init → confirm on one transaction straight through a ``SellerService`` (the
    seller refuses a confirm without the earlier steps); ``request(action, transaction,
    message)`` builds each body. Returns the order id."""
    for action in ("select", "init"):
        getattr(service, f"handle_{action}")(request(action, transaction, message))
    return str(service.handle_confirm(request("confirm", transaction, message)))
