"""The shared storage layer, exercised through the registry's migrations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from importlib import resources

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, inspect, select, text

from reseau_poles.registry.app import MIGRATIONS, VERSION_TABLE, migrate
from reseau_poles.registry.tables import metadata
from reseau_poles.storage import (
    UTCDateTime,
    current_revision,
    head_revision,
    make_engine,
    make_session_factory,
    normalise_url,
    upgrade,
    write_session,
)


def test_migrations_match_the_models_on_both_databases(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    assert current_revision(engine, VERSION_TABLE) is None
    assert (
        upgrade(engine, MIGRATIONS, VERSION_TABLE)
        == head_revision(MIGRATIONS)
        == "0003_suspension_grace"
    )
    # Again: nothing to do.
    assert migrate(empty_database_url) == "0003_suspension_grace"
    tables = set(inspect(engine).get_table_names())
    assert {"registry_subscribers", "registry_keys", "registry_audit", VERSION_TABLE} <= tables
    assert "alembic_version" not in tables  # each role its own version table
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_utc_datetimes_round_trip(database_url: str) -> None:
    engine = make_engine(database_url)
    table = Table(
        "moments",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UTCDateTime()),
    )
    table.create(engine)
    montreal = timezone(timedelta(hours=-5))
    aware = datetime(2026, 5, 1, 8, 30, tzinfo=montreal)
    naive = datetime(2026, 5, 1, 13, 30)
    with write_session(make_session_factory(engine)) as session:
        session.execute(table.insert(), [{"id": 1, "at": aware}, {"id": 2, "at": naive}])
    with engine.connect() as connection:
        values = connection.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    assert values == [datetime(2026, 5, 1, 13, 30, tzinfo=UTC)] * 2
    assert all(v.tzinfo is UTC for v in values)
    engine.dispose()


def test_sqlite_pragmas(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sous-dossier' / 'x.sqlite'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    engine.dispose()
    memory = make_engine("sqlite://")
    with memory.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    memory.dispose()


def test_urls_and_shipped_files() -> None:
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x") == "sqlite:///x"
    folder = resources.files(MIGRATIONS)
    for name in ("env.py", "script.py.mako", "versions/__init__.py", "versions/0001_initial.py"):
        assert folder.joinpath(name).is_file(), name
