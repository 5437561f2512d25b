"""Filters and sort of a search's merged results: the query-string parser (property tests),
the price per unit, the delivery region of an address, and the whole path through the real
buyer node and seller nodes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reseau_poles.buyer.services.results import (
    NO_QUERY,
    REPEATABLE,
    SINGLE,
    SORT_KEYS,
    QueryError,
    apply,
    parse_result_query,
    read_offer,
)
from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.profile import ItemTags, Origin, Region, Unit, origin_group
from reseau_poles.protocol.profile.delivery_region import (
    REFERENCE_POINTS,
    URBAN_FSA,
    region_for_gps,
    region_for_postal_code,
)
from reseau_poles.protocol.profile.vocabulary import Certification, Conservation
from tests.seller.support import APPLES, CAPITALE, CHIPS, CURDS, SYRUP

from .conftest import World

REGIONS = [r.value for r in Region]
CERTIFICATIONS = [c.value for c in Certification]
CONSERVATIONS = [c.value for c in Conservation]
BASES = {"kg": Unit.KG, "g": Unit.KG, "l": Unit.L, "ml": Unit.L, "unite": Unit.UNITE}

# --- the parser ------------------------------------------------------------------------------

prices = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False)


@st.composite
def valid_queries(draw: st.DrawFn) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """A well-formed query string and what the parser must make of it."""
    pairs: list[tuple[str, str]] = []
    expected: dict[str, Any] = {}
    for name, pool in (
        ("certification", CERTIFICATIONS),
        ("conservation", CONSERVATIONS),
        ("origin", REGIONS),
    ):
        chosen = draw(st.lists(st.sampled_from(pool), max_size=4, unique=True))
        if chosen:
            expected[name] = sorted(chosen)
            if draw(st.booleans()):
                pairs.append((name, ",".join(chosen)))
            else:
                pairs.extend((name, value) for value in chosen)
    if draw(st.booleans()):
        unit = draw(st.sampled_from(sorted(BASES)))
        pairs.append(("unit", unit))
        expected["unit"] = BASES[unit].value
        low, high = draw(st.one_of(st.none(), prices)), draw(st.one_of(st.none(), prices))
        if low is not None and high is not None and low > high:
            low, high = high, low
        if low is not None:
            pairs.append(("min_unit_price", str(low)))
            expected["min_unit_price"] = format(low, "f")
        if high is not None:
            pairs.append(("max_unit_price", str(high)))
            expected["max_unit_price"] = format(high, "f")
    if draw(st.booleans()):
        # A price per unit compares within one unit: unit_price needs unit (else a 400).
        sort = draw(
            st.sampled_from([k for k in SORT_KEYS if "unit" in expected or k != "unit_price"])
        )
        sort = ("-" if draw(st.booleans()) else "") + sort
        pairs.append(("sort", sort))
        expected["sort"] = sort
    if draw(st.booleans()):
        pairs.append(("wait_ms", draw(st.text(max_size=5))))
    order = draw(st.permutations(range(len(pairs))))
    return [pairs[i] for i in order], expected


@given(valid_queries())
@settings(max_examples=150, deadline=None)
def test_a_valid_query_string_reads_as_written(case: tuple[list[tuple[str, str]], dict]) -> None:
    pairs, expected = case
    query = parse_result_query(pairs, ignore=["wait_ms"])
    assert query.describe() == expected


names = st.one_of(st.sampled_from(sorted(REPEATABLE | SINGLE)), st.text(min_size=1, max_size=12))
values = st.one_of(
    st.sampled_from(
        [*REGIONS, *CERTIFICATIONS, *CONSERVATIONS, *SORT_KEYS, "kg", "-price", "12.50", "-1"]
    ),
    st.text(max_size=20),
)


@given(st.lists(st.tuples(names, values), max_size=8))
@settings(max_examples=250, deadline=None)
def test_any_query_string_is_read_or_refused_with_the_parameter_at_fault(
    pairs: list[tuple[str, str]],
) -> None:
    try:
        query = parse_result_query(pairs)
    except QueryError as exc:
        assert exc.message
        given_names = {name[:64] for name, _ in pairs}
        assert exc.path in given_names or exc.path.split("[")[0] in given_names | {"unit"}
        return
    assert set(query.certifications) <= set(CERTIFICATIONS)
    assert set(query.origins) <= set(REGIONS)
    assert query.sort in (None, *SORT_KEYS)
    if query.min_unit_price is not None or query.max_unit_price is not None:
        assert query.unit is not None


@pytest.mark.parametrize(
    ("pairs", "path"),
    [
        ([("prix", "3")], "prix"),
        ([("origin", "QC-03"), ("origin", "QC-99")], "origin[1]"),
        ([("certification", "bidon")], "certification[0]"),
        ([("conservation", "tiede")], "conservation[0]"),
        ([("unit", "boisseau")], "unit"),
        ([("max_unit_price", "10")], "unit"),
        ([("unit", "kg"), ("max_unit_price", "dix")], "max_unit_price"),
        ([("unit", "kg"), ("max_unit_price", "NaN")], "max_unit_price"),
        ([("unit", "kg"), ("min_unit_price", "-1")], "min_unit_price"),
        ([("unit", "kg"), ("min_unit_price", "9"), ("max_unit_price", "2")], "min_unit_price"),
        ([("sort", "prix")], "sort"),
        ([("sort", "price"), ("sort", "name")], "sort"),
        ([("provider", "p")] * 21, "provider"),
    ],
)
def test_bad_parameters_name_themselves(pairs: list[tuple[str, str]], path: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_result_query(pairs)
    assert caught.value.path == path


# --- offers: price per unit, filters, sort ---------------------------------------------------


def item(
    item_id: str,
    price: str,
    measure: tuple[str, str] | None,
    *,
    certifications: tuple[str, ...] = (),
    conservation: str | None = None,
    origin: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    tags = ItemTags(
        certifications=frozenset(Certification(c) for c in certifications),
        conservation=Conservation(conservation) if conservation else None,
        origin=Origin(region=Region(origin)) if origin else None,
    ).to_tags()
    found: dict[str, Any] = {
        "id": item_id,
        "descriptor": {"name": name or item_id},
        "price": {"currency": "CAD", "value": price},
        "tags": tags,
    }
    if measure:
        found["quantity"] = {"unitized": {"measure": {"unit": measure[1], "value": measure[0]}}}
    return found


PROVIDERS = [
    {
        "bpp_id": "vendeur-a",
        "id": "pole-a",
        "descriptor": {"name": "Pôle A"},
        "items": [
            item(
                "sirop-540",
                "12.50",
                ("540", "ml"),
                certifications=("biologique_canada",),
                origin="QC-12",
                name="Sirop d'érable",
            ),
            item(
                "beurre-250",
                "3.00",
                ("250", "g"),
                conservation="refrigere",
                origin="QC-03",
                name="Beurre",
            ),
            item(
                "oeufs",
                "6.00",
                ("1", "douzaine"),
                certifications=("aliments_du_quebec",),
                conservation="refrigere",
                name="Œufs",
            ),
        ],
    },
    {
        "bpp_id": "vendeur-b",
        "id": "pole-b",
        "descriptor": {"name": "Pôle B"},
        "items": [
            item("pommes", "2.10", ("1", "kg"), origin="QC-16", name="pommes"),
            item("bizarre", "n'importe", ("1", "kg"), name="Article mal écrit"),
            item("sans-mesure", "4.00", None, name="Botte de radis"),
        ],
    },
    {"bpp_id": "vendeur-c", "id": "pole-vide", "descriptor": {"name": "Pôle vide"}, "items": []},
]


def ids(offers: list[Any]) -> list[str]:
    return [offer.item["id"] for offer in offers]


def test_price_per_unit_comes_from_the_measure() -> None:
    provider = PROVIDERS[0]
    syrup, butter, eggs = (read_offer(provider, i) for i in provider["items"])
    assert (syrup.per, round(syrup.unit_price, 4)) == (Unit.L, Decimal("23.1481"))
    assert (butter.per, butter.unit_price) == (Unit.KG, Decimal(12))
    assert (eggs.per, eggs.unit_price) == (Unit.UNITE, Decimal("0.5"))
    assert syrup.summary()["unit_price"] == {"value": "23.15", "per": "l"}
    odd = read_offer(PROVIDERS[1], PROVIDERS[1]["items"][1])
    assert odd.price is None and odd.unit_price is None and odd.summary()["unit_price"] is None


def test_filters_keep_what_they_say_and_drop_emptied_providers() -> None:
    def run(*pairs: tuple[str, str]) -> tuple[list[str], list[str]]:
        providers, offers = apply(PROVIDERS, parse_result_query(list(pairs)))
        return [p["id"] for p in providers], ids(offers)

    # No filter: everything, even the empty pôle.
    assert run()[0] == ["pole-a", "pole-b", "pole-vide"]
    assert run(("unit", "kg"))[1] == ["beurre-250", "pommes"]
    assert run(("unit", "kg"), ("max_unit_price", "5")) == (["pole-b"], ["pommes"])
    assert run(("unit", "g"), ("min_unit_price", "2.10"), ("max_unit_price", "12")) == (
        ["pole-a", "pole-b"],
        ["beurre-250", "pommes"],
    )
    assert run(("certification", "biologique_canada"))[1] == ["sirop-540"]
    assert run(("certification", "biologique_canada,aliments_du_quebec"))[1] == []
    assert run(("conservation", "refrigere"))[1] == ["beurre-250", "oeufs"]
    assert run(("origin", "QC-12"), ("origin", "QC-16"))[1] == ["sirop-540", "pommes"]
    assert run(("provider", "vendeur-b"))[1] == ["pommes", "bizarre", "sans-mesure"]
    assert run(("provider", "pole-a"), ("unit", "unite"))[1] == ["oeufs"]


def test_sorts_put_the_items_without_a_key_last_in_both_directions() -> None:
    def order(sort: str) -> list[str]:
        return ids(apply(PROVIDERS, parse_result_query([("sort", sort)]))[1])

    assert order("price") == [
        "pommes",
        "beurre-250",
        "sans-mesure",
        "oeufs",
        "sirop-540",
        "bizarre",
    ]
    assert order("-price") == [
        "sirop-540",
        "oeufs",
        "sans-mesure",
        "beurre-250",
        "pommes",
        "bizarre",
    ]
    # Per unit: within the unit asked for only (never kg, l and units mixed or grouped).
    with pytest.raises(QueryError) as refused:
        order("-unit_price")
    assert refused.value.path == "unit" and "unit" in refused.value.message
    per_kg = apply(PROVIDERS, parse_result_query([("sort", "-unit_price"), ("unit", "kg")]))[1]
    assert ids(per_kg) == ["beurre-250", "pommes"]
    # By name, accents and case aside: Article, Beurre, Botte, Œufs, pommes, Sirop.
    assert order("name") == ["bizarre", "beurre-250", "sans-mesure", "oeufs", "pommes", "sirop-540"]
    assert order("region") == [
        "beurre-250",
        "sirop-540",
        "pommes",
        "oeufs",
        "bizarre",
        "sans-mesure",
    ]
    assert order("-region")[:3] == ["pommes", "sirop-540", "beurre-250"]
    # Providers follow their best item.
    providers, _ = apply(PROVIDERS, parse_result_query([("sort", "price")]))
    assert [p["id"] for p in providers] == ["pole-b", "pole-a", "pole-vide"]
    assert [i["id"] for i in providers[0]["items"]] == ["pommes", "sans-mesure", "bizarre"]


# --- the delivery region ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "region"),
    [
        ("H2X 1Y4", Region.MONTREAL),
        ("h7n3k6", Region.LAVAL),
        ("G1R 4P5", Region.CAPITALE_NATIONALE),
        ("J1H", Region.ESTRIE),
        ("G6V 6Z1", Region.CHAUDIERE_APPALACHES),
        ("J8X 3X7", Region.OUTAOUAIS),
    ],
)
def test_urban_postal_codes_give_their_region(code: str, region: Region) -> None:
    assert region_for_postal_code(code) is region


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("G0A 1A0", "rural"),
        ("J7A 1A1", "non répertorié"),
        ("K1A 0A6", "hors Québec"),
        ("123", "invalide"),
        (None, "invalide"),
    ],
)
def test_other_postal_codes_are_refused_clearly(code: Any, says: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        region_for_postal_code(code, path="postal_code")
    assert says in caught.value.message and caught.value.path == "postal_code"


def test_gps_gives_the_nearest_region_and_refuses_outside_quebec() -> None:
    for region, (lat, lon) in REFERENCE_POINTS.items():
        assert region_for_gps(f"{lat},{lon}") is region
    assert region_for_gps("48.45, -68.52") is Region.BAS_SAINT_LAURENT
    assert set(URBAN_FSA.values()) <= set(Region)
    for bad in ("43.65,-79.38", "quarante,six", "46.8"):
        with pytest.raises(ProtocolError):
            region_for_gps(bad)


# --- through the buyer node ------------------------------------------------------------------


def test_filters_and_sort_on_the_search_api(world: World) -> None:
    tx = world.search(region="QC-03")
    everything = world.results(tx, wait_ms=10_000)
    assert everything["complete"] and everything["filters"] == {}
    assert sorted({o["item_id"] for o in everything["offers"]}) == sorted([CHIPS, CURDS, SYRUP])
    assert everything["counts"]["items"] == len(everything["offers"]) == 6

    def read(query: str) -> dict[str, Any]:
        response = world.api("GET", f"/api/searches/{tx}?{query}")
        assert response.status_code == 200, response.text
        return response.json()

    organic = read("certification=biologique_canada&origin=QC-12")
    assert {o["item_id"] for o in organic["offers"]} == {SYRUP}
    assert organic["counts"]["providers"] == organic["counts"]["items"] == 2
    assert organic["offers"][0]["unit_price"] == {"value": "23.15", "per": "l"}
    assert organic["filters"] == {"certification": ["biologique_canada"], "origin": ["QC-12"]}

    cold = read("conservation=refrigere&unit=kg&max_unit_price=20&sort=-price")
    assert [o["item_id"] for o in cold["offers"]] == [CURDS, CURDS]
    by_price = read(f"sort=price&provider={world.sellers['capitale']}")
    assert [o["item_id"] for o in by_price["offers"]] == [CHIPS, SYRUP, CURDS]
    assert {o["bpp_id"] for o in by_price["offers"]} == {world.sellers["capitale"]}
    assert read("unit=kg&min_unit_price=100")["providers"] == []

    for query, path in (
        ("sort=prix", "sort"),
        ("origin=QC-40", "origin[0]"),
        ("max_unit_price=3", "unit"),
        ("sort=-unit_price", "unit"),
        ("unit=kg&min_unit_price=beaucoup", "min_unit_price"),
        ("couleur=rouge", "query.couleur"),  # the rule of every /api route
    ):
        response = world.api("GET", f"/api/searches/{tx}?{query}")
        assert response.status_code == 400, (query, response.text)
        assert response.json()["error"] == {
            "code": "parametres_invalides",
            "message": response.json()["error"]["message"],
            "path": path,
        }
    # The wait and the filters together.
    assert world.api("GET", f"/api/searches/{tx}?wait_ms=10&sort=name").status_code == 200


def test_the_delivery_address_chooses_the_sellers(world: World) -> None:
    # A Sherbrooke postal code: the Estrie, served by one seller only.
    response = world.api("POST", "/api/searches", json={"text": "pommes", "postal_code": "j1h5n4"})
    assert response.status_code == 202, response.text
    found = world.results(response.json()["transaction_id"], wait_ms=10_000)
    assert found["params"]["postal_code"] == "J1H 5N4"
    assert found["sellers"]["targeted"] == [world.sellers["estrie"]]
    assert [o["item_id"] for o in found["offers"]] == [APPLES]
    assert found["providers"][0]["id"] != CAPITALE

    # GPS in the Vieux-Québec: the Capitale-Nationale, both sellers.
    response = world.api("POST", "/api/searches", json={"gps": "46.8123, -71.2145"})
    assert response.status_code == 202, response.text
    found = world.results(response.json()["transaction_id"], wait_ms=10_000)
    assert sorted(found["sellers"]["targeted"]) == sorted(world.sellers.values())

    for body, path in (
        ({"postal_code": "G0A 1A0"}, "postal_code"),
        ({"postal_code": "M5V 2T6"}, "postal_code"),
        ({"gps": "40.7,-74.0"}, "gps"),
    ):
        response = world.api("POST", "/api/searches", json=body)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["path"] == path
    # A given region wins; a rural postal code then only has to be well formed.
    response = world.api("POST", "/api/searches", json={"region": "QC-03", "postal_code": "G0A1A0"})
    assert response.status_code == 202, response.text


# --- relevance -------------------------------------------------------------------------------


def _catalog(*items: tuple[str, str, str | None, str | None]) -> list[dict[str, Any]]:
    """One pôle whose items are (id, name, category, producer), in the seller's order."""
    found = []
    for item_id, name, category, producer in items:
        item: dict[str, Any] = {"id": item_id, "descriptor": {"name": name}}
        if category:
            item["category_ids"] = [category]
        if producer:
            item["tags"] = [origin_group(producer=producer)]
        found.append(item)
    categories = [
        {"id": "fruits", "descriptor": {"name": "Fruits"}},
        {"id": "legumes", "descriptor": {"name": "Légumes"}},
        {"id": "produits-laitiers", "descriptor": {"name": "Produits laitiers"}},
    ]
    return [{"id": "pole", "bpp_id": "bpp", "categories": categories, "items": found}]


def test_offers_come_by_relevance_unless_sorted() -> None:
    """« pommes » lists apples before potatoes (pommes de terre), whatever their price;
    « fromage » lists cheeses before a kefir whose producer is a Fromagerie."""
    sold = _catalog(
        ("grelots", "Pommes de terre grelots", "legumes", None),
        ("jus", "Jus de pommes pur", None, None),
        ("cortland", "Pommes Cortland, sac de 3 lb", "fruits", None),
        ("kefir", "Kéfir nature", "produits-laitiers", "Fromagerie du Lac"),
        ("grains", "Fromage en grains", "produits-laitiers", None),
    )
    assert ids(apply(sold, NO_QUERY, "pommes")[1])[:3] == ["cortland", "jus", "grelots"]
    assert ids(apply(sold, NO_QUERY, "pommes de terre")[1])[0] == "grelots"
    assert ids(apply(sold, NO_QUERY, "Fromage")[1])[:2] == ["grains", "kefir"]
    assert ids(apply(sold, NO_QUERY, "fruits")[1])[0] == "cortland"
    # Asked for, another order; without words, the sellers' order.
    by_name = parse_result_query([("sort", "name")])
    assert ids(apply(sold, by_name, "pommes")[1])[0] == "grains"
    assert ids(apply(sold, NO_QUERY)[1]) == ["grelots", "jus", "cortland", "kefir", "grains"]
    scored = apply(sold, NO_QUERY, "pommes")[1]
    assert [o.summary()["relevance"] for o in scored][:3] == [9, 8, 3]
