"""200 buyers confirm at the same moment for the last 50 units: exactly 50 are sold, 150 are
refused with 40002, the stock ends at 0, and every sale has its order, its on_confirm in the
outbox and its stock movement. Through the service (threads, one session each), on both
databases."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select

from reseau_poles.network import NetworkSettings, NodeNetwork
from reseau_poles.network import migrate as migrate_network
from reseau_poles.network.tables import outbox_table
from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.models import format_datetime
from reseau_poles.seller.app import migrate
from reseau_poles.seller.services.protocol import SellerService
from reseau_poles.seller.settings import SellerSettings
from reseau_poles.seller.tables import items, order_lines, orders, stock, stock_movements
from reseau_poles.storage import is_sqlite, make_engine, utcnow

from .support import CAPITALE, SYRUP, load_catalog

BUYERS = 200
UNITS = 50


def confirm_body(bap_id: str) -> dict:
    return {
        "context": {
            "domain": "PLA:ALIMENTS",
            "location": {"city": {"code": "QC-03"}, "country": {"code": "CAN"}},
            "action": "confirm",
            "version": "1.1.0",
            "bap_id": bap_id,
            "bap_uri": f"https://{bap_id}/beckn",
            "bpp_id": "vendeur.example",
            "bpp_uri": "https://vendeur.example/beckn",
            "transaction_id": str(uuid.uuid4()),
            "message_id": str(uuid.uuid4()),
            "timestamp": format_datetime(utcnow()),
            "ttl": "PT30S",
        },
        "message": {
            "order": {
                "provider": {"id": CAPITALE},
                "items": [{"id": SYRUP, "quantity": {"selected": {"count": 1}}}],
                "fulfillments": [{"id": "cueillette-vanier"}],
                "billing": {"name": "Centre de la petite enfance Les Bourgeons"},
                "payments": [{"type": "POST-FULFILLMENT"}],
            }
        },
    }


def test_two_hundred_confirms_for_fifty_units(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url, **({} if is_sqlite(database_url) else {"pool_size": 40}))
    migrate(engine)
    migrate_network(engine)
    ids = load_catalog(engine, syrup_stock=UNITS)
    with engine.begin() as connection:  # one jar at a time for this test
        connection.execute(
            items.update().where(items.c.id == ids[SYRUP]).values(minimum_quantity=1)
        )
    network = NodeNetwork(
        subscriber_id="vendeur.example",
        role="BPP",
        signer=None,
        settings=NetworkSettings(registry_url="http://127.0.0.1:9", transcript_database=False),
        engine=engine,
        run_outbox=False,
    )
    service = SellerService(SellerSettings(subscriber_id="vendeur.example"), engine, network)
    start = threading.Barrier(40)
    bodies = [confirm_body(f"acheteur-{number}.example") for number in range(BUYERS)]
    for body in bodies:  # each buyer had its quote and terms (select, init) on its transaction
        for action in ("select", "init"):
            step = {**body, "context": {**body["context"], "action": action}}
            getattr(service, f"handle_{action}")(step)

    def attempt(number: int) -> str:
        if number < 40:
            start.wait()  # the first forty leave together
        try:
            service.handle_confirm(bodies[number])
            return "sold"
        except ProtocolError as exc:
            assert exc.code.value == "40002", exc
            return "refused"

    with ThreadPoolExecutor(max_workers=40) as pool:
        outcomes = list(pool.map(attempt, range(BUYERS)))

    assert outcomes.count("sold") == UNITS
    assert outcomes.count("refused") == BUYERS - UNITS
    with engine.connect() as connection:
        assert (
            connection.execute(
                select(stock.c.quantity).where(stock.c.item_id == ids[SYRUP])
            ).scalar_one()
            == 0
        )
        assert connection.execute(select(func.count()).select_from(orders)).scalar_one() == UNITS
        assert connection.execute(select(func.sum(order_lines.c.quantity))).scalar_one() == UNITS
        sent = connection.execute(
            select(func.count())
            .select_from(outbox_table)
            .where(outbox_table.c.action == "on_confirm")
        ).scalar_one()
        assert sent == UNITS
        assert len(set(connection.execute(select(orders.c.id)).scalars())) == UNITS
        # Each sale is one movement, whose stock afterwards is exact: 49, 48 … 0, once each.
        moved = connection.execute(
            select(stock_movements.c.reason, stock_movements.c.delta, stock_movements.c.quantity)
            .where(stock_movements.c.item_id == ids[SYRUP])
            .order_by(stock_movements.c.id)
        ).all()
        assert moved[0] == ("creation", UNITS, UNITS)
        assert {(reason, delta) for reason, delta, _left in moved[1:]} == {("commande", -1)}
        assert sorted(left for _r, _d, left in moved[1:]) == list(range(UNITS))
    engine.dispose()
