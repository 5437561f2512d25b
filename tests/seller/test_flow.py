"""The seller node on the network: a buyer searches, selects, inits and confirms through
real servers on loopback; every callback is signed by the node and verified by the buyer
through the real registry. Refusals carry their code and JSON path."""

from __future__ import annotations

import copy
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from reseau_poles.protocol.models import OnConfirmRequest, OnSearchRequest, OnSelectRequest
from reseau_poles.protocol.profile import Page, ProviderResults, parse_results
from reseau_poles.seller.tables import orders, stock
from reseau_poles.storage import make_session_factory, read_session

from .conftest import Network
from .support import APPLES, CAPITALE, CHIPS, CURDS, ESTRIE, SYRUP

SCHOOL = {
    "gps": "46.7784,-71.2837",
    "address": "1100, boul. de la Cafétéria, Québec (Québec) G1V 4E2",
    "city": {"code": "QC-03"},
    "country": {"code": "CAN"},
}
BILLING = {
    "name": "Centre de services scolaire de la Capitale",
    "address": "1900, rue Côté, Québec (Québec) G1N 3Y5",
    "email": "comptes.fournisseurs@cscapitale.example",
    "phone": "+1-418-555-0100",
}


def order(*lines: tuple[str, int], fulfillment: str | None = "livraison-froid") -> dict[str, Any]:
    body: dict[str, Any] = {
        "provider": {"id": CAPITALE},
        "items": [{"id": sku, "quantity": {"selected": {"count": n}}} for sku, n in lines],
    }
    if fulfillment:
        body["fulfillments"] = [
            {"id": fulfillment, "stops": [{"type": "end", "location": copy.deepcopy(SCHOOL)}]}
        ]
    return body


def breakup(quote: dict[str, Any]) -> dict[str, str]:
    return {line["title"]: line["price"]["value"] for line in quote["breakup"]}


def test_search_select_init_confirm_status(network: Network) -> None:
    # search: accent- and case-insensitive, filtered by certification, grouped by provider
    payload = network.call(
        "search",
        {
            "intent": {
                "item": {"descriptor": {"name": "ERABLE"}},
                "tags": [
                    {
                        "descriptor": {"code": "certifications"},
                        "list": [{"descriptor": {"code": "biologique_canada"}, "value": "oui"}],
                    }
                ],
            }
        },
    )
    OnSearchRequest.model_validate(payload)
    (provider,) = payload["message"]["catalog"]["providers"]
    assert provider["id"] == CAPITALE
    (syrup,) = provider["items"]
    assert syrup["id"] == SYRUP
    assert syrup["price"] == {"currency": "CAD", "value": "12.50"}
    assert syrup["quantity"]["available"] == {"count": 240}
    assert syrup["quantity"]["minimum"] == {"count": 6}
    assert {g["descriptor"]["code"] for g in syrup["tags"]} >= {
        "certifications",
        "conservation",
        "origine",
        "taxes",
        "langue_en",
    }
    # an ambient item may take every fulfilment; the cold ones are listed for curds
    assert set(syrup["fulfillment_ids"]) == {
        "livraison-froid",
        "livraison-seche",
        "cueillette-vanier",
    }
    assert {f["type"] for f in provider["fulfillments"]} == {"livraison", "cueillette"}
    assert [p["type"] for p in provider["payments"]] == ["POST-FULFILLMENT", "ON-FULFILLMENT"]

    # select: a quote with TPS/TVQ per line, zero-rated lines untaxed, delivery fee taxed
    transaction = str(uuid.uuid4())
    wanted = order((SYRUP, 10), (CURDS, 5), (CHIPS, 4))
    payload = network.call("select", {"order": wanted}, transaction)
    OnSelectRequest.model_validate(payload)
    quote = payload["message"]["order"]["quote"]
    lines = breakup(quote)
    assert lines["Sirop d'érable biologique 540 ml × 10"] == "125.00"
    assert lines["Fromage en grains 1 kg × 5"] == "93.75"
    assert lines["Croustilles à l'ÉRABLE × 4"] == "13.96"
    assert lines["Livraison réfrigérée"] == "25.00"
    # taxable: chips 13.96 (TPS 0.70, TVQ 1.39) + delivery 25.00 (TPS 1.25, TVQ 2.49)
    assert lines["TPS (5 %)"] == "1.95"
    assert lines["TVQ (9,975 %)"] == "3.88"
    assert quote["price"]["value"] == str(
        Decimal("125.00") + Decimal("93.75") + Decimal("13.96") + Decimal("25.00") + Decimal("5.83")
    )
    chips_taxes = next(
        line["item"]["tags"][0]
        for line in quote["breakup"]
        if line.get("item", {}).get("id") == CHIPS
    )
    assert {t["descriptor"]["code"]: t["value"] for t in chips_taxes["list"]} == {
        "taxable": "oui",
        "tps": "0.70",
        "tvq": "1.39",
    }

    # init: billing, payment after delivery net 30, cancellation terms
    initialized = {**wanted, "billing": BILLING, "payments": [{"type": "POST-FULFILLMENT"}]}
    payload = network.call("init", {"order": initialized}, transaction)
    draft = payload["message"]["order"]
    (payment,) = draft["payments"]
    assert payment["type"] == "POST-FULFILLMENT" and payment["status"] == "NOT-PAID"
    assert payment["params"] == {"amount": quote["price"]["value"], "currency": "CAD"}
    assert payment["time"]["duration"] == "P30D"
    assert draft["billing"]["name"] == BILLING["name"]
    assert draft["cancellation_terms"][0]["fulfillment_state"]["descriptor"]["code"] == "Pending"

    # confirm: an order, stock taken in the same transaction
    payload = network.call("confirm", {"order": initialized}, transaction)
    OnConfirmRequest.model_validate(payload)
    confirmed = payload["message"]["order"]
    assert confirmed["id"].startswith("CMD-") and confirmed["status"] == "ACTIVE"
    assert confirmed["fulfillments"][0]["state"]["descriptor"]["code"] == "Pending"
    engine = network.seller_app.state.service.engine
    with read_session(make_session_factory(engine)) as session:
        left = dict(session.execute(select(stock.c.item_id, stock.c.quantity)).all())
        assert left[network.items[SYRUP]] == 230
        assert left[network.items[CURDS]] == 95
        assert session.execute(select(orders.c.id)).scalars().all() == [confirmed["id"]]

    # a second confirm of the same transaction gets the same order, and takes nothing more
    again = network.call("confirm", {"order": initialized}, transaction)
    assert again["message"]["order"]["id"] == confirmed["id"]
    with read_session(make_session_factory(engine)) as session:
        assert (
            session.execute(
                select(stock.c.quantity).where(stock.c.item_id == network.items[SYRUP])
            ).scalar_one()
            == 230
        )

    # status
    payload = network.call("status", {"order_id": confirmed["id"]}, transaction)
    assert payload["message"]["order"]["id"] == confirmed["id"]
    assert (
        payload["message"]["order"]["fulfillments"][0]["state"]["descriptor"]["code"] == "Pending"
    )


def test_search_is_capped_with_a_count_of_the_rest(network: Network) -> None:
    everywhere = {"stops": [{"type": "end", "location": {"city": {"code": "*"}}}]}
    payload = network.call("search", {"intent": {"fulfillment": everywhere}})
    catalog = payload["message"]["catalog"]
    shown = sum(len(p["items"]) for p in catalog["providers"])
    assert shown == 3  # on_search_max_items in the fixture
    assert catalog["descriptor"]["code"] == "resultats:3/4"
    assert "3 produits affichés sur 4" in catalog["descriptor"]["short_desc"]


def _results(provider: dict[str, Any]) -> ProviderResults:
    found = parse_results(provider.get("tags"))
    assert found is not None, provider
    return found


def test_each_pole_says_how_many_matched_and_the_rest_comes_page_by_page(
    network: Network,
) -> None:
    """A capped answer names every pôle with matches, with its count (group ``resultats``),
    even one none of whose items fit; a ``search`` for one pôle with ``pagination`` brings
    the items after those already held."""
    everywhere = {"stops": [{"type": "end", "location": {"city": {"code": "*"}}}]}
    catalog = network.call("search", {"intent": {"fulfillment": everywhere}})["message"]["catalog"]
    by_id = {p["id"]: p for p in catalog["providers"]}
    assert set(by_id) == {CAPITALE, ESTRIE}
    assert _results(by_id[CAPITALE]) == ProviderResults(total=3, shown=3)
    assert _results(by_id[ESTRIE]) == ProviderResults(total=1, shown=0)
    assert by_id[ESTRIE]["items"] == []

    def page(provider: str, start: int, size: int | None = None) -> dict[str, Any]:
        intent = {
            "fulfillment": everywhere,
            "provider": {"id": provider},
            "tags": [Page(start, size).to_group()],
        }
        answer = network.call("search", {"intent": intent})["message"]["catalog"]
        assert [p["id"] for p in answer["providers"]] == [provider]
        return answer["providers"][0]

    estrie = page(ESTRIE, 0)
    assert [i["id"] for i in estrie["items"]] == [APPLES]
    assert _results(estrie) == ProviderResults(total=1, shown=1)
    first = page(CAPITALE, 0, 2)
    rest = page(CAPITALE, 2)
    assert _results(first) == ProviderResults(total=3, shown=2, start=0)
    assert _results(rest) == ProviderResults(total=3, shown=1, start=2)
    assert [i["id"] for i in first["items"] + rest["items"]] == [
        i["id"] for i in by_id[CAPITALE]["items"]
    ]


def test_a_bad_page_is_refused_with_its_path(network: Network) -> None:
    """A NACK naming the value at fault: a page past the first without a pôle, a bad count."""
    response, _ = network.post("search", {"intent": {"tags": [Page(2).to_group()]}})
    assert response.status_code == 400
    assert response.json()["error"]["paths"] == "message.intent.provider.id"
    assert "pagination" in response.json()["error"]["message"]
    group = Page(0).to_group()
    group["list"][0]["value"] = "-4"
    response, _ = network.post(
        "search", {"intent": {"provider": {"id": CAPITALE}, "tags": [group]}}
    )
    assert response.status_code == 400
    assert response.json()["error"]["paths"] == "message.intent.tags[0].list[0].value"


def test_refusals_carry_code_and_path(network: Network) -> None:
    """What the pôle cannot do is an ACK, then on_<action> carrying the error (ONDC's practice
    for 40002); a malformed request is a NACK and no callback follows."""

    def answered(action: str, message: dict[str, Any]) -> dict[str, Any]:
        payload = network.call(action, message)
        assert "message" not in payload, payload
        return payload["error"]

    error = answered("select", {"order": order((SYRUP, 300))})
    assert error["code"] == "40002"
    assert error["paths"] == "message.order.items[0].quantity.selected.count"
    assert "il reste 240" in error["message"]

    error = answered("select", {"order": order((SYRUP, 2))})
    assert error["code"] == "40010"
    assert error["paths"] == "message.order.items[0].quantity.selected.count"

    error = answered("select", {"order": order((SYRUP, 6), ("caviar-beluga", 1))})
    assert error["code"] == "30004"
    assert error["paths"] == "message.order.items[1].id"

    error = answered("select", {"order": {**order((SYRUP, 6)), "provider": {"id": "x"}}})
    assert (error["code"], error["paths"]) == ("30001", "message.order.provider.id")

    error = answered("select", {"order": order((CURDS, 1), fulfillment="livraison-seche")})
    assert (error["code"], error["paths"]) == ("40011", "message.order.items[0].id")

    far = order((SYRUP, 6))
    far["fulfillments"][0]["stops"][0]["location"]["city"] = {"code": "QC-09"}
    error = answered("select", {"order": far})
    assert error["code"] == "30009"

    cash = {**order((SYRUP, 6)), "billing": BILLING, "payments": [{"type": "PRE-ORDER"}]}
    error = answered("init", {"order": cash})
    assert (error["code"], error["paths"]) == ("40004", "message.order.payments[0].type")

    error = answered("confirm", {"order": {**order((SYRUP, 241)), "billing": BILLING}})
    assert error["code"] == "40002" and "il reste 240" in error["message"]

    error = answered("status", {"order_id": "CMD-inconnue"})
    assert (error["code"], error["paths"]) == ("30018", "message.order_id")

    error = answered("cancel", {"order_id": "CMD-1"})
    assert (error["code"], error["paths"]) == ("30018", "message.order_id")

    # malformed: NACK with the path, no callback
    error = network.refused("init", {"order": order((SYRUP, 6))})
    assert (error["code"], error["paths"]) == ("30000", "message.order.billing")

    error = network.refused(
        "search",
        {
            "intent": {
                "fulfillment": {"stops": [{"type": "end", "location": {"city": {"code": "QC-99"}}}]}
            }
        },
    )
    assert error["code"] == "30000"
    assert error["paths"] == "message.intent.fulfillment.stops[0].location.city.code"

    # junk: a NACK with a path, never a 500
    error = network.refused("select", {"order": {"items": "beaucoup"}})
    assert error["code"] == "30000" and error["paths"]
