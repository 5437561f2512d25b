"""Retention on a real seller node: after an order went select → init → confirm (callbacks
delivered through the outbox, messages in the transcript) and everything was aged two years,
``reseau-poles seller purge`` removes the old outbox and transcript rows and leaves every
business table (orders, their history, stock, catalogue, pôles, API keys) exactly as it was."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, func, select, update
from typer.testing import CliRunner

from reseau_poles.cli import app as main_app
from reseau_poles.network import outbox
from reseau_poles.network.tables import outbox_table, transcript_table
from reseau_poles.seller.tables import metadata as seller_metadata
from reseau_poles.storage import UTCDateTime, utcnow

from .conftest import Network
from .support import SYRUP
from .test_lifecycle import confirm


@pytest.fixture
def no_background_purge(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The node's own hourly purge stays out of the way: the command line does it here."""
    monkeypatch.setenv("RESEAU_POLES_RETENTION_INTERVAL", "0")
    yield


def age_everything(engine: Engine, metadata: MetaData, days: int) -> None:
    """Every timestamp of every table of ``metadata`` moved back ``days`` days."""
    old = utcnow() - timedelta(days=days)
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            for column in table.c:
                if isinstance(column.type, UTCDateTime):
                    connection.execute(
                        update(table).where(column.is_not(None)).values({column.name: old})
                    )


def snapshot(engine: Engine, metadata: MetaData) -> dict[str, list[Any]]:
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(
                    select(table).order_by(*(table.primary_key.columns or table.c))
                )
            ]
            for table in metadata.sorted_tables
        }


def rows(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_purge_keeps_the_orders_and_drops_old_plumbing(
    no_background_purge: None, network: Network, database_url: str
) -> None:
    assert network.seller_app.state.network.retention is None
    engine = network.seller_app.state.service.engine
    confirm(network, (SYRUP, 6))
    deadline = time.monotonic() + 15
    while set(outbox.counts(engine)) != {outbox.DELIVERED}:
        assert time.monotonic() < deadline, outbox.counts(engine)
        time.sleep(0.05)
    network.seller_app.state.network.transcript.flush()
    delivered = outbox.counts(engine)[outbox.DELIVERED]
    messages = rows(engine, transcript_table)
    assert delivered >= 3 and messages >= 3  # on_select, on_init, on_confirm at least

    network_tables = MetaData()
    outbox_table.to_metadata(network_tables)
    transcript_table.to_metadata(network_tables)
    age_everything(engine, seller_metadata, 730)
    age_everything(engine, network_tables, 730)
    business = snapshot(engine, seller_metadata)
    assert business["seller_orders"]  # there is something to protect

    runner = CliRunner()
    command = ["seller", "purge", "--database-url", database_url]
    result = runner.invoke(main_app, [*command, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Simulation (--dry-run) : rien n'est supprimé." in result.output
    assert f"Envois livrés (rappels, webhooks) : {delivered} ligne(s) à supprimer" in (
        result.output
    )
    assert f"Journal des messages : {messages} ligne(s) à supprimer" in result.output
    assert rows(engine, outbox_table) == delivered and rows(engine, transcript_table) == messages

    result = runner.invoke(main_app, command)
    assert result.exit_code == 0, result.output
    assert "Simulation" not in result.output
    assert f"Envois livrés (rappels, webhooks) : {delivered} ligne(s) supprimée(s)" in (
        result.output
    )
    assert "Envois abandonnés (failed, expired) : 0 ligne(s) supprimée(s)" in result.output
    assert f"Total : {delivered + messages} ligne(s) supprimée(s)." in result.output
    assert rows(engine, outbox_table) == 0 and rows(engine, transcript_table) == 0
    assert snapshot(engine, seller_metadata) == business
