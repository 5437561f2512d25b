"""Updates race for the last units as confirms do: 20 confirmed orders of 6 jars each ask at
the same moment for 3 more while only 30 are left; exactly 10 get them, the others are
refused with 40002, and stock plus ordered lines always make the starting stock. Meanwhile
the pôle cancels 5 orders of cheese curds: their units come back exactly once. Every change
is a stock movement, and each item's movements add up to its stock. Through the service
(threads, one session each), on both databases."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from reseau_poles.network import NetworkSettings, NodeNetwork
from reseau_poles.network import migrate as migrate_network
from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.seller.app import migrate
from reseau_poles.seller.services.protocol import SellerService
from reseau_poles.seller.settings import SellerSettings
from reseau_poles.seller.tables import order_lines, orders, stock, stock_movements
from reseau_poles.storage import is_sqlite, make_engine

from .support import CAPITALE, CURDS, SYRUP, confirm_in_steps, load_catalog
from .test_lifecycle_machine import request

RACERS, CANCELLED, JARS, MORE = 20, 5, 6, 3
START = RACERS * JARS + 30  # 30 jars left once every order is confirmed
CURDS_STOCK = 100  # support.load_catalog


def test_updates_never_oversell_and_cancels_restock_once(database_url: str) -> None:
    engine = make_engine(database_url, **({} if is_sqlite(database_url) else {"pool_size": 30}))
    migrate(engine)
    migrate_network(engine)
    ids = load_catalog(engine, syrup_stock=START)
    network = NodeNetwork(
        subscriber_id="vendeur.example",
        role="BPP",
        signer=None,
        settings=NetworkSettings(registry_url="http://127.0.0.1:9", transcript_database=False),
        engine=engine,
        run_outbox=False,
    )
    service = SellerService(SellerSettings(subscriber_id="vendeur.example"), engine, network)
    placed: list[tuple[str, str]] = []
    for number in range(RACERS + CANCELLED):
        sku = SYRUP if number < RACERS else CURDS
        transaction = str(uuid.uuid4())
        order_id = confirm_in_steps(
            service,
            request,
            transaction,
            {
                "order": {
                    "provider": {"id": CAPITALE},
                    "items": [{"id": sku, "quantity": {"selected": {"count": JARS}}}],
                    "fulfillments": [{"id": "cueillette-vanier"}],
                    "billing": {"name": "CPE Les Bourgeons"},
                    "payments": [{"type": "POST-FULFILLMENT"}],
                }
            },
        )
        placed.append((transaction, order_id))
    start = threading.Barrier(RACERS + CANCELLED)

    def race(number: int) -> str:
        transaction, order_id = placed[number]
        start.wait()
        if number >= RACERS:
            service.seller_cancel(CAPITALE, order_id, "rupture")
            return "cancelled"
        try:
            service.handle_update(
                request(
                    "update",
                    transaction,
                    {
                        "update_target": "order.items",
                        "order": {
                            "id": order_id,
                            "items": [
                                {"id": SYRUP, "quantity": {"selected": {"count": JARS + MORE}}}
                            ],
                        },
                    },
                )
            )
            return "more"
        except ProtocolError as exc:
            assert exc.code.value == "40002", exc
            return "refused"

    with ThreadPoolExecutor(max_workers=RACERS + CANCELLED) as pool:
        outcomes = list(pool.map(race, range(RACERS + CANCELLED)))

    assert outcomes.count("more") == 30 // MORE
    assert outcomes.count("refused") == RACERS - 30 // MORE
    with engine.connect() as connection:
        left = dict(connection.execute(select(stock.c.item_id, stock.c.quantity)).all())
        ordered = connection.execute(
            select(func.sum(order_lines.c.quantity))
            .select_from(order_lines.join(orders, orders.c.id == order_lines.c.order_id))
            .where(orders.c.status == "ACTIVE")
        ).scalar_one()
        # Every change of stock is a movement: each item's movements add up to its stock.
        moved = dict(
            connection.execute(
                select(stock_movements.c.item_id, func.sum(stock_movements.c.delta)).group_by(
                    stock_movements.c.item_id
                )
            ).all()
        )
    assert left[ids[SYRUP]] == 0 and ordered == START
    assert left[ids[CURDS]] == CURDS_STOCK
    assert moved == left
    engine.dispose()
