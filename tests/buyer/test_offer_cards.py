"""What a person reads of an offer in the portal's search results (no I/O): the card of an
item as its pôle's catalogue says it, « — » where it says nothing, and the search's status
that counts who answered and never hides a cut."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from reseau_poles.buyer.services.offer_cards import MAX_CARDS, card_key, offer_cards
from reseau_poles.buyer.services.results import parse_result_query
from reseau_poles.buyer.web.search_stream import search_status
from reseau_poles.protocol.profile import DeliveryRules, parse_days, parse_hours, tag, tag_group
from reseau_poles.protocol.profile.item_tags import ItemTags, Origin
from reseau_poles.protocol.profile.vocabulary import Certification, Conservation

NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # Monday, noon in Québec


def option(option_id: str, name: str, fee: str, rules: DeliveryRules) -> dict[str, Any]:
    lead, *declared = rules.to_tags()
    return {
        "id": option_id,
        "type": "livraison",
        "tags": [
            tag_group(
                "modalites",
                [tag("nom", name), tag("frais", fee), lead, *declared],
            )
        ],
    }


PROVIDER: dict[str, Any] = {
    "bpp_id": "vendeur-1.example",
    "id": "pole-beauce",
    "descriptor": {"name": "Pôle de la Beauce"},
    "fulfillments": [
        option(
            "froid",
            "Livraison réfrigérée",
            "25.00",
            DeliveryRules(
                lead_time_hours=48,
                days=parse_days("mar,jeu"),
                hours=parse_hours("08:00-12:00"),
                minimum_order=Decimal("150.00"),
            ),
        ),
        option("sec", "Livraison produits secs", "15.00", DeliveryRules(lead_time_hours=24)),
    ],
    "items": [
        {
            "id": "sirop-540",
            "descriptor": {"name": "Sirop d'érable ambré 540 ml"},
            "price": {"currency": "CAD", "value": "12.50"},
            "quantity": {
                "unitized": {"measure": {"unit": "ml", "value": "540"}},
                "available": {"count": 40},
                "minimum": {"count": 6},
            },
            "fulfillment_ids": ["froid", "sec"],
            "tags": ItemTags(
                certifications=frozenset(
                    {Certification.BIOLOGIQUE_CANADA, Certification.ALIMENTS_DU_QUEBEC}
                ),
                conservation=Conservation.AMBIANT,
                origin=Origin(producer="Érablière du Rang 4", region="QC-12"),
                taxable=False,
            ).to_tags(),
        },
        {"id": "mystere", "descriptor": {"name": "Article sans précision"}},
    ],
}


def test_a_card_says_what_the_catalogue_says() -> None:
    cards, total = offer_cards([PROVIDER], now=NOW)
    assert total == 2
    card = cards[0]
    assert card["key"] == card_key("vendeur-1.example", "pole-beauce", "sirop-540")
    assert (card["name"], card["provider_name"]) == (
        "Sirop d'érable ambré 540 ml",
        "Pôle de la Beauce",
    )
    assert (card["origin_label"], card["producer"]) == (
        "Chaudière-Appalaches",
        "Érablière du Rang 4",
    )
    # the Québec brand before the organic label, whatever the catalogue's order
    assert card["certifications"] == ["aliments_du_quebec", "biologique_canada"]
    assert card["pack"] == {"value": Decimal(540), "unit": "ml"}
    assert card["price"] == Decimal("12.50")
    assert (card["unit_price"], card["per"]) == (Decimal("23.15"), "l")
    assert card["taxable"] is False
    assert (card["available"], card["minimum"], card["maximum"]) == (40, 6, None)
    cold, dry = card["delivery"]
    assert (cold["name"], cold["fee"], cold["minimum_order"]) == (
        "Livraison réfrigérée",
        Decimal("25.00"),
        Decimal("150.00"),
    )
    # ordered Monday noon: 48 h of notice, Tuesdays and Thursdays 8 to 12 → Thursday 8:00
    assert cold["next_delivery"] == datetime(2026, 12, 10, 13, 0, tzinfo=UTC)
    assert dry["next_delivery"] == datetime(2026, 12, 8, 17, 0, tzinfo=UTC)
    assert card["next_delivery"] == dry["next_delivery"]


def test_what_the_catalogue_does_not_say_stays_empty() -> None:
    cards, _ = offer_cards([PROVIDER], now=NOW)
    bare = cards[1]
    for name in ("price", "unit_price", "per", "pack", "origin_label", "taxable", "available"):
        assert bare[name] is None, name
    assert bare["certifications"] == []
    # an item naming no option may go by any of the pôle's
    assert [o["id"] for o in bare["delivery"]] == ["froid", "sec"]
    assert bare["next_delivery"] == datetime(2026, 12, 8, 17, 0, tzinfo=UTC)


def test_cards_follow_the_query_and_are_capped() -> None:
    query = parse_result_query([("certification", "aliments_du_quebec")])
    cards, total = offer_cards([PROVIDER], query, now=NOW)
    assert [c["item_id"] for c in cards] == ["sirop-540"] and total == 1
    many = {**PROVIDER, "items": [{**PROVIDER["items"][0], "id": f"s-{n}"} for n in range(250)]}
    cards, total = offer_cards([many], now=NOW)
    assert (len(cards), total) == (MAX_CARDS, 250)


def test_a_poles_fulfilment_options_are_read_once_for_all_its_cards() -> None:
    cards, _ = offer_cards([PROVIDER], now=NOW)
    assert len(cards) >= 2
    first, second = cards[0]["delivery"], cards[1]["delivery"]
    assert first and [o["id"] for o in first] == [o["id"] for o in second]
    assert all(a is b for a, b in zip(first, second, strict=True))
    # the same as each card read alone
    assert first == offer_cards([PROVIDER], now=NOW, limit=1)[0][0]["delivery"]


def test_the_status_counts_answers_and_says_every_cut() -> None:
    progress = {
        "state": "en_attente",
        "complete": False,
        "sellers": {
            "targeted": ["a", "b", "c"],
            "answered": [{"bpp_id": "a"}, {"bpp_id": "b"}],
            "pending": ["c"],
            "refused": [],
        },
    }
    poles = [
        {
            "provider_id": "p1",
            "matched": 120,
            "matched_at_least": False,
            "received": 100,
            "truncated": True,
        },
        {
            "provider_id": "p2",
            "matched": 500,
            "matched_at_least": True,
            "received": 500,
            "truncated": True,
        },
        {
            "provider_id": "p3",
            "matched": 4,
            "matched_at_least": False,
            "received": 4,
            "truncated": False,
        },
    ]
    status = search_status(progress, poles, total=604, shown=200)
    assert (status["answered"], status["targeted"], status["pending"]) == (2, 3, 1)
    assert status["poles"] == 3
    assert [p["provider_id"] for p in status["truncated"]] == ["p1", "p2"]
    assert (status["matched"], status["received"], status["at_least"]) == (620, 600, True)
    assert status["capped"] and (status["shown"], status["total"]) == (200, 604)
