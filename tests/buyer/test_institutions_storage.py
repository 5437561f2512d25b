"""Migrations 0003 (delivery sites, carts) and later (0005: a cart's pôle rows per fulfilment
option): equal to the tables on SQLite and PostgreSQL; they downgrade to 0002 and upgrade
again cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from reseau_poles.buyer.app import MIGRATIONS, VERSION_TABLE, migrate
from reseau_poles.buyer.tables import metadata
from reseau_poles.storage import current_revision, make_engine
from reseau_poles.storage.migrations import _config

NEW_TABLES = {"buyer_delivery_sites", "buyer_carts", "buyer_cart_lines", "buyer_cart_poles"}


def test_migration_0003_equals_the_tables_and_goes_back(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        migrate(engine)
        head = current_revision(engine, VERSION_TABLE)  # 0003 or a later revision
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            assert compare_metadata(context, metadata) == []
        assert set(inspect(engine).get_table_names()) >= NEW_TABLES

        config = _config(MIGRATIONS, VERSION_TABLE)
        with engine.connect() as connection, connection.begin():
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")
        assert current_revision(engine, VERSION_TABLE) == "0002"
        left = set(inspect(engine).get_table_names())
        assert not NEW_TABLES & left and "buyer_orders" in left

        migrate(engine)
        head = ScriptDirectory.from_config(config).get_current_head()
        assert current_revision(engine, VERSION_TABLE) == head
        assert set(inspect(engine).get_table_names()) >= NEW_TABLES
    finally:
        engine.dispose()
