"""Oversell through a real seller node: many buyers confirm at once for the last units.

tests/seller/test_concurrency.py proves it through the service (200 confirms for 50 units).
Here the confirms are signed Beckn ``/confirm`` calls over HTTP to the seller node on uvicorn,
from several buyer nodes at once (each its own keys, subscribed to the real registry, its own
receiver that verifies every callback's signature). Each confirm is a new transaction for one
jar of syrup; the syrup's stock is the last ``units``.

What must hold: exactly ``units`` sold, stock 0 (never negative), one order per successful
confirm (distinct ids, one row each, ``units`` order lines), and every confirm ACKed then
answered by one ``on_confirm``: the order, or error 40002 (quantity unavailable).

1× (200 confirms for 50 units, 4 buyers) runs with ``make test`` on SQLite and PostgreSQL;
10× (2,000 confirms for 500 units, 8 buyers) runs with ``make reliability``, on PostgreSQL.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from reseau_poles.protocol.models import format_datetime
from reseau_poles.seller.tables import items, order_lines, orders, stock
from reseau_poles.storage import utcnow
from tests.reliability.conftest import record
from tests.seller.conftest import (  # noqa: F401  (fixtures)
    Buyer,
    Network,
    network,
    operator_keys,
    participant_host,
    registry_factory,
)
from tests.seller.support import CAPITALE, SYRUP

SCALES = [
    pytest.param(1, id="1x"),
    pytest.param(10, id="10x", marks=pytest.mark.reliability),
]
CONFIRMS_PER_UNIT = 4  # 200 confirms for 50 units at 1×
UNITS_1X = 50
THREADS = 40  # requests in flight at once, across the buyers


def confirm_body(buyer: Buyer, net: Network) -> dict[str, Any]:
    bap = buyer.keys.subscriber_id
    return {
        "context": {
            "domain": "PLA:ALIMENTS",
            "location": {"city": {"code": "QC-03"}, "country": {"code": "CAN"}},
            "action": "confirm",
            "version": "1.1.0",
            "bap_id": bap,
            "bap_uri": buyer.url,
            "bpp_id": net.seller_keys.subscriber_id,
            "bpp_uri": net.seller_url,
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


def wait_all(buyers: list[Buyer], message_ids: set[str], timeout: float) -> dict[str, Any]:
    """Every callback by message id, once all are in (or the test fails saying how many)."""
    deadline = time.monotonic() + timeout
    while True:
        got = {mid: cb for b in buyers for mid, cb in list(b.callbacks.items())}
        if message_ids <= got.keys() or time.monotonic() > deadline:
            missing = len(message_ids - got.keys())
            assert not missing, f"{missing} confirmations sans on_confirm après {timeout:.0f} s"
            return got
        time.sleep(0.1)


@pytest.mark.parametrize("scale", SCALES)
def test_confirms_race_for_the_last_units(
    scale: int,
    network: Network,  # noqa: F811
    database_url: str,
) -> None:
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    if scale > 1 and backend != "postgresql":
        pytest.skip("10× : PostgreSQL seulement (SQLite sérialise toutes les écritures)")
    units = UNITS_1X * scale
    confirms = units * CONFIRMS_PER_UNIT
    clients = 4 if scale == 1 else 8
    engine = network.seller_app.state.service.engine
    syrup = network.items[SYRUP]
    with engine.begin() as connection:  # the last units, one jar at a time
        connection.execute(items.update().where(items.c.id == syrup).values(minimum_quantity=1))
        connection.execute(stock.update().where(stock.c.item_id == syrup).values(quantity=units))
    buyers = [network.buyer]
    for number in range(1, clients):
        buyers.append(Buyer.join(network.registry, f"acheteur-{number}"))
    local = threading.local()
    start = threading.Barrier(THREADS)
    sent: dict[str, int] = {}  # message id → HTTP status
    lock = threading.Lock()

    # Each transaction had its quote and terms first (the seller refuses a confirm without
    # them): select and init straight through the seller's service, before the race.
    service = network.seller_app.state.service
    bodies = [confirm_body(buyers[number % clients], network) for number in range(confirms)]
    for body in bodies:
        for action in ("select", "init"):
            context = {**body["context"], "action": action, "message_id": str(uuid.uuid4())}
            getattr(service, f"handle_{action}")({**body, "context": context})

    def attempt(number: int) -> str:
        buyer = buyers[number % clients]
        if not hasattr(local, "http"):
            local.http = httpx.Client(timeout=60)
        body = bodies[number]
        body["context"]["timestamp"] = format_datetime(utcnow())
        raw = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Authorization": buyer.signer.sign(raw), "Content-Type": "application/json"}
        if number < THREADS:
            start.wait()  # the first wave leaves together
        response = local.http.post(f"{network.seller_url}/confirm", content=raw, headers=headers)
        with lock:
            sent[body["context"]["message_id"]] = response.status_code
        assert response.json() == {"message": {"ack": {"status": "ACK"}}}, response.text
        return body["context"]["message_id"]

    began = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            message_ids = set(pool.map(attempt, range(confirms)))
        acked = time.monotonic() - began
        assert len(message_ids) == confirms
        assert Counter(sent.values()) == {200: confirms}
        callbacks = wait_all(buyers, message_ids, timeout=30 + confirms / 10)
        answered = time.monotonic() - began
    finally:
        for buyer in buyers[1:]:
            buyer.server.stop()

    sold, refused, other = [], 0, []
    for mid in message_ids:
        callback = callbacks[mid]
        assert callback.action == "on_confirm"
        assert callback.signer.subscriber_id == network.seller_keys.subscriber_id
        error = callback.payload.get("error")
        if error is None:
            sold.append(callback.payload["message"]["order"]["id"])
        elif error.get("code") == "40002":
            refused += 1
        else:
            other.append(error)
    assert not other, other[:3]
    assert len(sold) == units
    assert len(set(sold)) == units  # one order per successful confirm
    assert refused == confirms - units
    # every callback went to the buyer that asked for it, once
    for buyer in buyers:
        assert all(cb.signer.subscriber_id for cb in buyer.callbacks.values())
    confirmed = [c for b in buyers for c in b.callbacks.values() if c.action == "on_confirm"]
    assert len(confirmed) == confirms

    with engine.connect() as connection:
        left = connection.execute(
            select(stock.c.quantity).where(stock.c.item_id == syrup)
        ).scalar_one()
        assert left == 0
        assert connection.execute(select(func.min(stock.c.quantity))).scalar_one() >= 0
        rows = set(connection.execute(select(orders.c.id)).scalars())
        assert rows == set(sold)
        assert connection.execute(select(func.count()).select_from(order_lines)).scalar_one() == (
            units
        )
        assert connection.execute(select(func.sum(order_lines.c.quantity))).scalar_one() == units
    record(
        "concurrency",
        test="survente",
        backend=backend,
        scale=f"{scale}x",
        buyers=clients,
        confirms=confirms,
        units=units,
        sold=len(sold),
        refused_40002=refused,
        acked_s=round(acked, 1),
        all_on_confirm_s=round(answered, 1),
    )
