"""Stock movements through the real seller node: every change of a product's stock (creation,
order confirmed, buyer's update, cancellation, stock set, adjustment, CSV import) is listed
with its reason, delta, resulting stock, reference and time; the history adds up to the
stock; a refused confirm or adjustment records nothing. Migration 0005 on a database with
orders and stock already."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select

from reseau_poles.seller.app import migrate
from reseau_poles.seller.repositories import orders as order_repo
from reseau_poles.seller.tables import orders, stock, stock_movements
from reseau_poles.storage import make_engine, make_session_factory, utcnow, write_session

from .conftest import Network
from .support import CAPITALE, CHIPS, SYRUP, load_catalog
from .test_lifecycle import api, api_key, stock_of
from .test_order_view import DAY, beckn_order, place

PRODUCT = f"/api/providers/{CAPITALE}/products/{CHIPS}"


def movements(network: Network, key: str, **params: Any) -> dict[str, Any]:
    answer = network.http.get(
        f"{network.seller_url}{PRODUCT}/stock-movements",
        params=params,
        headers={"X-API-Key": key},
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def adds_up(history: list[dict[str, Any]]) -> None:
    """Oldest first: each movement's stock is the previous one plus its delta."""
    level = 0
    for movement in history:
        level += movement["delta"]
        assert movement["quantity"] == level, history


def test_every_change_has_its_movement(network: Network) -> None:
    key = api_key(network)
    transaction, order = place(network, beckn_order((SYRUP, 6), (CHIPS, 4)))
    network.call(
        "update",
        {
            "update_target": "order.items",
            "order": {
                "id": order["id"],
                "items": [{"id": CHIPS, "quantity": {"selected": {"count": 6}}}],
            },
        },
        transaction,
    )
    answer = api(
        network,
        "POST",
        f"/api/providers/{CAPITALE}/orders/{order['id']}/cancel",
        key,
        {"reason_code": "x"},
    )
    assert answer.status_code == 200
    # Too many: refused, nothing moves.
    refused = network.call("confirm", {"order": beckn_order((CHIPS, 51))})
    assert refused["error"]["code"] == "40002"
    assert (
        api(
            network,
            "PUT",
            f"{PRODUCT}/stock",
            key,
            {"quantity": 40, "reason": "inventaire du lundi"},
        ).status_code
        == 200
    )
    assert (
        api(network, "PUT", f"{PRODUCT}/stock", key, {"quantity": 40}).status_code == 200
    )  # no change
    answer = api(
        network, "POST", f"{PRODUCT}/stock/adjustments", key, {"delta": -3, "reason": "sacs percés"}
    )
    assert answer.json() == {"sku": CHIPS, "stock": 37}
    answer = api(network, "POST", f"{PRODUCT}/stock/adjustments", key, {"delta": -99})
    assert answer.status_code == 409
    csv_text = f"sku,stock\n{CHIPS},30\n"
    imported = network.http.post(
        f"{network.seller_url}/api/providers/{CAPITALE}/products/import",
        content=csv_text.encode(),
        headers={"X-API-Key": key, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    # A product changed without its stock keeps it: no movement.
    changed = api(network, "PATCH", PRODUCT, key, {"short_desc": "Croquantes"})
    assert changed.status_code == 200, changed.text

    listed = movements(network, key)
    assert listed["sku"] == CHIPS and listed["stock"] == 30 == stock_of(network, CHIPS)
    history = list(reversed(listed["movements"]))
    assert [(m["reason"], m["delta"], m["quantity"]) for m in history] == [
        ("creation", 50, 50),
        ("commande", -4, 46),
        ("modification", -2, 44),
        ("annulation", 6, 50),
        ("inventaire", -10, 40),
        ("ajustement", -3, 37),
        ("import_csv", -7, 30),
    ]
    adds_up(history)
    by_reason = {m["reason"]: m for m in history}
    for reason in ("commande", "modification", "annulation"):
        assert by_reason[reason]["reference"] == order["id"]
    assert by_reason["inventaire"]["note"] == "inventaire du lundi"
    assert by_reason["ajustement"]["note"] == "sacs percés"
    assert by_reason["import_csv"]["reference"].startswith("import-")
    assert by_reason["annulation"]["label"] == "Commande annulée : stock remis"
    assert all(m["at"].endswith("Z") for m in history)
    assert [m["at"] for m in history] == sorted(m["at"] for m in history)

    # Pages, newest first; refusals with their path.
    page = movements(network, key, limit=2, offset=1)
    assert [m["reason"] for m in page["movements"]] == ["ajustement", "inventaire"]
    assert (page["total"], page["next_offset"]) == (7, 3)
    answer = api(network, "GET", f"{PRODUCT}/stock-movements?limit=0", key)
    assert answer.status_code == 400 and answer.json()["error"]["path"] == "query.limit"
    answer = api(network, "GET", f"/api/providers/{CAPITALE}/products/inconnu/stock-movements", key)
    assert answer.status_code == 404 and answer.json()["error"]["path"] == "path.sku"


def test_migration_0005_fills_the_order_columns_and_opens_each_history(database_url: str) -> None:
    from alembic import command

    from reseau_poles.seller.app import MIGRATIONS, VERSION_TABLE
    from reseau_poles.storage.migrations import _config

    engine = make_engine(database_url)
    try:
        migrate(engine)
        ids = load_catalog(engine)
        document = {"id": "CMD-1", **beckn_order((SYRUP, 6))}
        now = utcnow()
        with write_session(make_session_factory(engine)) as session:
            order_repo.insert_order(
                session,
                {
                    "id": "CMD-1",
                    "provider_id": CAPITALE,
                    "bap_id": "acheteur.example",
                    "bap_uri": "https://acheteur.example/beckn",
                    "transaction_id": "t-1",
                    "status": "ACTIVE",
                    "fulfillment_id": "livraison-froid",
                    "fulfillment_type": "livraison",
                    "fulfillment_state": "Pending",
                    "payment_type": "POST-FULFILLMENT",
                    "total": Decimal("75.00"),
                    "document": document,
                },
                [
                    order_repo.OrderLine(
                        ids[SYRUP],
                        SYRUP,
                        "Sirop",
                        6,
                        Decimal("12.50"),
                        Decimal("75.00"),
                        Decimal(0),
                        Decimal(0),
                    )
                ],
                now,
            )
        config = _config(MIGRATIONS, VERSION_TABLE)
        with engine.connect() as connection, connection.begin():
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")
        assert "seller_stock_movements" not in inspect(engine).get_table_names()
        migrate(engine)
        with engine.connect() as connection:
            row = connection.execute(
                select(
                    orders.c.purchase_order_number, orders.c.delivery_start, orders.c.delivery_end
                )
            ).one()
            moved = connection.execute(
                select(stock_movements.c.item_id, stock_movements.c.reason, stock_movements.c.delta)
            ).all()
            left = dict(connection.execute(select(stock.c.item_id, stock.c.quantity)).all())
        assert row.purchase_order_number == "BC-2026-0042"
        day = date.fromisoformat(DAY)
        assert (row.delivery_start, row.delivery_end) == (
            datetime.combine(day, time(13), UTC),
            datetime.combine(day, time(15), UTC),
        )
        assert sorted(moved) == sorted((ids[sku], "reprise", left[ids[sku]]) for sku in ids)
    finally:
        engine.dispose()
