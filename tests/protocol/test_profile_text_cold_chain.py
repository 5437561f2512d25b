"""Search text normalisation, and the cold-chain rule."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.profile import (
    Conservation,
    check_cold_chain,
    cold_chain_group,
    cold_chain_violations,
    conservation_group,
    normalize_text,
    search_key,
    search_keys,
    text_matches,
    tokenize,
)

# --- text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sirop d'ÉRABLE", "sirop d'erable"),
        ("Sirop d’érable", "sirop d'erable"),  # typographic apostrophe
        ("Sirop dʼérable", "sirop d'erable"),
        ("ŒUFS de l'Abitibi", "oeufs de l'abitibi"),
        ("bœuf haché", "boeuf hache"),
        ("Cæsar", "caesar"),
        ("Saguenay–Lac-Saint-Jean", "saguenay-lac-saint-jean"),
        ("  Fromage\u00a0\u202fde   chèvre\n", "fromage de chevre"),
        ("Straße", "strasse"),
        ("Smørrebrød à Łódź", "smorrebrod a lodz"),
        ("ÇA VA À LA FÊTE", "ca va a la fete"),
        ("", ""),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@given(st.text())
def test_normalize_text_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


def test_tokenize_drops_elisions_and_punctuation() -> None:
    assert tokenize("Sirop d'érable de l'Estrie, 540 ml") == [
        "sirop",
        "erable",
        "de",
        "estrie",
        "540",
        "ml",
    ]
    assert tokenize("Jus d’pommes qu’on aime — bio!") == ["jus", "pommes", "on", "aime", "bio"]
    assert tokenize("Pain de la boulangerie", drop_stopwords=True) == ["pain", "boulangerie"]
    assert tokenize("") == []


def test_search_keys_fold_plurals() -> None:
    assert search_key("Pommes") == search_key("pomme") == "pomme"
    assert search_key("Choux") == "chou"
    assert search_key("jus") == "jus"  # too short to be a plural
    assert search_keys(["Fraises du Québec", None]) == {"fraise", "du", "quebec"}


@pytest.mark.parametrize(
    ("query", "texts", "expected"),
    [
        ("erable", ["Sirop d'ÉRABLE"], True),
        ("sirop erable", ["Sirop d'érable ambré"], True),
        ("sirop de bouleau", ["Sirop du bouleau"], True),
        ("pommes", ["Pomme Cortland"], True),
        ("pomme", ["Pommes Cortland"], True),
        ("fromag", ["Fromage en grains"], True),  # prefix, as people type
        ("oeufs", ["Œufs frais"], True),
        ("miel", ["Sirop d'érable"], False),
        ("sirop miel", ["Sirop d'érable"], False),
        ("", ["anything"], True),
        ("lait", [None, "Lait 2 %"], True),
    ],
)
def test_text_matches(query: str, texts: list[str | None], expected: bool) -> None:
    assert text_matches(query, *texts) is expected


# --- cold chain --------------------------------------------------------------------------

COLD_TRUCK = {"id": "camion-froid", "type": "livraison", "tags": [cold_chain_group(True)]}
FRIDGE_ONLY = {"id": "frigo", "type": "livraison", "tags": [cold_chain_group(["refrigere"])]}
PLAIN_VAN = {"id": "fourgon", "type": "livraison"}


def item(item_id: str, conservation: str | None = None, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"id": item_id, **extra}
    if conservation:
        result["tags"] = [conservation_group(conservation)]
    return result


def test_cold_items_need_a_cold_fulfillment() -> None:
    order = {
        "items": [
            item("pommes", "ambiant", fulfillment_ids=["fourgon"]),
            item("yogourt", "refrigere", fulfillment_ids=["fourgon"]),
            item("bleuets-surgeles", "congele", fulfillment_ids=["camion-froid"]),
        ],
        "fulfillments": [PLAIN_VAN, COLD_TRUCK],
    }
    violations = cold_chain_violations(order)
    assert [(v.item_id, v.fulfillment_id) for v in violations] == [("yogourt", "fourgon")]
    with pytest.raises(ProtocolError) as caught:
        check_cold_chain(order)
    error = caught.value
    assert error.code is ErrorCode.COLD_CHAIN_REQUIRED
    assert error.code.value == "40011"
    assert error.path == "message.order.items[1]"
    assert error.details == {"item_ids": ["yogourt"]}
    assert "yogourt" in error.message and "chaîne de froid" in error.message


def test_a_fridge_does_not_keep_frozen_goods() -> None:
    order = {
        "items": [item("creme-glacee", "congele"), item("fromage", "refrigere")],
        "fulfillments": [FRIDGE_ONLY],
    }
    assert [v.item_id for v in cold_chain_violations(order)] == ["creme-glacee"]


def test_an_item_without_fulfillment_ids_travels_by_every_fulfillment() -> None:
    order = {
        "items": [item("beurre", "refrigere")],
        "fulfillments": [COLD_TRUCK, PLAIN_VAN],
    }
    assert [v.fulfillment_id for v in cold_chain_violations(order)] == ["fourgon"]


def test_legacy_fulfillment_id_and_unknown_fulfillments() -> None:
    order = {
        "items": [
            item("lait", "refrigere", fulfillment_id="camion-froid"),
            item("creme", "refrigere", fulfillment_ids=["inconnu"]),
        ],
        "fulfillments": [COLD_TRUCK],
    }
    assert [v.item_id for v in cold_chain_violations(order)] == ["creme"]


def test_nothing_to_check_before_a_fulfillment_is_chosen() -> None:
    check_cold_chain({"items": [item("lait", "refrigere")]})
    check_cold_chain({})


def test_catalog_knowledge_overrides_the_message() -> None:
    # A select carries only ids: the seller brings what its catalog knows.
    order = {
        "items": [
            {"id": "lait", "fulfillment_ids": ["f1"]},
            {"id": "pain", "fulfillment_ids": ["f1"]},
        ],
        "fulfillments": [{"id": "f1"}],
    }
    conservation = {"lait": Conservation.REFRIGERE, "pain": Conservation.AMBIANT}
    with pytest.raises(ProtocolError) as caught:
        check_cold_chain(order, path="message.order", item_conservation=conservation)
    assert caught.value.details == {"item_ids": ["lait"]}
    check_cold_chain(
        order,
        item_conservation=conservation,
        fulfillment_cold_chain={"f1": [Conservation.REFRIGERE]},
    )


def test_every_offending_item_is_listed_once() -> None:
    order = {
        "items": [
            item("lait", "refrigere"),
            item("pois-surgeles", "congele"),
            item("lait", "refrigere"),
        ],
        "fulfillments": [PLAIN_VAN, {"id": "velo"}],
    }
    with pytest.raises(ProtocolError) as caught:
        check_cold_chain(order, path="message.order")
    assert caught.value.details == {"item_ids": ["lait", "pois-surgeles"]}
    assert "2 produits" in caught.value.message
    assert len(cold_chain_violations(order)) == 6


def test_bad_tags_in_the_order_raise_with_their_path() -> None:
    order = {
        "items": [{"id": "x", "tags": [{"descriptor": {"code": "conservation"}, "list": []}]}],
        "fulfillments": [PLAIN_VAN],
    }
    with pytest.raises(ProtocolError) as caught:
        check_cold_chain(order, path="message.order")
    assert caught.value.path == "message.order.items[0].tags[0].list"
