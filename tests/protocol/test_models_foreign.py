"""A message written by another Beckn implementation survives our nodes unchanged.

The body below is shaped like what an ONDC-style seller app sends in ``on_confirm``: Beckn 1.1
fields, plus ``@ondc/org/…`` extensions, vendor tracing fields and numbers we never model.
Parsing it and writing it back must give the same JSON object.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

from reseau_poles.protocol.models import OnConfirmRequest, parse_message, to_bytes

FOREIGN_ON_CONFIRM: dict[str, Any] = {
    "context": {
        "domain": "PLA:ALIMENTS",
        "location": {"country": {"code": "CAN"}, "city": {"code": "QC-05"}},
        "action": "on_confirm",
        "version": "1.1.0",
        "bap_id": "achats.cssherbrooke.example",
        "bap_uri": "https://achats.cssherbrooke.example/protocol/v1",
        "bpp_id": "vendeur.autre-outil.example",
        "bpp_uri": "https://vendeur.autre-outil.example/protocol/v1",
        "transaction_id": "3b7f54a2-0c1d-4e5f-8a9b-0c1d2e3f4a5b",
        "message_id": "A1B2C3D4-E5F6-4789-8ABC-DEF012345678",
        "timestamp": "2026-11-26T15:04:05.999Z",
        "ttl": "PT30S",
    },
    "message": {
        "order": {
            "id": "O-8842",
            "status": "ACTIVE",
            "provider": {"id": "P1", "locations": [{"id": "L1"}], "rateable": True},
            "items": [
                {
                    "id": "I1",
                    "fulfillment_ids": ["F1"],
                    "quantity": {"selected": {"count": 3}},
                    "@ondc/org/returnable": False,
                    "@ondc/org/cancellable": True,
                    "@ondc/org/time_to_ship": "PT45M",
                }
            ],
            "billing": {
                "name": "Centre de services scolaire de la Région-de-Sherbrooke",
                "address": "2955, boul. de l'Université, Sherbrooke (Québec) J1K 2Y3",
                "phone": "+1-819-555-0110",
                "email": "achats@cssherbrooke.example",
                "created_at": "2026-11-26T15:00:00.000Z",
                "updated_at": "2026-11-26T15:00:00.000Z",
            },
            "fulfillments": [
                {
                    "id": "F1",
                    "type": "Delivery",
                    "@ondc/org/provider_name": "Fromagerie des Cantons",
                    "@ondc/org/category": "Standard Delivery",
                    "@ondc/org/TAT": "PT60M",
                    "tracking": False,
                    "state": {"descriptor": {"code": "Pending"}},
                    "stops": [
                        {
                            "type": "end",
                            "location": {
                                "gps": "45.4042, -71.8929",
                                "address": "2955, boul. de l'Université",
                                "city": {"name": "Sherbrooke"},
                                "area_code": "J1K 2Y3",
                            },
                            "contact": {"phone": "+1-819-555-0111"},
                        }
                    ],
                }
            ],
            "quote": {
                "price": {"currency": "CAD", "value": "64.35"},
                "breakup": [
                    {
                        "@ondc/org/item_id": "I1",
                        "@ondc/org/item_quantity": {"count": 3},
                        "@ondc/org/title_type": "item",
                        "title": "Fromage cheddar vieilli 500 g",
                        "price": {"currency": "CAD", "value": "54.00"},
                        "item": {"price": {"currency": "CAD", "value": "18.00"}},
                    },
                    {
                        "@ondc/org/item_id": "F1",
                        "@ondc/org/title_type": "delivery",
                        "title": "Livraison",
                        "price": {"currency": "CAD", "value": "9.00"},
                    },
                    {
                        "@ondc/org/item_id": "F1",
                        "@ondc/org/title_type": "tax",
                        "title": "TPS et TVQ sur la livraison",
                        "price": {"currency": "CAD", "value": "1.35"},
                    },
                ],
                "ttl": "P1D",
            },
            "payments": [
                {
                    "type": "ON-FULFILLMENT",
                    "status": "NOT-PAID",
                    "collected_by": "BPP",
                    "@ondc/org/buyer_app_finder_fee_type": "percent",
                    "@ondc/org/buyer_app_finder_fee_amount": "3",
                    "@ondc/org/settlement_details": [
                        {
                            "settlement_counterparty": "seller-app",
                            "settlement_type": "neft",
                            "bank_name": "Caisse Desjardins des Cantons",
                            "beneficiary_name": None,
                        }
                    ],
                }
            ],
            "created_at": "2026-11-26T15:00:00.000Z",
            "updated_at": "2026-11-26T15:04:05.999Z",
            "tags": [
                {
                    "descriptor": {"code": "bpp_terms"},
                    "display": False,
                    "list": [{"descriptor": {"code": "tax_number"}, "value": "123456789RT0001"}],
                }
            ],
            "x_vendor_trace": {"span": "7f3a", "sampled": True, "weights": [0.25, 0.0015, -3]},
        }
    },
    "x_trace_id": "req-20261126-150405-999",
}


def foreign_body() -> bytes:
    return json.dumps(FOREIGN_ON_CONFIRM, ensure_ascii=False, indent=2).encode("utf-8")


def test_a_foreign_on_confirm_survives_the_round_trip() -> None:
    request = parse_message("on_confirm", foreign_body())
    assert json.loads(to_bytes(request)) == FOREIGN_ON_CONFIRM


def test_known_fields_are_typed_and_unknown_ones_reachable() -> None:
    request = parse_message("on_confirm", foreign_body())
    assert isinstance(request, OnConfirmRequest)
    assert request.message is not None
    order = request.message.order
    assert order.quote is not None and order.quote.price is not None
    assert order.quote.price.value == Decimal("64.35")
    assert order.items is not None and order.items[0].quantity is not None
    assert order.items[0].quantity.selected is not None
    assert order.items[0].quantity.selected.count == 3
    assert order.items[0].model_extra == {
        "@ondc/org/returnable": False,
        "@ondc/org/cancellable": True,
        "@ondc/org/time_to_ship": "PT45M",
    }
    assert order.quote.breakup is not None
    assert order.quote.breakup[0].model_extra is not None
    assert order.quote.breakup[0].model_extra["@ondc/org/title_type"] == "item"


def test_a_foreign_message_edited_by_our_node_keeps_its_extensions() -> None:
    request = parse_message("on_confirm", foreign_body())
    assert request.message is not None
    request.message.order.status = "COMPLETE"
    out = json.loads(to_bytes(request))
    expected = copy.deepcopy(FOREIGN_ON_CONFIRM)
    expected["message"]["order"]["status"] = "COMPLETE"
    assert out == expected


def test_other_spellings_keep_their_meaning() -> None:
    """Offsets, missing fractions and decimal spellings come out canonical, same meaning."""
    document = copy.deepcopy(FOREIGN_ON_CONFIRM)
    document["context"]["timestamp"] = "2026-11-26T10:04:05.999-05:00"
    document["message"]["order"]["created_at"] = "2026-11-26T15:00:00Z"
    document["message"]["order"]["quote"]["price"]["value"] = "+64.350"
    document["message"]["order"]["quote"]["breakup"][2]["price"]["value"] = ".5"
    out = json.loads(to_bytes(parse_message("on_confirm", json.dumps(document).encode())))
    assert out["context"]["timestamp"] == "2026-11-26T15:04:05.999Z"
    assert out["message"]["order"]["created_at"] == "2026-11-26T15:00:00.000Z"
    assert out["message"]["order"]["quote"]["price"]["value"] == "64.350"
    assert out["message"]["order"]["quote"]["breakup"][2]["price"]["value"] == "0.5"


def test_a_message_without_version_or_ttl_is_not_given_ours() -> None:
    document = copy.deepcopy(FOREIGN_ON_CONFIRM)
    del document["context"]["ttl"], document["context"]["version"]
    request = parse_message("on_confirm", json.dumps(document).encode())
    assert request.context.ttl == "PT30S"  # what the network assumes
    assert "ttl" not in json.loads(to_bytes(request))["context"]  # but does not write
