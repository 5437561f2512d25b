"""Retention: old finished outbox rows (callbacks, webhook deliveries) and transcript rows are
deleted in bounded batches; pending and in-flight rows, recent rows and dead rows still inside
their longer window stay; a dry run deletes nothing; the node's background task purges and
survives a failing purge. Real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, insert, inspect, select, text

from reseau_poles.network import NetworkSettings, NodeNetwork
from reseau_poles.network.outbox import DELIVERED, DELIVERING, EXPIRED, FAILED, PENDING
from reseau_poles.network.retention import PurgeCounts, Retention, RetentionTask, purge
from reseau_poles.network.tables import outbox_table, transcript_table
from reseau_poles.storage import head_revision, utcnow

from .support import participant

pytestmark = pytest.mark.anyio

SELLER = participant("vendeur.example", "BPP")
NO_REGISTRY = "http://127.0.0.1:9"  # never asked: no message comes in


def days_ago(days: float) -> datetime:
    return utcnow() - timedelta(days=days)


def outbox_row(
    status: str,
    age: float,
    *,
    action: str = "on_confirm",
    delivered_age: float | None = None,
    deadline_age: float | None = None,
    tag: str = "",
) -> dict[str, Any]:
    """A row created ``age`` days ago; delivered (if so) ``delivered_age`` days ago, its
    deadline ``deadline_age`` days ago (negative: still ahead)."""
    created = days_ago(age)
    return {
        "target_url": "http://127.0.0.1:9/bap",
        "action": action,
        "body": b"{}",
        "headers": None,
        "message_id": tag or None,
        "transaction_id": None,
        "status": status,
        "attempts": 1,
        "created_at": created,
        "next_attempt_at": created,
        "deadline": days_ago(age - 1 if deadline_age is None else deadline_age),
        "claimed_by": "travailleur" if status == DELIVERING else None,
        "claimed_until": days_ago(age) if status == DELIVERING else None,
        "delivered_at": (
            days_ago(age if delivered_age is None else delivered_age)
            if status == DELIVERED
            else None
        ),
        "last_http_status": None,
        "last_error": None,
    }


def transcript_row(age: float, tag: str = "") -> dict[str, Any]:
    return {
        "recorded_at": days_ago(age),
        "direction": "in",
        "action": "search",
        "message_id": tag or None,
        "body": b"{}",
    }


def add_outbox(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        connection.execute(insert(outbox_table), rows)


def add_transcript(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        connection.execute(insert(transcript_table), rows)


def tags(engine: Engine, table: Any = outbox_table) -> set[str]:
    with engine.connect() as connection:
        return {tag for (tag,) in connection.execute(select(table.c.message_id)) if tag is not None}


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def mixed_rows(engine: Engine) -> None:
    """One of each case, tagged by message id with what must happen to it."""
    add_outbox(
        engine,
        [
            outbox_row(DELIVERED, 45, tag="livre-vieux"),
            outbox_row(DELIVERED, 45, action="webhook:order.confirmed", tag="webhook-vieux"),
            outbox_row(DELIVERED, 5, tag="livre-recent"),
            # created long ago, delivered recently (long deadline): kept by delivered_at
            outbox_row(DELIVERED, 45, delivered_age=2, deadline_age=-10, tag="livre-tard"),
            outbox_row(FAILED, 120, tag="echoue-vieux"),
            outbox_row(EXPIRED, 120, tag="expire-vieux"),
            outbox_row(FAILED, 45, tag="echoue-recent"),  # dead rows have 90 days
            outbox_row(EXPIRED, 60, tag="expire-recent"),
            # dead, created 120 days ago with a deadline 80 days ago: 80 < 90, kept
            outbox_row(FAILED, 120, deadline_age=80, tag="echoue-echeance-recente"),
            # never touched, however old
            outbox_row(PENDING, 400, deadline_age=-1, tag="en-attente-vieux"),
            outbox_row(DELIVERING, 400, deadline_age=-1, tag="en-cours-vieux"),
            outbox_row(PENDING, 400, deadline_age=200, tag="en-attente-echu"),
        ],
    )
    add_transcript(
        engine,
        [transcript_row(31, "journal-vieux"), transcript_row(29, "journal-recent")],
    )


KEPT = {
    "livre-recent",
    "livre-tard",
    "echoue-recent",
    "expire-recent",
    "echoue-echeance-recente",
    "en-attente-vieux",
    "en-cours-vieux",
    "en-attente-echu",
}


def test_old_finished_rows_go_the_rest_stays(engine: Engine) -> None:
    mixed_rows(engine)
    counts = purge(engine, Retention(delivered_days=30, dead_days=90))
    assert counts == PurgeCounts(outbox_delivered=2, outbox_dead=2, transcript=1)
    assert counts.per_table() == {"network_outbox": 4, "network_transcript": 1}
    assert tags(engine) == KEPT
    assert tags(engine, transcript_table) == {"journal-recent"}
    # a second run finds nothing more
    assert purge(engine, Retention(delivered_days=30, dead_days=90)).total == 0


def test_dry_run_counts_and_deletes_nothing(engine: Engine) -> None:
    mixed_rows(engine)
    before = (tags(engine), tags(engine, transcript_table))
    counts = purge(engine, Retention(delivered_days=30, dead_days=90), dry_run=True)
    assert counts == PurgeCounts(outbox_delivered=2, outbox_dead=2, transcript=1)
    assert (tags(engine), tags(engine, transcript_table)) == before
    # the dry run announced exactly what the real run deletes
    assert purge(engine, Retention(delivered_days=30, dead_days=90)) == counts


def test_zero_days_keeps_forever(engine: Engine) -> None:
    mixed_rows(engine)
    everything = tags(engine)
    assert purge(engine, Retention(delivered_days=0, dead_days=0)).total == 0
    assert tags(engine) == everything
    counts = purge(engine, Retention(delivered_days=0, dead_days=90))
    assert counts == PurgeCounts(outbox_dead=2)
    assert "livre-vieux" in tags(engine) and "journal-vieux" in tags(engine, transcript_table)
    counts = purge(engine, Retention(delivered_days=30, dead_days=0))
    assert counts == PurgeCounts(outbox_delivered=2, transcript=1)


def test_bad_retention_values_are_refused() -> None:
    with pytest.raises(ValueError):
        Retention(delivered_days=-1)
    with pytest.raises(ValueError):
        Retention(batch_size=0)
    with pytest.raises(ValueError):
        NetworkSettings(retention_dead_days=-5)


def test_more_rows_than_one_batch_go_in_several_short_transactions(engine: Engine) -> None:
    add_outbox(engine, [outbox_row(DELIVERED, 40) for _ in range(250)])
    add_outbox(engine, [outbox_row(DELIVERED, 1, tag=f"recent-{n}") for n in range(5)])
    add_outbox(engine, [outbox_row(PENDING, 40, deadline_age=-1, tag="attente")])
    add_transcript(engine, [transcript_row(40) for _ in range(120)])
    deletes: list[int] = []

    @event.listens_for(engine, "after_cursor_execute")
    def seen(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("DELETE FROM NETWORK_OUTBOX"):
            deletes.append(_cursor.rowcount)

    commits: list[int] = []
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    counts = purge(engine, Retention(delivered_days=30, dead_days=90, batch_size=100))
    event.remove(engine, "after_cursor_execute", seen)
    assert counts == PurgeCounts(outbox_delivered=250, transcript=120)
    # 100 + 100 + 50 delivered rows, then one empty batch of dead rows: each its own commit
    assert deletes == [100, 100, 50, 0]
    assert len(commits) == 4 + 2  # and 100 + 20 transcript rows
    assert tags(engine) == {f"recent-{n}" for n in range(5)} | {"attente"}
    assert count(engine, transcript_table) == 0


def test_stop_ends_between_batches(engine: Engine) -> None:
    import threading

    add_outbox(engine, [outbox_row(DELIVERED, 40) for _ in range(30)])
    stop = threading.Event()
    stop.set()
    assert purge(engine, Retention(batch_size=10), stop=stop).total == 0
    assert count(engine, outbox_table) == 30


def test_migration_0002_adds_the_purge_indexes(engine: Engine) -> None:
    assert head_revision("reseau_poles.network.migrations") == "0002"
    inspector = inspect(engine)
    outbox = {
        index["name"]: index["column_names"] for index in inspector.get_indexes("network_outbox")
    }
    transcript = {
        index["name"]: index["column_names"]
        for index in inspector.get_indexes("network_transcript")
    }
    assert outbox["ix_network_outbox_retention"] == ["status", "created_at"]
    assert transcript["ix_network_transcript_recorded_at"] == ["recorded_at"]


async def test_the_node_purges_in_the_background(engine: Engine) -> None:
    mixed_rows(engine)
    settings = NetworkSettings(
        registry_url=NO_REGISTRY, retention_interval=0.2, retention_batch_size=2
    )
    network = NodeNetwork(
        subscriber_id=SELLER.subscriber_id,
        role="BPP",
        signer=SELLER.signer(),
        settings=settings,
        engine=engine,
        run_outbox=False,  # its worker would expire the overdue pending row
    )
    assert network.retention is not None
    network.retention.first_delay = 0.05
    async with network:
        for _ in range(200):
            if network.retention.runs >= 2:
                break
            await asyncio.sleep(0.05)
        assert network.retention.runs >= 2
    assert network.retention._task is None  # stopped with the node
    assert tags(engine) == KEPT
    assert tags(engine, transcript_table) == {"journal-recent"}


async def test_no_background_task_without_an_interval_or_when_keeping_everything(
    engine: Engine,
) -> None:
    for settings in (
        NetworkSettings(registry_url=NO_REGISTRY, retention_interval=0),
        NetworkSettings(
            registry_url=NO_REGISTRY, retention_delivered_days=0, retention_dead_days=0
        ),
    ):
        network = NodeNetwork(
            subscriber_id=SELLER.subscriber_id,
            role="BPP",
            signer=SELLER.signer(),
            settings=settings,
            engine=engine,
        )
        assert network.retention is None
        await network.aclose()


async def test_a_failing_purge_is_logged_and_the_task_goes_on(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    add_outbox(engine, [outbox_row(DELIVERED, 40, tag="vieux")])
    with engine.begin() as connection:  # the table is gone: every purge fails
        connection.execute(text("DROP TABLE network_transcript"))
    task = RetentionTask(engine, Retention(), 0.05, first_delay=0.0)
    with caplog.at_level(logging.ERROR, logger="reseau_poles.network.retention"):
        task.start()
        for _ in range(100):
            if len([r for r in caplog.records if "échec de la purge" in r.getMessage()]) >= 2:
                break
            await asyncio.sleep(0.05)
        assert task._task is not None and not task._task.done()  # still running
        await task.stop()
    failures = [r for r in caplog.records if "échec de la purge" in r.getMessage()]
    assert len(failures) >= 2 and task.runs == 0
    # the outbox part went before the transcript part failed
    assert tags(engine) == set()
