"""Retention of the buyer's searches on a real buyer node with real seller nodes: a search
older than ``search_retention_days`` goes with its ``on_search`` callbacks and its results,
by the node's own background purge and by ``reseau-poles buyer purge``; a recent one stays,
and so does an old one whose results name a pôle of its organisation's open cart (the cart's
lines are checked against them)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from typer.testing import CliRunner

from reseau_poles.buyer.tables import callbacks, search_results, searches
from reseau_poles.cli import app as main_app
from reseau_poles.storage import read_session, utcnow, write_session
from tests.seller.support import CAPITALE, SYRUP

from .conftest import SharedWorld


def searched(world: SharedWorld, key: str, region: str) -> str:
    response = world.api("POST", "/api/searches", key=key, json={"region": region})
    assert response.status_code == 202, response.text
    tx = response.json()["transaction_id"]
    result = world.api("GET", f"/api/searches/{tx}", key=key, params={"wait_ms": "10000"})
    assert result.json()["complete"] and result.json()["providers"], result.text
    return str(tx)


def age(world: SharedWorld, *transaction_ids: str, days: int = 30) -> None:
    with write_session(world.factory) as session:
        session.execute(
            update(searches)
            .where(searches.c.transaction_id.in_(transaction_ids))
            .values(created_at=utcnow() - timedelta(days=days))
        )


def rows(world: SharedWorld, transaction_id: str) -> dict[str, int]:
    """The search's rows in each of its three tables."""
    counts: dict[str, int] = {}
    with read_session(world.factory) as session:
        for table in (searches, callbacks, search_results):
            counts[table.name] = session.execute(
                select(func.count())
                .select_from(table)
                .where(table.c.transaction_id == transaction_id)
            ).scalar_one()
    return counts


def kept(world: SharedWorld, transaction_id: str) -> bool:
    counts = rows(world, transaction_id)
    return counts["buyer_searches"] == 1 and counts["buyer_search_results"] > 0


def gone(world: SharedWorld, transaction_id: str) -> bool:
    return set(rows(world, transaction_id).values()) == {0}


def test_old_searches_are_purged_with_their_callbacks_and_results(
    shared_world: SharedWorld,
) -> None:
    world = shared_world
    _, key = world.organisation("cpe")
    old = searched(world, key, "QC-05")
    recent = searched(world, key, "QC-05")
    assert rows(world, old)["buyer_callbacks"] >= 1

    # Another organisation: an old search behind its open cart's line, another one not.
    _, other = world.organisation("ciusss")
    in_cart = searched(world, other, "QC-03")
    line: dict[str, Any] = {
        "bpp_id": world.sellers["capitale"],
        "provider_id": CAPITALE,
        "item_id": SYRUP,
        "quantity": 6,
    }
    cart = world.api("POST", "/api/carts", key=other, json={"lines": [line]})
    assert cart.status_code == 201, cart.text
    elsewhere = searched(world, other, "QC-05")  # estrie only: no line of the cart
    age(world, old, in_cart, elsewhere)

    task = world.buyer_app.state.network.retention
    assert task is not None and task.retention.targets  # the node purges its searches
    counts = asyncio.run(task.run_once())
    assert counts is not None and counts.tables["buyer_searches"] >= 2

    assert gone(world, old) and gone(world, elsewhere)
    assert kept(world, recent) and kept(world, in_cart)
    answer = world.api("GET", f"/api/searches/{old}", key=key)
    assert answer.status_code == 404, answer.text
    assert world.api("GET", f"/api/searches/{recent}", key=key).json()["providers"]
    # The cart's line is still checked against the search it came from.
    more = world.api("POST", f"/api/carts/{cart.json()['id']}/lines", key=other, json=line)
    assert more.status_code == 201, more.text

    # The command does the same, from the node's settings (7 days by default).
    another = searched(world, key, "QC-05")
    age(world, another, days=8)
    result = CliRunner().invoke(main_app, ["buyer", "purge", "--database-url", world.database_url])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "Recherches (avec leurs rappels on_search et résultats) : gardées 7 j." in output
    assert gone(world, another) and kept(world, recent) and kept(world, in_cart)
