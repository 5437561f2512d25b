"""The demo's sample network: the right size and mix, valid for the seller node, deterministic."""

from __future__ import annotations

from collections import Counter

import pytest

from reseau_poles.demo.sample import (
    CATEGORIES,
    ITEMS_PER_POLE,
    POLES,
    REGIONS,
    assign_to_nodes,
    sample_poles,
)
from reseau_poles.protocol.profile import Region
from reseau_poles.seller.requests import FulfillmentOptionIn, ItemIn, LocationIn, ProviderIn

POLES_SAMPLE = sample_poles()


def test_twenty_five_poles_in_ten_regions_seventeen_obnl_eight_coops():
    assert len(POLES_SAMPLE) == 25
    assert len({p.id for p in POLES_SAMPLE}) == 25
    regions = Counter(p.region for p in POLES_SAMPLE)
    assert len(regions) == 10
    assert set(regions) == set(REGIONS)
    assert all(Region(code) for code in regions)  # real administrative region codes
    forms = Counter(p.provider.legal_form.value for p in POLES_SAMPLE)
    assert forms == {"obnl": 17, "cooperative": 8}  # 68 % / 32 %, as the real cohort


def test_about_two_thousand_products_across_every_category():
    items = [item for pole in POLES_SAMPLE for item in pole.items]
    assert len(items) == 25 * ITEMS_PER_POLE == 2000
    assert {item.category_id for item in items} == set(CATEGORIES)
    assert {item.unit.value for item in items} >= {"kg", "l", "unite", "douzaine", "g", "ml"}
    assert {item.conservation.value for item in items} == {"ambiant", "refrigere", "congele"}
    certifications = Counter(c.value for item in items for c in item.certifications)
    for code in ("aliments_du_quebec", "aliments_prepares_au_quebec", "biologique_canada"):
        assert certifications[code] > 20, code
    assert all(item.price > 0 and item.stock > 0 for item in items)
    assert all(item.producer and item.origin_region for item in items)
    assert any(item.season_months for item in items)
    assert any(item.taxable for item in items) and any(not item.taxable for item in items)
    for pole in POLES_SAMPLE:
        skus = [item.sku for item in pole.items]
        assert len(skus) == len(set(skus)), pole.id
        assert "sirop-erable-540ml" in skus  # every pôle answers the tour's search


def test_every_record_is_valid_input_for_the_seller_node():
    """What the sample holds reads back through the seller's input models unchanged, so the
    management API or a CSV import would accept it too."""
    for pole in POLES_SAMPLE:
        dumped = pole.provider.model_dump(mode="json")
        assert ProviderIn.model_validate(dumped) == pole.provider
        for location in pole.locations:
            assert LocationIn.model_validate(location.model_dump(mode="json")) == location
        for option in pole.fulfillment_options:
            assert FulfillmentOptionIn.model_validate(option.model_dump(mode="json")) == option
        for item in pole.items:
            assert ItemIn.model_validate(item.model_dump(mode="json")) == item


def test_each_pole_can_serve_an_institution():
    for pole in POLES_SAMPLE:
        provider = pole.provider
        assert "POST-FULFILLMENT" in [t.value for t in provider.payment_types]
        assert provider.net_days == 30
        assert pole.region in provider.served_regions
        assert provider.email.endswith(".example")  # fictional, cannot reach anyone
        assert " 555-01" in provider.phone
        locations = {location.id for location in pole.locations}
        assert all(location.region == pole.region for location in pole.locations)
        types = {option.type.value for option in pole.fulfillment_options}
        assert {"livraison", "cueillette"} <= types
        for option in pole.fulfillment_options:
            assert option.location_id is None or option.location_id in locations
        cold = [o for o in pole.fulfillment_options if o.type.value == "livraison" and o.cold_chain]
        assert cold, f"{pole.id} : aucune livraison réfrigérée"
        postal = pole.locations[0].postal_code
        towns = [t for t in REGIONS[pole.region].towns if t.name == pole.locations[0].city]
        assert any(postal.startswith(t.postal_prefix) for t in towns), postal


def test_deterministic_for_a_seed():
    again = sample_poles()
    assert [p.provider for p in again] == [p.provider for p in POLES_SAMPLE]
    assert [p.items for p in again] == [p.items for p in POLES_SAMPLE]
    other = sample_poles(seed=7)
    assert [p.items for p in other] != [p.items for p in POLES_SAMPLE]
    assert [p.id for p in other] == [plan[2] for plan in POLES]


@pytest.mark.parametrize("nodes", [1, 3, 5, 25])
def test_poles_spread_over_seller_nodes(nodes):
    groups = assign_to_nodes(POLES_SAMPLE, nodes)
    assert len(groups) == nodes
    assert sorted(p.id for g in groups for p in g) == sorted(p.id for p in POLES_SAMPLE)
    assert max(map(len, groups)) - min(map(len, groups)) <= 1
    if nodes == 5:
        assert all(len({p.region for p in g}) == 5 for g in groups)


@pytest.mark.parametrize("nodes", [0, 26, -1])
def test_impossible_spread_is_refused(nodes):
    with pytest.raises(ValueError, match="nœuds vendeurs"):
        assign_to_nodes(POLES_SAMPLE, nodes)


def test_every_catalog_goes_through_the_seller_csv_import(tmp_path):
    """The demo posts each pôle's products as CSV: the seller's import accepts every row (five
    pôles of five regions here; all 25 in the demo test), and they read back the same."""
    from reseau_poles.seller.app import migrate
    from reseau_poles.seller.repositories import providers as provider_repo
    from reseau_poles.seller.services.csv_export import export_csv, items_to_csv
    from reseau_poles.seller.services.csv_import import import_csv
    from reseau_poles.storage import make_engine, make_session_factory, read_session, write_session

    engine = make_engine(f"sqlite:///{tmp_path / 'vendeur.sqlite'}")
    try:
        migrate(engine)
        factory = make_session_factory(engine)
        for pole in POLES_SAMPLE[::5]:
            with write_session(factory) as session:
                provider_repo.upsert_provider(session, pole.provider)
            report = import_csv(factory, pole.id, items_to_csv(pole.items).encode("utf-8"))
            assert not report.errors, (pole.id, report.errors[:3])
            assert report.created == len(pole.items) and report.written
        with read_session(factory) as session:
            exported = export_csv(session, POLES_SAMPLE[0].id)
        expected = items_to_csv(POLES_SAMPLE[0].items).splitlines()
        assert sorted(exported.splitlines()[1:]) == sorted(expected[1:])
    finally:
        engine.dispose()
