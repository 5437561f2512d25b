"""What a pilot meets on day one with an institutional cart, through the buyer node's API and
real seller nodes on loopback (registry, two seller nodes, the buyer): delivery windows
refused when set (past, inverted, too long, off the pôle's declared days, hours and lead
time; the calendar's ends never a 500), lines checked against the catalogue as last seen, a
price preview per pôle, two fulfilment options of one pôle kept apart, a retry of the failed
pôle only, orders found by purchase-order number. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from reseau_poles.buyer.tables import orders
from reseau_poles.protocol.profile.delivery_window import QUEBEC
from reseau_poles.seller.repositories import places as place_repo
from reseau_poles.seller.repositories import stock as stock_repo
from reseau_poles.seller.requests import FulfillmentOptionIn
from reseau_poles.storage import (
    make_engine,
    make_session_factory,
    read_session,
    utcnow,
    write_session,
)
from tests.seller.support import CAPITALE, CHIPS, CURDS, SYRUP

from .conftest import World

WAIT = {"wait_ms": "15000"}
BILLING = {"name": "CIUSSS de la Capitale-Nationale", "email": "comptes@ciusss.example"}
DELIVERY = {
    "type": "livraison",
    "address": "1401, 18e Rue, Québec (Québec) G1J 1Z4",
    "region": "QC-03",
}


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def window(days: float = 3, hours: float = 3) -> dict[str, str]:
    start = utcnow() + timedelta(days=days)
    return {"start": stamp(start), "end": stamp(start + timedelta(hours=hours))}


def error_of(response: Any) -> tuple[int, str, str | None]:
    error = response.json()["error"]
    return response.status_code, error["code"], error.get("path")


def line(world: World, seller: str, item: str, quantity: int, option: str | None) -> dict[str, Any]:
    return {
        "bpp_id": world.sellers[seller],
        "provider_id": CAPITALE,
        "item_id": item,
        "quantity": quantity,
        "fulfilment_id": option,
    }


def searched(world: World) -> None:
    assert world.results(world.search(region="QC-03"), wait_ms=10_000)["complete"]


def new_cart(world: World, **fields: Any) -> dict[str, Any]:
    response = world.api("POST", "/api/carts", json=fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


@contextmanager
def seller_session(tmp_path: Path, name: str) -> Iterator[Any]:
    engine = make_engine(f"sqlite:///{tmp_path / f'{name}.sqlite'}")
    try:
        with write_session(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def cart_orders(world: World, cart_id: str) -> int:
    with read_session(world.service.factory) as session:
        return int(
            session.execute(select(func.count()).where(orders.c.cart_id == cart_id)).scalar_one()
        )


def test_past_delivery_windows_are_refused_when_set(world: World) -> None:
    """Defect 3: a window in 2020 went through select, init and confirm."""
    searched(world)
    past = {"start": "2020-03-02T13:00:00Z", "end": "2020-03-02T16:00:00Z"}
    order = {
        "provider": {"bpp_id": world.sellers["capitale"], "id": CAPITALE},
        "items": [{"id": SYRUP, "quantity": 6}],
        "fulfilment": {**DELIVERY, "id": "livraison-froid"},
        "billing": BILLING,
        "delivery_window": past,
    }
    refused = world.api("POST", "/api/orders", json=order)
    assert error_of(refused) == (400, "plage_livraison_invalide", "delivery_window.start")
    assert "passé" in refused.json()["error"]["message"]
    assert world.api("GET", "/api/orders").json()["total"] == 0

    extremes = [
        ({"start": "0001-01-01T00:00:00+05:00", "end": "2026-12-09T16:00:00Z"}, "start"),
        ({"start": "0001-01-01T00:00:00Z", "end": "0001-01-01T01:00:00Z"}, "start"),
        ({"start": window()["start"], "end": "9999-12-31T23:59:59-05:00"}, "end"),
        ({"start": "9999-12-31T10:00:00Z", "end": "9999-12-31T12:00:00Z"}, "start"),
        ({"start": window()["start"], "end": stamp(utcnow() + timedelta(days=20))}, "end"),
        (past, "start"),
    ]
    cart = new_cart(world, fulfilment=DELIVERY, billing=BILLING)
    for bad, bound in extremes:
        for method, path, body in (
            ("POST", "/api/orders", {**order, "delivery_window": bad}),
            ("POST", "/api/carts", {"delivery_window": bad}),
            ("PATCH", f"/api/carts/{cart['id']}", {"delivery_window": bad}),
        ):
            response = world.api(method, path, json=body)
            assert response.status_code == 400, (method, path, bad, response.text)
            assert response.json()["error"]["path"] in (
                f"delivery_window.{bound}",
                "delivery_window",  # refused by the model itself (no zone, inverted)
                "delivery_window.start",
            ), response.text
    # the cart did not take any of them
    assert world.api("GET", f"/api/carts/{cart['id']}").json()["delivery_window"] is None
    good = world.api("PATCH", f"/api/carts/{cart['id']}", json={"delivery_window": window()})
    assert good.status_code == 200, good.text


def test_the_poles_declared_delivery_rules_at_cart_time(world: World, tmp_path: Path) -> None:
    with seller_session(tmp_path, "capitale") as session:
        place_repo.put_fulfillment_option(
            session,
            CAPITALE,
            FulfillmentOptionIn(
                id="livraison-froid",
                type="livraison",
                name="Livraison réfrigérée",
                regions=["QC-03", "QC-12"],
                fee=Decimal("25.00"),
                cold_chain=["refrigere", "congele"],
                lead_time_hours=48,
                delivery_days="lun-ven",
                delivery_hours="07:00-15:00",
            ),
        )
    searched(world)
    day = (utcnow() + timedelta(hours=60)).astimezone(QUEBEC).date()
    while day.weekday() != 5:  # a Saturday, after the 48 h of notice
        day += timedelta(days=1)
    saturday = datetime.combine(day, time(9), QUEBEC)
    monday = saturday + timedelta(days=2)
    cart = new_cart(
        world,
        fulfilment=DELIVERY,
        billing=BILLING,
        lines=[line(world, "capitale", SYRUP, 6, "livraison-froid")],
    )
    weekend = {"start": stamp(saturday), "end": stamp(saturday + timedelta(hours=3))}
    refused = world.api("PATCH", f"/api/carts/{cart['id']}", json={"delivery_window": weekend})
    assert error_of(refused) == (400, "plage_livraison_invalide", "delivery_window.start")
    assert "lun, mar, mer, jeu, ven" in refused.json()["error"]["message"]
    soon = window(days=1, hours=2)  # inside the 48 h of notice
    refused = world.api("PATCH", f"/api/carts/{cart['id']}", json={"delivery_window": soon})
    assert error_of(refused) == (400, "plage_livraison_invalide", "delivery_window.end")
    weekday = {"start": stamp(monday), "end": stamp(monday + timedelta(hours=3))}
    accepted = world.api("PATCH", f"/api/carts/{cart['id']}", json={"delivery_window": weekday})
    assert accepted.status_code == 200, accepted.text
    # the estrie node declares nothing: a Saturday is fine there, but not for a capitale line
    late = world.api(
        "POST",
        f"/api/carts/{cart['id']}/lines",
        json=line(world, "estrie", CHIPS, 2, "livraison-seche"),
    )
    assert late.status_code == 201, late.text


def test_lines_are_checked_against_the_catalogue_as_last_seen(world: World, tmp_path: Path) -> None:
    with seller_session(tmp_path, "estrie") as session:
        assert stock_repo.set_item_stock(session, CAPITALE, CHIPS, 0) is not None
    searched(world)
    cart = new_cart(world, fulfilment=DELIVERY, billing=BILLING)
    url = f"/api/carts/{cart['id']}/lines"
    cases = [
        (line(world, "capitale", "caviar", 6, None), "article_inconnu", "item_id"),
        (
            {**line(world, "capitale", SYRUP, 6, None), "bpp_id": "x.example"},
            "article_inconnu",
            "item_id",
        ),
        (line(world, "capitale", SYRUP, 2, None), "quantite_hors_limites", "quantity"),
        (line(world, "estrie", CHIPS, 2, None), "article_epuise", "item_id"),
        (
            line(world, "capitale", SYRUP, 6, "teleportation"),
            "mode_execution_inconnu",
            "fulfilment_id",
        ),
        # curds need the cold chain: not offered by the dry truck
        (
            line(world, "capitale", CURDS, 2, "livraison-seche"),
            "mode_execution_inconnu",
            "fulfilment_id",
        ),
    ]
    for body, code, path in cases:
        response = world.api("POST", url, json=body)
        assert error_of(response) == (400, code, path), (body, response.text)
        created = world.api("POST", "/api/carts", json={"lines": [body]})
        assert error_of(created) == (400, code, f"lines.0.{path}"), created.text
    assert world.api("GET", f"/api/carts/{cart['id']}").json()["lines"] == []
    assert world.api("POST", url, json=line(world, "capitale", SYRUP, 6, None)).status_code == 201


def test_preview_two_options_of_one_pole_and_the_po_filter(world: World, tmp_path: Path) -> None:
    with seller_session(tmp_path, "capitale") as session:
        place_repo.put_fulfillment_option(
            session,
            CAPITALE,
            FulfillmentOptionIn(
                id="livraison-seche",
                type="livraison",
                name="Livraison produits secs",
                regions=["QC-03"],
                fee=Decimal("15.00"),
                minimum_order=Decimal("100.00"),
            ),
        )
    searched(world)
    cart = new_cart(
        world,
        fulfilment=DELIVERY,
        billing=BILLING,
        delivery_window=window(),
        purchase_order_number="BC-2026-0201",
        payment={"type": "POST-FULFILLMENT", "net_days": 30},
        lines=[
            line(world, "capitale", SYRUP, 6, "livraison-froid"),
            line(world, "capitale", CHIPS, 4, "livraison-seche"),
            line(world, "estrie", SYRUP, 6, "livraison-froid"),
        ],
    )
    # three previews at the same instant: one order per group all the same
    with ThreadPoolExecutor(3) as pool:
        answers = list(
            pool.map(
                lambda _: world.api("POST", f"/api/carts/{cart['id']}/preview", params=WAIT),
                range(3),
            )
        )
    assert cart_orders(world, cart["id"]) == 3
    response = answers[0]
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["complete"] and (preview["quoted"], preview["refused"]) == (3, 0), preview
    groups = {(p["bpp_id"], p["fulfilment_id"]): p for p in preview["poles"]}
    froid = groups[(world.sellers["capitale"], "livraison-froid")]
    seche = groups[(world.sellers["capitale"], "livraison-seche")]
    # 6 × 12.50, delivery 25.00 taxed (1.25 + 2.49)
    assert [(ln["item_id"], ln["quantity"], ln["amount"]) for ln in froid["lines"]] == [
        (SYRUP, 6, "75.00")
    ]
    assert froid["items_total"] == {"currency": "CAD", "value": "75.00"}
    assert froid["delivery_fees"] == [
        {"title": "Livraison réfrigérée", "amount": {"currency": "CAD", "value": "25.00"}}
    ]
    assert froid["taxes"] == {
        "tps": {"currency": "CAD", "value": "1.25"},
        "tvq": {"currency": "CAD", "value": "2.49"},
    }
    assert froid["total"] == {"currency": "CAD", "value": "103.74"}
    assert froid["minimum_order"] is None
    # 4 chips (13.96, taxable: 0.70 + 1.39) under the dry truck's 100 $ minimum
    assert seche["lines"][0]["tps"] == "0.70" and seche["lines"][0]["tvq"] == "1.39"
    assert seche["minimum_order"] == {"value": {"currency": "CAD", "value": "100.00"}, "met": False}
    assert preview["total"]["value"] == str(
        sum(Decimal(p["total"]["value"]) for p in preview["poles"])
    )
    # a second preview quotes again on the same orders: nothing more is made
    again = world.api("POST", f"/api/carts/{cart['id']}/preview", params=WAIT).json()
    assert sorted(p["order_id"] for p in again["poles"]) == sorted(
        p["order_id"] for p in preview["poles"]
    )
    assert cart_orders(world, cart["id"]) == 3

    # checkout: the dry truck's group is refused at init (40010), the two others confirm, on
    # the previewed orders; two options of one pôle stayed two orders
    done = world.api("POST", f"/api/carts/{cart['id']}/checkout", params=WAIT).json()
    assert done["checkout"]["state"] == "partielle", done
    states = {(p["bpp_id"], p["fulfilment_id"]): p for p in done["poles"]}
    assert states[(world.sellers["capitale"], "livraison-froid")]["checkout_state"] == "confirmee"
    failed = states[(world.sellers["capitale"], "livraison-seche")]
    assert failed["checkout_state"] == "echec" and failed["error"]["code"] == "40010"
    assert failed["error"]["step"] == "init"
    assert cart_orders(world, cart["id"]) == 3
    assert {p["order_id"] for p in done["poles"]} == {p["order_id"] for p in preview["poles"]}
    orders_of = world.api("GET", f"/api/orders/{froid['order_id']}").json()
    assert orders_of["fulfillment"]["id"] == "livraison-froid"
    assert world.api("GET", f"/api/orders/{seche['order_id']}").json()["fulfillment"]["id"] == (
        "livraison-seche"
    )
    # a checked-out cart is not previewed any more
    assert error_of(world.api("POST", f"/api/carts/{cart['id']}/preview"))[:2] == (
        409,
        "panier_commande",
    )

    # the orders of one purchase order
    other = new_cart(
        world,
        fulfilment=DELIVERY,
        billing=BILLING,
        purchase_order_number="BC-2026-0202",
        lines=[line(world, "estrie", CHIPS, 1, "livraison-seche")],
    )
    world.api("POST", f"/api/carts/{other['id']}/checkout", params=WAIT)
    found = world.api("GET", "/api/orders", params={"purchase_order_number": "BC-2026-0201"})
    assert found.status_code == 200 and found.json()["total"] == 3
    assert {o["purchase_order_number"] for o in found.json()["orders"]} == {"BC-2026-0201"}
    assert (
        world.api("GET", "/api/orders", params={"purchase_order_number": "BC-2026-0202"}).json()[
            "total"
        ]
        == 1
    )
    for bad in ("", "x" * 65, "BC\u0000"):
        response = world.api("GET", "/api/orders", params={"purchase_order_number": bad})
        assert error_of(response) == (400, "parametres_invalides", "purchase_order_number")


def test_retry_orders_the_failed_pole_only(world: World, tmp_path: Path) -> None:
    searched(world)
    cart = new_cart(
        world,
        fulfilment=DELIVERY,
        billing=BILLING,
        payment={"type": "POST-FULFILLMENT", "net_days": 30},
        lines=[
            line(world, "capitale", SYRUP, 6, "livraison-froid"),
            line(world, "estrie", CURDS, 5, "livraison-froid"),
        ],
    )
    assert error_of(world.api("POST", f"/api/carts/{cart['id']}/retry")) == (
        409,
        "panier_non_commande",
        "id",
    )
    # the estrie pôle sold its curds since the search: 40002 at select
    with seller_session(tmp_path, "estrie") as session:
        stock_repo.set_item_stock(session, CAPITALE, CURDS, 2)
    done = world.api("POST", f"/api/carts/{cart['id']}/checkout", params=WAIT).json()
    assert done["checkout"]["state"] == "partielle", done
    before = {p["bpp_id"]: p for p in done["poles"]}
    failed = before[world.sellers["estrie"]]
    assert failed["checkout_state"] == "echec" and failed["error"]["code"] == "40002"
    assert cart_orders(world, cart["id"]) == 2

    # restocked: retry takes the failed pôle only, on its own order
    with seller_session(tmp_path, "estrie") as session:
        stock_repo.set_item_stock(session, CAPITALE, CURDS, 50)
    response = world.api("POST", f"/api/carts/{cart['id']}/retry", params=WAIT)
    assert response.status_code == 200, response.text
    after = {p["bpp_id"]: p for p in response.json()["poles"]}
    assert response.json()["checkout"]["state"] == "complete", response.text
    assert after[world.sellers["estrie"]]["order_id"] == failed["order_id"]
    assert (
        after[world.sellers["capitale"]]["order_id"]
        == before[world.sellers["capitale"]]["order_id"]
    )
    assert cart_orders(world, cart["id"]) == 2
    confirmed = world.api("GET", f"/api/orders/{failed['order_id']}").json()
    assert confirmed["state"] == "confirmed"
    sent = [e["action"] for e in confirmed["events"] if e["kind"] == "request_sent"]
    assert sent == ["select", "select", "init", "confirm"]
    capitale = world.api("GET", before[world.sellers["capitale"]]["order_url"]).json()
    assert [e["action"] for e in capitale["events"] if e["kind"] == "request_sent"] == [
        "select",
        "init",
        "confirm",
    ]
    # nothing failed any more: a retry changes nothing
    again = world.api("POST", f"/api/carts/{cart['id']}/retry", params=WAIT).json()
    assert again["checkout"]["state"] == "complete" and cart_orders(world, cart["id"]) == 2
