"""An order's life after confirm, through real servers: the pôle moves the fulfilment through
its API, the buyer (verifying every signature through the registry) receives unsolicited
on_status messages up to COMPLETE; buyer and pôle cancellations with their terms, fee and
restock; updates of quantities and fulfilment; track, rating, support; illegal moves.

Refusals of well-formed requests come back as ACK + on_<action> carrying ``error``; malformed
requests get a NACK (seller_node/README.md, « Erreurs »)."""

from __future__ import annotations

import copy
import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select, update

from reseau_poles.network import InboundMessage
from reseau_poles.protocol.models import OnStatusRequest, parse_message
from reseau_poles.seller.repositories import api_keys as key_repo
from reseau_poles.seller.tables import order_lines, providers, stock
from reseau_poles.storage import make_session_factory, read_session, write_session

from .conftest import Network
from .support import CAPITALE, CHIPS, CURDS, ESTRIE, SYRUP

SCHOOL = {
    "gps": "46.7784,-71.2837",
    "address": "1100, boul. de la Cafétéria, Québec (Québec) G1V 4E2",
    "city": {"code": "QC-03"},
    "country": {"code": "CAN"},
}
BILLING = {
    "name": "Centre de services scolaire de la Capitale",
    "email": "comptes.fournisseurs@cscapitale.example",
}


def order(*lines: tuple[str, int], fulfillment: str = "livraison-froid") -> dict[str, Any]:
    return {
        "provider": {"id": CAPITALE},
        "items": [{"id": sku, "quantity": {"selected": {"count": n}}} for sku, n in lines],
        "fulfillments": [
            {"id": fulfillment, "stops": [{"type": "end", "location": copy.deepcopy(SCHOOL)}]}
        ],
        "billing": BILLING,
        "payments": [{"type": "POST-FULFILLMENT"}],
    }


def confirm(network: Network, *lines: tuple[str, int], **kwargs: Any) -> tuple[str, dict]:
    """select → init → confirm; returns the transaction id and the confirmed order."""
    transaction = str(uuid.uuid4())
    wanted = order(*lines, **kwargs)
    for action in ("select", "init", "confirm"):
        payload = network.call(action, {"order": wanted}, transaction)
        assert "error" not in payload, payload
    return transaction, payload["message"]["order"]


def api_key(network: Network, provider: str = CAPITALE) -> str:
    engine = network.seller_app.state.service.engine
    with write_session(make_session_factory(engine)) as session:
        return key_repo.create_api_key(session, provider, "tests")


def api(network: Network, method: str, path: str, key: str, body: Any = None) -> httpx.Response:
    return network.http.request(
        method, f"{network.seller_url}{path}", headers={"X-API-Key": key}, json=body
    )


def stock_of(network: Network, sku: str) -> int:
    engine = network.seller_app.state.service.engine
    with read_session(make_session_factory(engine)) as session:
        return int(
            session.execute(
                select(stock.c.quantity).where(stock.c.item_id == network.items[sku])
            ).scalar_one()
        )


def unsolicited(
    network: Network, transaction: str, seen: set[str], timeout: float = 10
) -> InboundMessage:
    """The next on_status of ``transaction`` the buyer received that is not in ``seen``."""
    buyer = network.buyer
    deadline = time.monotonic() + timeout
    with buyer.arrived:
        while True:
            for message_id, message in buyer.callbacks.items():
                if (
                    message_id not in seen
                    and message.action == "on_status"
                    and message.transaction_id == transaction
                ):
                    seen.add(message_id)
                    return message
            left = deadline - time.monotonic()
            assert left > 0, "aucun on_status spontané"
            buyer.arrived.wait(left)


def state_of(document: dict[str, Any]) -> str:
    return document["fulfillments"][0]["state"]["descriptor"]["code"]


def move(network: Network, key: str, order_id: str, state: str, **extra: Any) -> httpx.Response:
    return api(
        network,
        "POST",
        f"/api/providers/{CAPITALE}/orders/{order_id}/fulfillment",
        key,
        {"state": state, **extra},
    )


def test_full_flow_to_complete(network: Network) -> None:
    key = api_key(network)
    engine = network.seller_app.state.service.engine
    with write_session(make_session_factory(engine)) as session:
        session.execute(
            update(providers)
            .where(providers.c.id == CAPITALE)
            .values(phone="+1-418-555-0199", email="commandes@pole-capitale.example")
        )
    found = network.call("search", {"intent": {"item": {"descriptor": {"name": "érable"}}}})
    skus = {i["id"] for p in found["message"]["catalog"]["providers"] for i in p["items"]}
    assert SYRUP in skus
    transaction, confirmed = confirm(network, (SYRUP, 12), (CURDS, 4))
    order_id = confirmed["id"]
    seen: set[str] = set()

    # the pôle's list and detail
    listed = api(network, "GET", f"/api/providers/{CAPITALE}/orders", key).json()
    assert [o["id"] for o in listed["orders"]] == [order_id]
    assert listed["orders"][0]["fulfillment"]["state"] == "Pending"
    assert listed["total"] == 1 and listed["next_offset"] is None

    # tracking before the goods leave: ACK, then on_track with 40005
    payload = network.call("track", {"order_id": order_id}, transaction)
    assert payload["error"]["code"] == "40005" and payload["error"]["paths"] == "message.order_id"

    states = ["Packed", "Out-for-delivery", "Order-delivered"]
    for state in states:
        extra = {"tracking_url": "https://suivi.example/camion/7"} if state == states[1] else {}
        answer = move(network, key, order_id, state, **extra)
        assert answer.status_code == 200, answer.text
        assert answer.json()["fulfillment"]["state"] == state
        message = unsolicited(network, transaction, seen)
        OnStatusRequest.model_validate(message.payload)
        assert message.signer.subscriber_id == network.seller_keys.subscriber_id
        assert message.message_id not in {confirmed["id"]}
        document = message.payload["message"]["order"]
        assert document["id"] == order_id and state_of(document) == state
        if state == "Out-for-delivery":
            tracked = network.call("track", {"order_id": order_id}, transaction)
            assert tracked["message"]["tracking"] == {
                "id": "livraison-froid",
                "url": "https://suivi.example/camion/7",
                "status": "active",
            }
    assert document["status"] == "COMPLETE"

    # the same state again changes nothing and sends nothing
    assert move(network, key, order_id, "Order-delivered").status_code == 200

    detail = api(network, "GET", f"/api/providers/{CAPITALE}/orders/{order_id}", key).json()
    assert detail["status"] == "COMPLETE"
    assert [line["sku"] for line in detail["lines"]] == [SYRUP, CURDS]
    kinds = [event["kind"] for event in detail["events"]]
    assert kinds == ["confirmed", "fulfillment", "fulfillment", "fulfillment", "status"]
    assert all(event["at"].endswith("Z") for event in detail["events"])
    assert detail["events"][2]["detail"]["tracking_url"] == "https://suivi.example/camion/7"

    # buyer's status agrees
    status = network.call("status", {"order_id": order_id}, transaction)
    assert status["message"]["order"]["status"] == "COMPLETE"

    # rating after delivery; a bad score is refused with its path
    rated = network.call(
        "rating",
        {"ratings": [{"rating_category": "Order", "id": order_id, "value": "5"}]},
        transaction,
    )
    assert "error" not in rated
    bad = network.call(
        "rating", {"ratings": [{"rating_category": "Order", "id": order_id, "value": "11"}]}
    )
    assert (bad["error"]["code"], bad["error"]["paths"]) == ("30015", "message.ratings[0].value")

    support = network.call("support", {"support": {"ref_id": order_id}}, transaction)
    assert support["message"]["support"] == {
        "ref_id": order_id,
        "phone": "+1-418-555-0199",
        "email": "commandes@pole-capitale.example",
    }

    # a delivered order may not be cancelled, by the buyer or the pôle
    refused = network.call("cancel", {"order_id": order_id}, transaction)
    assert refused["error"]["code"] == "50001"
    answer = api(
        network,
        "POST",
        f"/api/providers/{CAPITALE}/orders/{order_id}/cancel",
        key,
        {"reason_code": "rupture"},
    )
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "transition_interdite"
    events = api(network, "GET", f"/api/providers/{CAPITALE}/orders/{order_id}", key).json()
    assert [e["kind"] for e in events["events"]][-2:] == ["rating", "support"]


def test_illegal_transitions_and_api_refusals(network: Network) -> None:
    key = api_key(network)
    _transaction, confirmed = confirm(network, (SYRUP, 6), fulfillment="cueillette-vanier")
    order_id = confirmed["id"]

    answer = move(network, key, order_id, "Order-delivered")  # not a pickup state
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "transition_interdite" and error["path"] == "state"

    answer = move(network, key, order_id, "Order-picked-up")  # skips Packed
    assert answer.status_code == 409 and "Packed" in answer.json()["error"]["message"]

    answer = move(network, key, order_id, "Téléporté")
    assert answer.status_code == 400 and answer.json()["error"]["path"] == "state"

    answer = move(network, key, order_id, "Packed", couleur="bleu")
    assert answer.status_code == 400 and answer.json()["error"]["path"] == "couleur"

    answer = api(network, "POST", f"/api/providers/{CAPITALE}/orders/{order_id}/fulfillment", key)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "json_invalide"

    answer = move(network, key, "CMD-inconnue", "Packed")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "commande_inconnue"

    # another pôle's key sees neither the order nor the list
    other = api_key(network, ESTRIE)
    assert move(network, other, order_id, "Packed").status_code == 403
    answer = api(network, "GET", f"/api/providers/{ESTRIE}/orders/{order_id}", other)
    assert answer.status_code == 404
    assert api(network, "GET", f"/api/providers/{CAPITALE}/orders", "rpv_faux").status_code == 401

    answer = api(network, "GET", f"/api/providers/{CAPITALE}/orders?limit=0", key)
    assert answer.status_code == 400 and answer.json()["error"]["path"] == "query.limit"
    answer = api(network, "GET", f"/api/providers/{CAPITALE}/orders?fulfillment_state=X", key)
    assert answer.status_code == 400

    for state in ("Packed", "Ready-for-pickup", "Order-picked-up"):
        assert move(network, key, order_id, state).status_code == 200
    answer = move(network, key, order_id, "Packed")  # out of a terminal state
    assert answer.status_code == 409 and "50002" in answer.json()["error"]["message"]
    done = api(network, "GET", f"/api/providers/{CAPITALE}/orders?status=COMPLETE", key).json()
    assert [o["id"] for o in done["orders"]] == [order_id]
    pending = api(
        network, "GET", f"/api/providers/{CAPITALE}/orders?fulfillment_state=Pending", key
    ).json()
    assert pending["orders"] == [] and pending["total"] == 0


def test_cancel_before_packed_is_free_and_restocks(network: Network) -> None:
    transaction, confirmed = confirm(network, (SYRUP, 10), (CURDS, 5))
    assert (stock_of(network, SYRUP), stock_of(network, CURDS)) == (230, 95)
    payload = network.call(
        "cancel", {"order_id": confirmed["id"], "cancellation_reason_id": "005"}, transaction
    )
    cancelled = payload["message"]["order"]
    assert cancelled["status"] == "CANCELLED" and state_of(cancelled) == "Cancelled"
    assert cancelled["cancellation"]["cancelled_by"] == "CONSUMER"
    assert cancelled["cancellation"]["reason"] == {"id": "005"}
    assert cancelled["quote"]["price"] == {"currency": "CAD", "value": "0.00"}
    assert (stock_of(network, SYRUP), stock_of(network, CURDS)) == (240, 100)
    # twice: refused, and nothing is given back twice
    again = network.call("cancel", {"order_id": confirmed["id"]}, transaction)
    assert again["error"]["code"] == "50001"
    assert stock_of(network, SYRUP) == 240
    # someone else's order is unknown to them
    stranger = network.call("cancel", {"order_id": "CMD-20260101-000000000000"})
    assert stranger["error"]["code"] == "30018"


def test_cancel_after_packed_has_the_fee_and_after_departure_is_refused(
    network: Network,
) -> None:
    key = api_key(network)
    transaction, confirmed = confirm(network, (SYRUP, 10))
    total = Decimal(confirmed["quote"]["price"]["value"])
    assert move(network, key, confirmed["id"], "Packed").status_code == 200
    payload = network.call("cancel", {"order_id": confirmed["id"]}, transaction)
    fee = (total / 10).quantize(Decimal("0.01"))
    assert payload["message"]["order"]["quote"]["price"]["value"] == str(fee)
    assert stock_of(network, SYRUP) == 240
    detail = api(network, "GET", f"/api/providers/{CAPITALE}/orders/{confirmed['id']}", key)
    assert detail.json()["cancellation"] == {
        "by": "buyer",
        "reason_code": "acheteur",
        "fee": str(fee),
    }

    transaction, confirmed = confirm(network, (SYRUP, 10))
    for state in ("Packed", "Out-for-delivery"):
        assert move(network, key, confirmed["id"], state).status_code == 200
    refused = network.call("cancel", {"order_id": confirmed["id"]}, transaction)
    assert (refused["error"]["code"], refused["error"]["paths"]) == ("50001", "message.order_id")
    assert stock_of(network, SYRUP) == 230

    # the pôle itself may still cancel (failed delivery): no fee, restocked, on_status
    seen: set[str] = set()
    answer = api(
        network,
        "POST",
        f"/api/providers/{CAPITALE}/orders/{confirmed['id']}/cancel",
        key,
        {"reason_code": "livraison_echouee", "message": "Camion en panne à Lévis"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["cancellation"]["by"] == "seller"
    assert stock_of(network, SYRUP) == 240
    message = None
    while message is None or message.payload["message"]["order"]["status"] != "CANCELLED":
        message = unsolicited(network, transaction, seen)
    assert message.payload["message"]["order"]["cancellation"]["cancelled_by"] == "PROVIDER"
    answer = api(
        network,
        "POST",
        f"/api/providers/{CAPITALE}/orders/{confirmed['id']}/cancel",
        key,
        {"reason_code": "x y"},
    )
    assert answer.status_code == 400 and answer.json()["error"]["path"] == "reason_code"


def test_updates_of_quantities_and_fulfilment(network: Network) -> None:
    key = api_key(network)
    transaction, confirmed = confirm(network, (SYRUP, 10), (CHIPS, 4))
    order_id = confirmed["id"]

    def update_items(*lines: tuple[str, int]) -> dict[str, Any]:
        items = [{"id": sku, "quantity": {"selected": {"count": n}}} for sku, n in lines]
        return network.call(
            "update",
            {"update_target": "order.items", "order": {"id": order_id, "items": items}},
            transaction,
        )

    # down: stock comes back, the quote follows at the agreed price
    payload = update_items((SYRUP, 6))
    updated = payload["message"]["order"]
    assert stock_of(network, SYRUP) == 234
    lines = {b["title"]: b["price"]["value"] for b in updated["quote"]["breakup"]}
    assert lines["Sirop d'érable biologique 540 ml × 6"] == "75.00"
    assert updated["payments"][0]["params"]["amount"] == updated["quote"]["price"]["value"]

    # up within stock, then beyond it: 40002 and nothing taken
    update_items((SYRUP, 20), (CHIPS, 50))
    assert (stock_of(network, SYRUP), stock_of(network, CHIPS)) == (220, 0)
    refused = update_items((CHIPS, 51))
    assert refused["error"]["code"] == "40002"
    assert refused["error"]["paths"] == "message.order.items[0].quantity.selected.count"
    assert stock_of(network, CHIPS) == 0
    assert update_items((SYRUP, 2))["error"]["code"] == "40010"  # below the minimum
    assert update_items((CURDS, 1))["error"]["code"] == "30013"  # not in the order
    assert update_items((SYRUP, 0), (CHIPS, 0))["error"]["code"] == "30013"
    update_items((CHIPS, 0))  # a line may go
    engine = network.seller_app.state.service.engine
    with read_session(make_session_factory(engine)) as session:
        kept = session.execute(
            select(order_lines.c.sku, order_lines.c.quantity).where(
                order_lines.c.order_id == order_id
            )
        ).all()
    assert [tuple(row) for row in kept] == [(SYRUP, 20)]
    assert stock_of(network, CHIPS) == 50

    # fulfilment: pickup instead of delivery while Pending (no delivery fee any more)
    payload = network.call(
        "update",
        {
            "update_target": "order.fulfillments",
            "order": {"id": order_id, "fulfillments": [{"id": "cueillette-vanier"}]},
        },
        transaction,
    )
    changed = payload["message"]["order"]
    assert changed["fulfillments"][0]["id"] == "cueillette-vanier"
    assert changed["quote"]["price"]["value"] == "250.00"
    assert changed["cancellation_terms"][-1]["fulfillment_state"]["descriptor"]["code"] == (
        "Ready-for-pickup"
    )
    detail = api(network, "GET", f"/api/providers/{CAPITALE}/orders/{order_id}", key).json()
    assert detail["fulfillment"]["type"] == "cueillette" and detail["total"]["value"] == "250.00"

    # once packed the fulfilment stays; once picked up, nothing changes any more
    assert move(network, key, order_id, "Packed").status_code == 200
    refused = network.call(
        "update",
        {
            "update_target": "order.fulfillments",
            "order": {"id": order_id, "fulfillments": [{"id": "livraison-seche"}]},
        },
        transaction,
    )
    assert refused["error"]["code"] == "50002"
    assert move(network, key, order_id, "Order-picked-up").status_code == 200
    assert update_items((SYRUP, 6))["error"]["code"] == "50002"
    billing = {**BILLING, "name": "CSS de la Capitale — comptabilité"}
    paid = network.call(
        "update",
        {"update_target": "order.billing", "order": {"id": order_id, "billing": billing}},
        transaction,
    )
    assert paid["message"]["order"]["billing"]["name"] == billing["name"]
    assert stock_of(network, SYRUP) == 220


def test_business_refusals_are_callbacks_and_malformed_requests_nacks(network: Network) -> None:
    """ACK + on_<action> with error for what the pôle cannot do; NACK for what is malformed."""
    payload = network.call("select", {"order": order((SYRUP, 300))})
    assert "message" not in payload
    assert payload["error"]["code"] == "40002"
    assert payload["error"]["paths"] == "message.order.items[0].quantity.selected.count"
    parse_message("on_select", _raw(payload))  # a valid Beckn callback

    for action in ("select", "init", "confirm"):
        payload = network.call(action, {"order": order((SYRUP, 6), ("caviar", 1))})
        assert (payload["error"]["code"], payload["error"]["paths"]) == (
            "30004",
            "message.order.items[1].id",
        )
    status = network.call("status", {"order_id": "CMD-inconnue"})
    assert status["error"]["code"] == "30018"
    # no order in this transaction yet: rating and support are refused, not NACKed
    assert network.call("rating", {"ratings": [{"value": "4"}]})["error"]["code"] == "30018"
    assert network.call("support", {"support": {}})["error"]["code"] == "50004"

    error = network.refused("select", {"order": {"items": "beaucoup"}})
    assert error["code"] == "30000" and error["paths"]
    error = network.refused("init", {"order": order((SYRUP, 6)) | {"billing": {}}})
    assert (error["code"], error["paths"]) == ("30000", "message.order.billing")
    error = network.refused("update", {"update_target": "order.items"})
    assert error["code"] == "30000"
    # an unknown order is the pôle's answer, not a format error
    payload = network.call(
        "update", {"update_target": "order.items", "order": {"id": "CMD-1", "items": []}}
    )
    assert (payload["error"]["code"], payload["error"]["paths"]) == ("30018", "message.order.id")


def _raw(payload: dict[str, Any]) -> bytes:
    import json

    return json.dumps(payload).encode()


def test_order_list_pages(network: Network) -> None:
    key, limit = api_key(network), 2
    ids = [confirm(network, (SYRUP, 6))[1]["id"] for _ in range(3)]
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = api(
            network,
            "GET",
            f"/api/providers/{CAPITALE}/orders?limit={limit}&offset={offset}",
            key,
        ).json()
        assert page["total"] == 3 and len(page["orders"]) <= limit
        seen += [o["id"] for o in page["orders"]]
        offset = page["next_offset"]
    assert sorted(seen) == sorted(ids) and len(set(seen)) == 3
