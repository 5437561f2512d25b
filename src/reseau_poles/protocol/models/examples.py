"""One realistic message per action, as the network's nodes exchange them.

A school service centre of Capitale-Nationale (the buyer node) orders maple syrup and cheese
curds from a pôle's cooperative (the seller node), has them delivered, and follows, updates,
rates and asks about the order. The conformance tests check each of them against the official
Beckn 1.1.1 schemas; documentation, demos and other roles' tests may reuse them.

Fixed ids and times make every call give the same bytes.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from .context import REQUEST_ACTIONS, AckResponse, Error
from .messages import ACTION_MODELS, BecknRequest

BAP_ID: Final = "achats.cscapitale.example"
BAP_URI: Final = "https://achats.cscapitale.example/beckn"
BPP_ID: Final = "marche-quebec.example"
BPP_URI: Final = "https://marche-quebec.example/beckn"
TRANSACTION_ID: Final = "6f1c8f0e-2b8e-4c37-9a57-3e1d8c0b5a21"
ORDER_ID: Final = "CMD-2026-0042"
PROVIDER_ID: Final = "pole-capitale"
SYRUP_ID: Final = "sirop-erable-540ml"
CURDS_ID: Final = "fromage-grains-1kg"


def _message_id(action: str) -> str:
    # One id per request/callback pair: the callback echoes its request's id.
    number = REQUEST_ACTIONS.index(action.removeprefix("on_")) + 1
    return f"0c5e9a3b-7d41-4f6a-8b2e-{number:012d}"


def context(action: str, *, minute: int = 0) -> dict[str, Any]:
    """The context of ``action`` in the example transaction."""
    data: dict[str, Any] = {
        "domain": "PLA:ALIMENTS",
        "location": {
            "city": {"code": "QC-03", "name": "Capitale-Nationale"},
            "country": {"code": "CAN", "name": "Canada"},
        },
        "action": action,
        "version": "1.1.0",
        "bap_id": BAP_ID,
        "bap_uri": BAP_URI,
        "transaction_id": TRANSACTION_ID,
        "message_id": _message_id(action),
        "timestamp": f"2026-11-26T10:{minute:02d}:00.000Z",
        "ttl": "PT30S",
    }
    if action != "search":
        data["bpp_id"] = BPP_ID
        data["bpp_uri"] = BPP_URI
    return data


def _tags(code: str, **values: str) -> dict[str, Any]:
    return {
        "descriptor": {"code": code},
        "list": [{"descriptor": {"code": k}, "value": v} for k, v in values.items()],
    }


def _cad(value: str) -> dict[str, str]:
    return {"currency": "CAD", "value": value}


POLE_LOCATION: Final = {
    "id": "entrepot-vanier",
    "descriptor": {"name": "Entrepôt de Vanier"},
    "gps": "46.8139,-71.2080",
    "address": "350, rue de l'Entrepôt, Québec (Québec) G1M 2X3",
    "city": {"code": "QC-03", "name": "Capitale-Nationale"},
    "state": {"code": "QC", "name": "Québec"},
    "country": {"code": "CAN"},
    "area_code": "G1M 2X3",
}
SCHOOL_LOCATION: Final = {
    "gps": "46.7784, -71.2837",
    "address": "1100, boul. de la Cafétéria, Québec (Québec) G1V 4E2",
    "city": {"code": "QC-03", "name": "Capitale-Nationale"},
    "country": {"code": "CAN"},
    "area_code": "G1V 4E2",
}


def _item(item_id: str, count: int | None = None) -> dict[str, Any]:
    """An item as the catalog shows it, or as an order line when ``count`` is given."""
    if item_id == SYRUP_ID:
        item: dict[str, Any] = {
            "id": SYRUP_ID,
            "descriptor": {
                "name": "Sirop d'érable biologique 540 ml",
                "short_desc": "Sirop d'érable ambré, goût riche",
                "images": [
                    {"url": "https://marche-quebec.example/img/sirop.jpg", "size_type": "sm"}
                ],
            },
            "price": {"currency": "CAD", "value": "12.50", "listed_value": "13.95"},
            "category_ids": ["produits-erable"],
            "fulfillment_ids": ["livraison-1", "cueillette-1"],
            "location_ids": ["entrepot-vanier"],
            "tags": [
                _tags("certifications", aliments_du_quebec="oui", biologique_canada="oui"),
                _tags("conservation", mode="ambiant"),
                _tags("origine", producteur="Érablière du Rang 4", region="QC-12"),
                _tags("taxes", detaxe="oui"),
                _tags("langue_en", name="Organic maple syrup 540 ml"),
            ],
        }
    else:
        item = {
            "id": CURDS_ID,
            "descriptor": {"name": "Fromage en grains 1 kg", "short_desc": "Frais du jour"},
            "price": _cad("18.75"),
            "category_ids": ["produits-laitiers"],
            "fulfillment_ids": ["livraison-1"],
            "tags": [
                _tags("certifications", aliments_du_quebec="oui"),
                _tags("conservation", mode="refrigere"),
                _tags("taxes", detaxe="oui"),
            ],
        }
    item["quantity"] = {
        "unitized": {"measure": {"unit": "unite", "value": "1"}},
        "available": {"count": 240},
        "minimum": {"count": 6},
        "maximum": {"count": 120},
    }
    if count is not None:
        return {"id": item_id, "quantity": {"selected": {"count": count}}}
    return item


def _quote() -> dict[str, Any]:
    def line(item_id: str | None, title: str, value: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"title": title, "price": _cad(value)}
        if item_id:
            entry["item"] = {"id": item_id}
        return entry

    return {
        "id": "9b2d7c44-5f0a-4e11-8c3e-1a2b3c4d5e6f",
        "price": _cad("247.49"),
        "breakup": [
            line(SYRUP_ID, "Sirop d'érable biologique 540 ml × 10", "125.00"),
            line(CURDS_ID, "Fromage en grains 1 kg × 5", "93.75"),
            line(None, "Livraison réfrigérée", "25.00"),
            line(None, "TPS (5 %)", "1.25"),
            line(None, "TVQ (9,975 %)", "2.49"),
        ],
        "ttl": "PT15M",
    }


def _delivery(state: str | None = None) -> dict[str, Any]:
    fulfillment: dict[str, Any] = {
        "id": "livraison-1",
        "type": "livraison",
        "tracking": True,
        "stops": [
            {"type": "start", "location": POLE_LOCATION},
            {
                "type": "end",
                "location": SCHOOL_LOCATION,
                "time": {
                    "range": {
                        "start": "2026-11-30T12:00:00.000Z",
                        "end": "2026-11-30T15:00:00.000Z",
                    }
                },
                "contact": {"phone": "+1-418-555-0142", "email": "cafeteria@cscapitale.example"},
                "person": {"name": "Geneviève Tremblay"},
                "instructions": {"name": "Quai de réception, porte 3"},
            },
        ],
        "tags": [_tags("chaine_froid", requise="oui")],
    }
    if state:
        fulfillment["state"] = {
            "descriptor": {"code": state},
            "updated_at": "2026-11-30T13:05:00.000Z",
            "updated_by": BPP_ID,
        }
    return fulfillment


PAYMENT: Final = {
    "id": "paiement-1",
    "type": "POST-FULFILLMENT",
    "status": "NOT-PAID",
    "collected_by": "BPP",
    "params": {"amount": "247.49", "currency": "CAD"},
    "time": {"label": "net", "duration": "P30D"},
    "tags": [_tags("modalites", delai="net 30")],
}
BILLING: Final = {
    "name": "Centre de services scolaire de la Capitale",
    "address": "1900, rue Côté, Québec (Québec) G1N 3Y5",
    "city": {"code": "QC-03", "name": "Capitale-Nationale"},
    "state": {"code": "QC"},
    "email": "comptes.fournisseurs@cscapitale.example",
    "phone": "+1-418-555-0100",
    "tax_id": "TPS 123456789 RT0001; TVQ 1234567890 TQ0001",
}
CANCELLATION_TERMS: Final = [
    {
        "fulfillment_state": {"descriptor": {"code": "Pending"}},
        "reason_required": False,
        "cancellation_fee": {"percentage": "0"},
    },
    {
        "fulfillment_state": {"descriptor": {"code": "Packed"}},
        "reason_required": True,
        "cancellation_fee": {"amount": _cad("25.00")},
    },
]
PROVIDER: Final = {
    "id": PROVIDER_ID,
    "descriptor": {
        "name": "Pôle agroalimentaire de la Capitale",
        "short_desc": "Coopérative de producteurs de la Capitale-Nationale",
    },
    "locations": [POLE_LOCATION],
    "categories": [
        {"id": "produits-erable", "descriptor": {"name": "Produits de l'érable"}},
        {"id": "produits-laitiers", "descriptor": {"name": "Produits laitiers"}},
    ],
    "fulfillments": [
        {"id": "livraison-1", "type": "livraison"},
        {
            "id": "cueillette-1",
            "type": "cueillette",
            "stops": [{"type": "start", "location": POLE_LOCATION}],
        },
    ],
    "payments": [{"id": "paiement-1", "type": "POST-FULFILLMENT"}],
    "items": [_item(SYRUP_ID), _item(CURDS_ID)],
    "rateable": True,
    "ttl": 3600,
    "tags": [_tags("organisation", forme_juridique="cooperative", region="QC-03")],
}


def _order(*, status: str | None = None, state: str | None = None) -> dict[str, Any]:
    order: dict[str, Any] = {
        "provider": {"id": PROVIDER_ID},
        "items": [_item(SYRUP_ID, 10), _item(CURDS_ID, 5)],
        "fulfillments": [_delivery(state)],
        "billing": BILLING,
        "payments": [PAYMENT],
        "quote": _quote(),
    }
    if status:
        order = {"id": ORDER_ID, "status": status, **order}
        order["created_at"] = "2026-11-26T10:04:00.000Z"
        order["updated_at"] = "2026-11-30T13:05:00.000Z"
    return order


def _messages() -> dict[str, dict[str, Any]]:
    selected = {
        "provider": {"id": PROVIDER_ID},
        "items": [_item(SYRUP_ID, 10), _item(CURDS_ID, 5)],
        "fulfillments": [
            {"id": "livraison-1", "stops": [{"type": "end", "location": SCHOOL_LOCATION}]}
        ],
    }
    quoted = {**selected, "quote": _quote()}
    return {
        "search": {
            "intent": {
                "item": {"descriptor": {"name": "sirop d'érable"}},
                "fulfillment": {
                    "type": "livraison",
                    "stops": [{"type": "end", "location": SCHOOL_LOCATION}],
                },
                "payment": {"type": "POST-FULFILLMENT"},
                "tags": [_tags("certifications", biologique_canada="oui")],
            }
        },
        "on_search": {
            "catalog": {
                "descriptor": {"name": "Marché Québec — pôles de la Capitale"},
                "providers": [PROVIDER],
                "exp": "2026-11-26T11:00:00.000Z",
            }
        },
        "select": {"order": selected},
        "on_select": {"order": quoted},
        "init": {"order": {**selected, "billing": BILLING, "payments": [PAYMENT]}},
        "on_init": {"order": {**_order(), "cancellation_terms": CANCELLATION_TERMS}},
        "confirm": {"order": _order()},
        "on_confirm": {"order": _order(status="ACTIVE", state="Pending")},
        "status": {"order_id": ORDER_ID},
        "on_status": {"order": _order(status="ACTIVE", state="Out-for-delivery")},
        "track": {"order_id": ORDER_ID, "callback_url": f"{BAP_URI}/suivi/{ORDER_ID}"},
        "on_track": {
            "tracking": {
                "id": "suivi-1",
                "url": "https://marche-quebec.example/suivi/CMD-2026-0042",
                "location": {"gps": "46.7901,-71.2660"},
                "status": "active",
            }
        },
        "cancel": {
            "order_id": ORDER_ID,
            "cancellation_reason_id": "001",
            "descriptor": {"short_desc": "Journée pédagogique : cafétéria fermée"},
        },
        "on_cancel": {
            "order": {
                **_order(status="CANCELLED", state="Cancelled"),
                "cancellation": {
                    "time": "2026-11-27T09:00:00.000Z",
                    "cancelled_by": "CONSUMER",
                    "reason": {"id": "001", "descriptor": {"name": "Commande plus nécessaire"}},
                },
            }
        },
        "update": {
            "update_target": "order.fulfillments[0].stops[1].time",
            "order": {
                "id": ORDER_ID,
                "fulfillments": [
                    {
                        "id": "livraison-1",
                        "stops": [
                            {"type": "start"},
                            {
                                "type": "end",
                                "time": {
                                    "range": {
                                        "start": "2026-12-01T12:00:00.000Z",
                                        "end": "2026-12-01T15:00:00.000Z",
                                    }
                                },
                            },
                        ],
                    }
                ],
            },
        },
        "on_update": {"order": _order(status="ACTIVE", state="Packed")},
        "rating": {
            "ratings": [
                {"rating_category": "Order", "id": ORDER_ID, "value": "5"},
                {"rating_category": "Fulfillment", "id": "livraison-1", "value": "4"},
            ]
        },
        "on_rating": {
            "feedback_form": {
                "form": {
                    "url": "https://marche-quebec.example/avis/CMD-2026-0042",
                    "mime_type": "text/html",
                },
                "required": False,
            }
        },
        "support": {"support": {"ref_id": ORDER_ID}},
        "on_support": {
            "support": {
                "ref_id": ORDER_ID,
                "phone": "+1-418-555-0199",
                "email": "soutien@marche-quebec.example",
                "url": "https://marche-quebec.example/soutien",
            }
        },
    }


def example_json(action: str) -> dict[str, Any]:
    """The example body of ``action`` as JSON-ready data: a fresh copy, free to change."""
    minute = list(ACTION_MODELS).index(action)
    message = copy.deepcopy(_messages()[action])  # the shared parts must not leak changes
    return {"context": context(action, minute=minute), "message": message}


def example_request(action: str) -> BecknRequest:
    """The example body of ``action`` as its request model."""
    return ACTION_MODELS[action].model_validate(example_json(action))


def example_requests() -> dict[str, BecknRequest]:
    """Every action's example, in protocol order."""
    return {action: example_request(action) for action in ACTION_MODELS}


def example_nack() -> AckResponse:
    """A seller node's NACK for an order of more syrup than it has."""
    return AckResponse.nack(
        Error(
            code="40002",
            paths="message.order.items[0].quantity.selected.count",
            message="Quantité non disponible : il reste 240 unités de sirop d'érable",
        )
    )


__all__ = [
    "BAP_ID",
    "BAP_URI",
    "BPP_ID",
    "BPP_URI",
    "TRANSACTION_ID",
    "context",
    "example_json",
    "example_nack",
    "example_request",
    "example_requests",
]
