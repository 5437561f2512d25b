"""Every time in every message that crosses the wire has exactly milliseconds and ``Z``
(``2026-12-07T02:25:16.094Z``), as ONDC's log validator requires: a whole flow between the
real buyer node and real seller nodes (search → on_search, select … confirm, status, an
unsolicited on_status from the seller's fulfilment API), read back from the buyer's
transcript, which holds the exact bytes of what it sent and received."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from reseau_poles.network.tables import transcript_table
from tests.seller.support import CAPITALE

from .conftest import World
from .test_orders import WAIT, act, confirmed_order, read, seller_key

# Anything that looks like a date and a time, however written.
LOOKS_LIKE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
WIRE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def _strings(value: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def _captured(world: World, transaction_ids: set[str], actions: set[str]) -> list[Any]:
    """The transcript rows of these transactions, once every action in ``actions`` is there."""
    world.buyer_app.state.network.transcript.flush()
    engine = world.buyer_app.state.service.engine
    deadline = time.monotonic() + 10
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(transcript_table).where(
                    transcript_table.c.transaction_id.in_(transaction_ids)
                )
            ).all()
        if actions <= {row.action for row in rows}:
            return rows
        assert time.monotonic() < deadline, (actions, {row.action for row in rows})
        time.sleep(0.05)
        world.buyer_app.state.network.transcript.flush()


def test_every_time_on_the_wire_has_exactly_milliseconds(world: World, tmp_path: Path) -> None:
    searched = world.search(text="erable", region="QC-03")
    assert world.results(searched, wait_ms=10_000)["complete"]
    order = confirmed_order(world)
    status = act(world, order["id"], "status", None, **WAIT)
    assert status["pending"] is None
    moved = world.http.post(
        f"{order['provider']['bpp_uri']}/api/providers/{CAPITALE}/orders/"
        f"{order['seller_order_id']}/fulfillment",
        json={"state": "Packed"},
        headers={"X-API-Key": seller_key(tmp_path)},
    )
    assert moved.status_code == 200, moved.text
    deadline = time.monotonic() + 10
    while read(world, order["id"])["fulfillment"]["state"] != "Packed":
        assert time.monotonic() < deadline, "on_status Packed jamais reçu"
        time.sleep(0.05)

    actions = {"search", "on_search", "select", "on_select", "init", "on_init"}
    actions |= {"confirm", "on_confirm", "status", "on_status"}
    rows = _captured(world, {searched, order["transaction_id"]}, actions)
    checked: dict[str, set[str]] = {}
    for row in rows:
        if not row.body:
            continue
        payload = json.loads(row.body)
        for path, text in _strings(payload):
            if LOOKS_LIKE_TIME.search(text):
                assert WIRE_TIME.fullmatch(text), (row.direction, row.action, path, text)
                checked.setdefault(row.action, set()).add(re.sub(r"\[\d+\]", "[]", path))
    # Every exchange was looked at, with the times named in the brief among them.
    assert actions <= set(checked), checked
    assert all("$.context.timestamp" in paths for paths in checked.values()), checked
    on_confirm = checked["on_confirm"]
    assert {"$.message.order.created_at", "$.message.order.updated_at"} <= on_confirm
    assert "$.message.order.fulfillments[].state.updated_at" in checked["on_status"]
    assert any(".time.range.start" in path for path in checked["select"]), checked["select"]
