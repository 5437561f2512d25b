"""The pôle's view of an order, through real servers: the buyer's purchase-order number, the
buyer organisation and the delivery (site, address, window, contact) as fields of the order
detail, the order list (with its PO and delivery-day filters) and every ``order.*`` webhook;
the PO number kept in the stored document through updates; a malformed PO tag refused; any
stored document read without failing (hypothesis)."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reseau_poles.protocol.profile import parse_purchase_order, purchase_order_group
from reseau_poles.seller.services.order_view import order_columns, order_view
from reseau_poles.storage import utcnow

from .conftest import Network
from .support import CAPITALE, CHIPS, SYRUP
from .test_lifecycle import api, api_key
from .test_webhooks import Receiver, receiver, subscribe, webhook_rows

# A delivery day ahead (the pôle refuses a window in the past), its neighbours, as text.
_DAY = (utcnow() + timedelta(days=3)).date()
DAY, NEXT, BEFORE = (str(_DAY + timedelta(days=n)) for n in (0, 1, -1))

__all__ = ["receiver"]  # the fixture, for pytest

SITE = {
    "descriptor": {"name": "École primaire des Berges — cuisine"},
    "gps": "46.7784,-71.2837",
    "address": "1100, boul. de la Cafétéria, Québec (Québec) G1V 4E2",
    "city": {"code": "QC-03"},
    "country": {"code": "CAN"},
}
BILLING = {
    "name": "Service des finances",
    "organization": {"descriptor": {"name": "Centre de services scolaire de la Capitale"}},
    "email": "comptes.fournisseurs@cscapitale.example",
    "phone": "418 555-0100",
}


def po_tags(number: str) -> list[dict[str, Any]]:
    return [purchase_order_group(number)]


def beckn_order(
    *lines: tuple[str, int],
    po: str | None = "BC-2026-0042",
    window: tuple[str, str] | None = (f"{DAY}T13:00:00Z", f"{DAY}T15:00:00Z"),
    billing: dict[str, Any] | None = None,
    instructions: str = "Quai de réception, porte 3.",
) -> dict[str, Any]:
    stop: dict[str, Any] = {
        "type": "end",
        "location": copy.deepcopy(SITE),
        "person": {"name": "Mme Tremblay"},
        "contact": {"phone": "418 555-0199", "email": "cuisine@berges.example"},
        "instructions": {"short_desc": instructions},
    }
    if window:
        stop["time"] = {"range": {"start": window[0], "end": window[1]}}
    order: dict[str, Any] = {
        "provider": {"id": CAPITALE},
        "items": [{"id": sku, "quantity": {"selected": {"count": n}}} for sku, n in lines],
        "fulfillments": [{"id": "livraison-froid", "stops": [stop]}],
        "billing": billing or BILLING,
        "payments": [{"type": "POST-FULFILLMENT"}],
    }
    if po:
        order["tags"] = po_tags(po)
    return order


def place(network: Network, wanted: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    transaction = str(uuid.uuid4())
    for action in ("select", "init", "confirm"):
        payload = network.call(action, {"order": wanted}, transaction)
        assert "error" not in payload, payload
    return transaction, payload["message"]["order"]


def test_po_buyer_and_delivery_in_orders_and_webhooks(network: Network, receiver: Receiver) -> None:
    key = api_key(network)
    subscribe(network, key, receiver)  # every event
    transaction, confirmed = place(network, beckn_order((SYRUP, 6), (CHIPS, 2)))
    # The buyer gets its PO number back in on_confirm.
    assert parse_purchase_order(confirmed["tags"]) == "BC-2026-0042"

    base = f"/api/providers/{CAPITALE}/orders"
    detail = api(network, "GET", f"{base}/{confirmed['id']}", key).json()
    assert detail["purchase_order_number"] == "BC-2026-0042"
    assert parse_purchase_order(detail["document"]["tags"]) == "BC-2026-0042"
    assert detail["buyer"] == {
        "name": "Centre de services scolaire de la Capitale",
        "email": "comptes.fournisseurs@cscapitale.example",
        "phone": "418 555-0100",
        "address": None,
        "tax_id": None,
        "bap_id": network.buyer.keys.subscriber_id,
        "transaction_id": transaction,
    }
    assert detail["delivery"] == {
        "site": "École primaire des Berges — cuisine",
        "address": SITE["address"],
        "region": "QC-03",
        "gps": "46.7784,-71.2837",
        "window": {"start": f"{DAY}T13:00:00.000Z", "end": f"{DAY}T15:00:00.000Z"},
        "contact": {
            "name": "Mme Tremblay",
            "phone": "418 555-0199",
            "email": "cuisine@berges.example",
        },
        "instructions": "Quai de réception, porte 3.",
    }

    # The list shows the same fields and filters on them.
    _t, other = place(network, beckn_order((SYRUP, 6), po="BC-2026-0099", window=None))
    listed = api(network, "GET", base, key).json()
    assert [o["purchase_order_number"] for o in listed["orders"]] == [
        "BC-2026-0099",
        "BC-2026-0042",
    ]
    assert listed["orders"][1]["delivery"] == detail["delivery"]
    assert listed["orders"][1]["buyer"]["name"] == "Centre de services scolaire de la Capitale"
    by_po = api(network, "GET", f"{base}?purchase_order_number=BC-2026-0099", key).json()
    assert [o["id"] for o in by_po["orders"]] == [other["id"]] and by_po["total"] == 1
    by_day = api(network, "GET", f"{base}?delivery_date={DAY}", key).json()
    assert [o["id"] for o in by_day["orders"]] == [confirmed["id"]]
    assert api(network, "GET", f"{base}?delivery_date={NEXT}", key).json()["total"] == 0
    refused = api(network, "GET", f"{base}?delivery_date=1er-decembre", key)
    assert refused.status_code == 400
    assert refused.json()["error"]["path"] == "query.delivery_date"

    # A change of quantities keeps the PO number (document, columns, webhook).
    network.call(
        "update",
        {
            "update_target": "order.items",
            "order": {
                "id": confirmed["id"],
                "items": [{"id": SYRUP, "quantity": {"selected": {"count": 8}}}],
            },
        },
        transaction,
    )
    detail = api(network, "GET", f"{base}/{confirmed['id']}", key).json()
    assert detail["purchase_order_number"] == "BC-2026-0042"
    assert parse_purchase_order(detail["document"]["tags"]) == "BC-2026-0042"
    assert detail["delivery"]["window"]["start"] == f"{DAY}T13:00:00.000Z"
    # Another truck, nothing said of the stop: the window, site and contact stay.
    moved = network.call(
        "update",
        {
            "update_target": "order.fulfillments",
            "order": {"id": confirmed["id"], "fulfillments": [{"id": "livraison-seche"}]},
        },
        transaction,
    )
    assert "error" not in moved, moved
    detail = api(network, "GET", f"{base}/{confirmed['id']}", key).json()
    assert detail["fulfillment"]["id"] == "livraison-seche"
    assert detail["delivery"]["window"]["start"] == f"{DAY}T13:00:00.000Z"
    assert detail["delivery"]["site"] == "École primaire des Berges — cuisine"
    assert detail["purchase_order_number"] == "BC-2026-0042"
    by_day = api(network, "GET", f"{base}?delivery_date={DAY}", key).json()
    assert [o["id"] for o in by_day["orders"]] == [confirmed["id"]]
    cancelled = api(network, "POST", f"{base}/{confirmed['id']}/cancel", key, {"reason_code": "x"})
    assert cancelled.status_code == 200

    events = [json.loads(row["body"]) for row in webhook_rows(network)]
    mine = [e for e in events if e["data"]["order_id"] == confirmed["id"]]
    assert [e["type"] for e in mine] == [
        "order.confirmed",
        "order.updated",
        "order.updated",
        "order.cancelled",
    ]
    for event in mine:
        data = event["data"]
        assert data["purchase_order_number"] == "BC-2026-0042", event["type"]
        assert data["buyer"]["name"] == "Centre de services scolaire de la Capitale"
        assert data["delivery"]["site"] == "École primaire des Berges — cuisine"
        assert data["delivery"]["window"]["start"] == f"{DAY}T13:00:00.000Z"
        assert data["delivery"]["contact"]["phone"] == "418 555-0199"
    (other_event,) = [e for e in events if e["data"]["order_id"] == other["id"]]
    assert other_event["data"]["purchase_order_number"] == "BC-2026-0099"
    assert other_event["data"]["delivery"]["window"] is None


def test_an_order_without_po_and_a_malformed_po_tag(network: Network) -> None:
    key = api_key(network)
    plain = beckn_order((SYRUP, 6), po=None, billing={"name": "CPE Les Bourgeons"})
    _t, confirmed = place(network, plain)
    assert "tags" not in confirmed
    detail = api(network, "GET", f"/api/providers/{CAPITALE}/orders/{confirmed['id']}", key)
    assert detail.json()["purchase_order_number"] is None
    assert detail.json()["buyer"]["name"] == "CPE Les Bourgeons"

    too_long = beckn_order((SYRUP, 6), po=None)
    too_long["tags"] = po_tags("B" * 60)
    too_long["tags"][0]["list"][0]["value"] = "B" * 65
    error = network.refused("init", {"order": too_long})
    assert error["code"] == "30000" and error["paths"] == "message.order.tags[0].list[0].value"
    assert "au plus 64" in error["message"]
    empty = beckn_order((SYRUP, 6), po=None)
    empty["tags"] = [{"descriptor": {"code": "bon_de_commande"}, "list": []}]
    error = network.refused("confirm", {"order": empty})
    assert error["code"] == "30000" and error["paths"].startswith("message.order.tags[0]")


@given(st.text(min_size=1, max_size=64).filter(lambda text: text.strip() == text and text))
def test_purchase_order_tag_round_trip(number: str) -> None:
    assert parse_purchase_order([purchase_order_group(number)]) == number


_KEYS = st.sampled_from(
    [
        "billing",
        "organization",
        "descriptor",
        "name",
        "email",
        "fulfillments",
        "stops",
        "type",
        "end",
        "location",
        "address",
        "city",
        "code",
        "time",
        "range",
        "start",
        "timestamp",
        "person",
        "contact",
        "phone",
        "instructions",
        "short_desc",
        "tags",
        "list",
        "value",
        "bon_de_commande",
        "numero",
        "gps",
    ]
)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=30)
    | _KEYS
    | st.sampled_from([f"{DAY}T13:00:00Z", f"{DAY}T08:00:00-05:00", "hier"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=40,
)


@given(st.dictionaries(_KEYS, _JSON, max_size=6))
def test_order_view_reads_any_stored_document_without_failing(document: dict[str, Any]) -> None:
    view = order_view(document)
    assert set(view) == {"purchase_order_number", "buyer", "delivery"}
    number = view["purchase_order_number"]
    assert number is None or (isinstance(number, str) and 0 < len(number) <= 64)
    window = view["delivery"]["window"]
    assert window is None or window["start"].endswith("Z")
    columns = order_columns(document)
    assert columns["purchase_order_number"] == number
    assert (columns["delivery_start"] is None) == (window is None)
    for field in ("name", "email", "phone", "address", "tax_id"):
        assert view["buyer"][field] is None or isinstance(view["buyer"][field], str)
