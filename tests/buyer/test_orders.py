"""Orders through the buyer node: real registry, real seller nodes, the buyer's /api/orders.

select → init → confirm with a wait and by polling, the seller's refusals with their code,
callbacks refused (unknown transaction, another seller, forged), exact duplicates ACKed once
stored, history with filters and paging, cancel, unsolicited on_status from the seller's
fulfilment API, webhooks to the organisation's system. SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from reseau_poles.buyer.repositories import orders as order_repo
from reseau_poles.buyer.repositories import organisations as repo
from reseau_poles.buyer.repositories import searches as search_repo
from reseau_poles.protocol.models import format_datetime
from reseau_poles.seller.repositories import api_keys as key_repo
from reseau_poles.storage import (
    make_engine,
    make_session_factory,
    read_session,
    utcnow,
    write_session,
)
from tests.seller.support import CAPITALE, CHIPS, SYRUP

from .conftest import World

SCHOOL = {
    "type": "livraison",
    "id": "livraison-froid",
    "address": "1100, boul. de la Cafétéria, Québec (Québec) G1V 4E2",
    "gps": "46.7784,-71.2837",
    "region": "QC-03",
    "contact": {"name": "Cuisine centrale", "phone": "418 555-0199"},
    "instructions": "Quai de réception, porte 3.",
}
BILLING = {
    "name": "Centre de services scolaire de la Capitale",
    "address": "1900, rue Côté, Québec (Québec) G1N 3Y5",
    "email": "comptes.fournisseurs@cscapitale.example",
}
WAIT = {"wait_ms": "10000"}
# A delivery day three days ahead: past the pôle's 24 h of notice, whatever the day.
DAY = (utcnow() + timedelta(days=3)).date().isoformat()


def order_body(world: World, seller: str = "capitale", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "provider": {"bpp_id": world.sellers[seller], "id": CAPITALE},
        "items": [{"id": SYRUP, "quantity": 12}, {"id": CHIPS, "quantity": 4}],
        "fulfilment": SCHOOL,
        "billing": BILLING,
        "payment": {"type": "POST-FULFILLMENT", "net_days": 30},
        "purchase_order_number": "BC-2026-0042",
        "delivery_window": {"start": f"{DAY}T13:00:00Z", "end": f"{DAY}T16:00:00-05:00"},
    }
    body.update(changes)
    return body


def create(world: World, body: dict[str, Any]) -> str:
    response = world.api("POST", "/api/orders", json=body)
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == f"/api/orders/{response.json()['id']}"
    return str(response.json()["id"])


def read(world: World, order_id: str, **params: str) -> dict[str, Any]:
    response = world.api("GET", f"/api/orders/{order_id}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def act(world: World, order_id: str, action: str, body: Any = None, **params: str) -> Any:
    response = world.api("POST", f"/api/orders/{order_id}/{action}", json=body, params=params)
    assert response.status_code in (200, 202), response.text
    return response.json()


def poll(world: World, order_id: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        document = read(world, order_id)
        if document["pending"] is None:
            return document
        assert time.monotonic() < deadline, document
        time.sleep(0.05)


def confirmed_order(world: World, seller: str = "capitale", **changes: Any) -> dict[str, Any]:
    order_id = create(world, order_body(world, seller, **changes))
    assert read(world, order_id, **WAIT)["state"] == "selected"
    assert act(world, order_id, "init", {}, **WAIT)["state"] == "initialized"
    document = act(world, order_id, "confirm", {}, **WAIT)
    assert document["state"] == "confirmed", document
    return dict(document)


def test_select_init_confirm_with_wait_and_with_polling(world: World) -> None:
    # A search first: the order lines keep what the catalog said (certifications, origin).
    searched = world.results(world.search(text="erable", region="QC-03"), wait_ms=10_000)
    assert searched["complete"]

    started = time.monotonic()
    order_id = create(world, order_body(world))
    quoted = read(world, order_id, **WAIT)
    assert time.monotonic() - started < 5
    assert quoted["state"] == "selected" and quoted["pending"] is None and quoted["error"] is None
    assert quoted["provider"]["id"] == CAPITALE
    assert quoted["provider"]["name"] == "Pôle agroalimentaire de la Capitale"
    # 12 × 12.50 + 4 × 3.49 + delivery 25.00; taxes on the chips and the delivery only
    assert quoted["quote"]["price"] == {"currency": "CAD", "value": "194.79"}
    assert quoted["total"] == {"currency": "CAD", "value": "194.79"}
    lines = {line["item_id"]: line for line in quoted["lines"]}
    assert lines[SYRUP]["quantity"] == 12 and lines[SYRUP]["unit_price"] == "12.50"
    assert lines[SYRUP]["amount"] == "150.00" and lines[SYRUP]["taxable"] is False
    assert lines[SYRUP]["certifications"] == ["aliments_du_quebec", "biologique_canada"]
    assert lines[SYRUP]["origin_region"] == "QC-12"
    assert lines[SYRUP]["producer"] == "Érablière du Rang 4"
    assert lines[CHIPS]["amount"] == "13.96" and lines[CHIPS]["taxable"] is True
    assert (lines[CHIPS]["tps"], lines[CHIPS]["tvq"]) == ("0.70", "1.39")
    assert quoted["fulfillment"]["id"] == "livraison-froid"
    assert "init" in quoted["allowed_actions"] and "confirm" not in quoted["allowed_actions"]

    # init by polling: 202 at once, the answer a little later
    started_init = act(world, order_id, "init")
    assert set(started_init) >= {"id", "action", "message_id", "order_url"}
    initialized = poll(world, order_id)
    assert initialized["state"] == "initialized"
    assert initialized["payment"] == {"type": "POST-FULFILLMENT", "net_days": 30}
    assert initialized["billing"]["name"] == BILLING["name"]

    # confirm with a wait on the request itself: 200 with the order once answered
    response = world.api("POST", f"/api/orders/{order_id}/confirm", params=WAIT)
    assert response.status_code == 200, response.text
    confirmed = response.json()
    assert confirmed["state"] == "confirmed" and confirmed["status"] == "ACTIVE"
    assert confirmed["seller_order_id"].startswith("CMD-")
    assert confirmed["fulfillment"]["state"] == "Pending"
    assert confirmed["confirmed_at"] is not None
    assert confirmed["purchase_order_number"] == "BC-2026-0042"
    assert confirmed["delivery_window"] == {
        "start": f"{DAY}T13:00:00.000Z",
        "end": f"{DAY}T21:00:00.000Z",
    }
    # Every state change with its time, in order.
    changes = [(e["from"], e["to"]) for e in confirmed["events"] if e["kind"] == "state_changed"]
    assert changes == [
        ("new", "selected"),
        ("selected", "initialized"),
        ("initialized", "confirmed"),
    ]
    sent = [e["action"] for e in confirmed["events"] if e["kind"] == "request_sent"]
    assert sent == ["select", "init", "confirm"]
    received = [e["action"] for e in confirmed["events"] if e["kind"] == "callback"]
    assert received == ["on_select", "on_init", "on_confirm"]
    times = [e["at"] for e in confirmed["events"]]
    assert times == sorted(times) and all(t.endswith("Z") for t in times)

    # The seller's own status: same order, ACTIVE, Pending.
    status = act(world, order_id, "status", None, **WAIT)
    assert status["status"] == "ACTIVE" and status["pending"] is None
    assert [e["action"] for e in status["events"] if e["kind"] == "callback"][-1] == "on_status"

    # What the tables keep: every callback, every event, the terms, the life cycle.
    with read_session(world.service.factory) as session:
        assert search_repo.count_callbacks(session, order_id) == 4
        assert len(order_repo.events_of(session, order_id)) == len(status["events"])
        row = order_repo.get_order(session, order_id)
        assert row is not None and row["payment_net_days"] == 30
        assert row["lifecycle"]["phase"] == "confirmed"


def test_the_sellers_refusal_surfaces_with_its_code_and_path(world: World) -> None:
    order_id = create(world, order_body(world, items=[{"id": CHIPS, "quantity": 51}]))
    refused = read(world, order_id, **WAIT)
    assert refused["pending"] is None and refused["state"] == "new"
    error = refused["error"]
    assert error["code"] == "40002" and error["action"] == "select"
    assert "il reste 50" in error["message"]
    assert error["path"] == "message.order.items[0].quantity.selected.count"
    assert any(e["kind"] in ("request_refused", "callback_error") for e in refused["events"])

    # The cold chain: curds cannot travel in the dry truck (the seller's rule, its code).
    from tests.seller.support import CURDS

    dry = dict(SCHOOL, id="livraison-seche")
    other = create(world, order_body(world, items=[{"id": CURDS, "quantity": 2}], fulfilment=dry))
    assert read(world, other, **WAIT)["error"]["code"] == "40011"


def test_bad_requests_get_a_clear_answer(world: World) -> None:
    body = order_body(world)
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        (
            {**body, "items": [{"id": SYRUP, "quantity": 0}]},
            400,
            "parametres_invalides",
            "items.0.quantity",
        ),
        ({**body, "items": []}, 400, "parametres_invalides", "items"),
        (
            {**body, "items": [{"id": SYRUP, "quantity": 6}, {"id": SYRUP, "quantity": 7}]},
            400,
            "parametres_invalides",
            "items",
        ),
        ({**body, "fulfilment": {"type": "livraison"}}, 400, "parametres_invalides", "fulfilment"),
        (
            {**body, "fulfilment": {**SCHOOL, "region": "QC-99"}},
            400,
            "parametres_invalides",
            "fulfilment.region",
        ),
        (
            {**body, "payment": {"type": "PRE-ORDER", "net_days": 30}},
            400,
            "parametres_invalides",
            "payment",
        ),
        (
            {
                **body,
                "delivery_window": {"start": "2026-12-01T16:00:00Z", "end": "2026-12-01T13:00:00Z"},
            },
            400,
            "parametres_invalides",
            "delivery_window",
        ),
        ({**body, "surprise": 1}, 400, "parametres_invalides", "surprise"),
        (
            {**body, "billing": {**BILLING, "email": "pas-un-courriel"}},
            400,
            "parametres_invalides",
            "billing.email",
        ),
        (
            {**body, "fulfilment": {**SCHOOL, "gps": "nord"}},
            400,
            "parametres_invalides",
            "fulfilment.gps",
        ),
        (
            {**body, "provider": {"bpp_id": "inconnu.example", "id": CAPITALE}},
            400,
            "vendeur_inconnu",
            "provider.bpp_id",
        ),
    ]
    for data, status, code, path in cases:
        response = world.api("POST", "/api/orders", json=data)
        assert response.status_code == status, (data, response.text)
        assert response.json()["error"]["code"] == code, response.text
        assert response.json()["error"]["path"] == path, response.text
    junk = world.api(
        "POST", "/api/orders", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert junk.status_code == 400 and junk.json()["error"]["code"] == "json_invalide"
    assert world.api("POST", "/api/orders", key="rpa_faux", json=body).status_code == 401
    with httpx.Client(timeout=20) as anonymous:
        assert anonymous.post(world.buyer_url + "/api/orders", json=body).status_code == 401

    unknown = world.api("GET", f"/api/orders/{uuid.uuid4()}")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "commande_inconnue"
    order_id = create(world, body)
    assert world.api("POST", f"/api/orders/{order_id}/payer", json={}).status_code == 404
    # One request at a time: init while select is unanswered (or right after) is a 409 or goes.
    read(world, order_id, **WAIT)
    early = world.api("POST", f"/api/orders/{order_id}/confirm", json={})
    assert early.status_code == 409, early.text
    assert early.json()["error"]["code"] == "action_impossible"
    assert "40001" in early.json()["error"]["message"]
    bad_cancel = world.api("POST", f"/api/orders/{order_id}/cancel", json={})
    assert bad_cancel.status_code == 400 and bad_cancel.json()["error"]["path"] == "reason_code"
    no_body = world.api("POST", f"/api/orders/{order_id}/status", json={"x": 1})
    assert no_body.status_code == 400 and no_body.json()["error"]["path"] == "x"
    assert world.api("GET", f"/api/orders/{order_id}?wait_ms=abc").status_code == 400

    # Another organisation sees nothing of it.
    with write_session(world.service.factory) as session:
        repo.add_organisation(session, "chu-sherbrooke", "CHU de Sherbrooke")
        other_key = repo.create_api_key(session, "chu-sherbrooke")
    assert world.api("GET", f"/api/orders/{order_id}", key=other_key).status_code == 404
    assert world.api("POST", f"/api/orders/{order_id}/init", key=other_key).status_code == 404
    assert world.api("GET", "/api/orders", key=other_key).json()["total"] == 0


def test_order_history_filters_and_pages(world: World) -> None:
    before = format_datetime(utcnow())
    confirmed = confirmed_order(world)
    selected = create(world, order_body(world, "estrie"))
    assert read(world, selected, **WAIT)["state"] == "selected"
    after = format_datetime(utcnow())

    everything = world.api("GET", "/api/orders").json()
    assert everything["total"] == 2 and everything["next_offset"] is None
    assert [o["id"] for o in everything["orders"]] == [selected, confirmed["id"]]
    only = world.api("GET", "/api/orders", params={"state": "confirmed"}).json()
    assert [o["id"] for o in only["orders"]] == [confirmed["id"]]
    assert only["orders"][0]["seller_order_id"] == confirmed["seller_order_id"]
    by_seller = world.api("GET", "/api/orders", params={"provider": world.sellers["estrie"]})
    assert [o["id"] for o in by_seller.json()["orders"]] == [selected]
    by_pole = world.api("GET", "/api/orders", params={"provider": CAPITALE}).json()
    assert by_pole["total"] == 2
    window = {"since": before, "until": after}
    assert world.api("GET", "/api/orders", params=window).json()["total"] == 2
    assert world.api("GET", "/api/orders", params={"since": after}).json()["total"] == 0
    first = world.api("GET", "/api/orders", params={"limit": "1"}).json()
    assert len(first["orders"]) == 1 and first["next_offset"] == 1
    second = world.api("GET", "/api/orders", params={"limit": "1", "offset": "1"}).json()
    assert second["orders"][0]["id"] == confirmed["id"] and second["next_offset"] is None
    for params, path in (
        ({"state": "livree"}, "state"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"since": "hier"}, "since"),
        ({"until": "2026-11-01T00:00:00"}, "until"),
        # The calendar's edges: out of the network's bounds, an answer, not a 500.
        ({"since": "0001-01-01T00:00:00+14:00"}, "since"),
        ({"until": "9999-12-31T23:59:59-14:00"}, "until"),
        ({"since": "9999-12-31T00:00:00Z"}, "since"),
    ):
        response = world.api("GET", "/api/orders", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["error"]["path"] == path


def test_cancel_and_the_life_cycle_rules(world: World) -> None:
    order = confirmed_order(world)
    order_id = order["id"]
    # Nothing delivered yet: no rating.
    early = world.api("POST", f"/api/orders/{order_id}/rating", json={"value": 5})
    assert early.status_code == 409 and early.json()["error"]["code"] == "action_impossible"
    tracked = act(world, order_id, "track", None, **WAIT)
    assert tracked["pending"] is None
    assert [e["action"] for e in tracked["events"] if e["kind"] in ("callback", "callback_error")][
        -1
    ] == "on_track"
    # The test pôle publishes no support contact: the seller says so in its on_support.
    helped = act(world, order_id, "support", {"email": "cuisine@css.example"}, **WAIT)
    assert helped["pending"] is None
    assert helped["error"]["code"] == "50004" and helped["error"]["source"] == "callback"
    assert helped["error"]["path"] == "message.support.ref_id"

    # Change a quantity: the seller takes the stock and quotes again.
    updated = act(world, order_id, "update", {"items": [{"id": SYRUP, "quantity": 18}]}, **WAIT)
    assert updated["error"] is None and updated["pending"] is None, updated
    lines = {line["item_id"]: line for line in updated["lines"]}
    assert lines[SYRUP]["quantity"] == 18 and lines[SYRUP]["amount"] == "225.00"
    assert updated["total"]["value"] == "269.79"
    both = world.api("POST", f"/api/orders/{order_id}/update", json={"items": [], "x": 1})
    assert both.status_code == 400
    neither = world.api("POST", f"/api/orders/{order_id}/update", json={})
    assert neither.status_code == 400 and neither.json()["error"]["code"] == "parametres_invalides"

    cancelled = act(
        world, order_id, "cancel", {"reason_code": "001", "description": "Cuisine fermée."}, **WAIT
    )
    assert cancelled["status"] == "CANCELLED" and cancelled["state"] == "cancelled", cancelled
    assert cancelled["fulfillment"]["state"] == "Cancelled"
    assert ("confirmed", "cancelled") in [
        (e["from"], e["to"]) for e in cancelled["events"] if e["kind"] == "state_changed"
    ]
    again = world.api("POST", f"/api/orders/{order_id}/cancel", json={"reason_code": "001"})
    assert again.status_code == 409 and "50001" in again.json()["error"]["message"]


def seller_key(tmp_path: Path, name: str = "capitale") -> str:
    engine = make_engine(f"sqlite:///{tmp_path / f'{name}.sqlite'}")
    try:
        with write_session(make_session_factory(engine)) as session:
            return key_repo.create_api_key(session, CAPITALE, "tests acheteur")
    finally:
        engine.dispose()


def test_unsolicited_on_status_from_the_sellers_fulfilment_api(
    world: World, tmp_path: Path
) -> None:
    order = confirmed_order(world)
    seller_url = order["provider"]["bpp_uri"]
    key = seller_key(tmp_path)
    states = ["Packed", "Out-for-delivery", "Order-delivered"]
    for state in states:
        moved = world.http.post(
            f"{seller_url}/api/providers/{CAPITALE}/orders/{order['seller_order_id']}/fulfillment",
            json={"state": state},
            headers={"X-API-Key": key},
        )
        assert moved.status_code == 200, moved.text
        deadline = time.monotonic() + 10
        while read(world, order["id"])["fulfillment"]["state"] != state:
            assert time.monotonic() < deadline, f"on_status {state} jamais reçu"
            time.sleep(0.05)
    done = read(world, order["id"])
    assert done["status"] == "COMPLETE" and done["state"] == "completed"
    unsolicited = [
        e for e in done["events"] if e["action"] == "on_status" and e["kind"] == "callback"
    ]
    assert len(unsolicited) == 3 and not any(e["detail"]["solicited"] for e in unsolicited)
    moves = [(e["from"], e["to"]) for e in done["events"] if e["kind"] == "fulfillment_changed"]
    assert moves[-3:] == [
        ("Pending", "Packed"),
        ("Packed", "Out-for-delivery"),
        ("Out-for-delivery", "Order-delivered"),
    ]
    # Delivered: now it may be rated.
    rated = act(world, order["id"], "rating", {"value": 5}, **WAIT)
    assert rated["pending"] is None and rated["error"] is None, rated
    listed = world.api("GET", "/api/orders", params={"state": "completed"}).json()
    assert [o["id"] for o in listed["orders"]] == [order["id"]]


def test_the_pole_sees_the_purchase_order_number_buyer_and_delivery(
    world: World, tmp_path: Path
) -> None:
    """The PO number the institution gave reaches the pôle's order, its stored document and
    its lists, with the buyer and the delivery as fields (seller_node/README.md)."""
    order = confirmed_order(world, fulfilment={**SCHOOL, "site_name": "École des Berges"})
    seller_url, key = order["provider"]["bpp_uri"], seller_key(tmp_path)
    base = f"{seller_url}/api/providers/{CAPITALE}"
    seen = world.http.get(f"{base}/orders/{order['seller_order_id']}", headers={"X-API-Key": key})
    assert seen.status_code == 200, seen.text
    pole = seen.json()
    assert pole["document"].get("tags") == [
        {
            "descriptor": {"code": "bon_de_commande", "name": "Bon de commande"},
            "list": [{"descriptor": {"code": "numero", "name": "Numéro"}, "value": "BC-2026-0042"}],
        }
    ]
    assert pole["purchase_order_number"] == "BC-2026-0042"
    assert pole["buyer"]["name"] == BILLING["name"]
    assert pole["buyer"]["email"] == BILLING["email"]
    delivery = pole["delivery"]
    assert delivery["site"] == "École des Berges"
    assert delivery["address"] == SCHOOL["address"] and delivery["region"] == "QC-03"
    assert delivery["window"] == {"start": f"{DAY}T13:00:00.000Z", "end": f"{DAY}T21:00:00.000Z"}
    assert delivery["contact"] == {
        "name": "Cuisine centrale",
        "phone": "418 555-0199",
        "email": None,
    }
    assert delivery["instructions"] == SCHOOL["instructions"]

    listed = world.http.get(
        f"{base}/orders",
        params={"purchase_order_number": "BC-2026-0042"},
        headers={"X-API-Key": key},
    ).json()
    assert [o["id"] for o in listed["orders"]] == [order["seller_order_id"]]
    assert listed["orders"][0]["purchase_order_number"] == "BC-2026-0042"
    other = world.http.get(
        f"{base}/orders", params={"purchase_order_number": "BC-0000"}, headers={"X-API-Key": key}
    ).json()
    assert other["orders"] == [] and other["total"] == 0

    # 13:00 UTC is 8:00 in Québec, on the delivery day: that day's pick list.
    picked = world.http.get(
        f"{base}/pick-list", params={"date": DAY}, headers={"X-API-Key": key}
    ).json()
    (listed_order,) = picked["orders"]
    assert listed_order["purchase_order_number"] == "BC-2026-0042"
    assert {line["sku"]: line["quantity"] for line in listed_order["lines"]} == {
        SYRUP: 12,
        CHIPS: 4,
    }
