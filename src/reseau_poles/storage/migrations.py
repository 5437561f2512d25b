"""A small Alembic runner: each role keeps its migrations in its own package and its own
version table, so several roles can share one database.

A role's ``migrations/env.py`` is three lines::

    from reseau_poles.registry.tables import metadata
    from reseau_poles.storage.migrations import run_env

    run_env(metadata)

and the role upgrades with ``upgrade(engine, "reseau_poles.registry.migrations",
"alembic_version_registry")``. SQLite alterations go through Alembic's batch mode (table
copy), switched on automatically.
"""

from __future__ import annotations

import zlib
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, text

from .engine import SQLITE_IMMEDIATE, make_engine

_VERSION_TABLE = "reseau_poles_version_table"


def _config(package: str, version_table: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files(package)))
    config.set_main_option(_VERSION_TABLE, version_table)
    config.attributes[_VERSION_TABLE] = version_table
    return config


def _engine(engine_or_url: Engine | str) -> Engine:
    return engine_or_url if isinstance(engine_or_url, Engine) else make_engine(engine_or_url)


def upgrade(
    engine_or_url: Engine | str, package: str, version_table: str, revision: str = "head"
) -> str | None:
    """Bring the role's tables up to ``revision``; returns the revision now in place.

    Safe to call at every start-up and from several processes at once: on SQLite the whole
    upgrade holds the write lock (``BEGIN IMMEDIATE``), on PostgreSQL an advisory lock named
    after the version table.
    """
    engine = _engine(engine_or_url)
    config = _config(package, version_table)
    connection = engine.connect().execution_options(**{SQLITE_IMMEDIATE: True})
    with connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return current_revision(engine, version_table)


def current_revision(engine_or_url: Engine | str, version_table: str) -> str | None:
    """The revision recorded in ``version_table`` (``None`` before the first upgrade)."""
    engine = _engine(engine_or_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": version_table})
        revision = context.get_current_revision()
        connection.rollback()
    return revision


def head_revision(package: str) -> str | None:
    """The newest revision the package ships."""
    return ScriptDirectory.from_config(_config(package, "unused")).get_current_head()


def run_env(metadata: MetaData) -> None:
    """The body of a role's ``env.py``: online migrations on the connection given by
    :func:`upgrade`, or on ``sqlalchemy.url`` when Alembic's own command line runs them."""
    from alembic import context

    config = context.config
    version_table = config.attributes.get(_VERSION_TABLE) or config.get_main_option(
        _VERSION_TABLE, "alembic_version"
    )

    if context.is_offline_mode():
        url = config.get_main_option("sqlalchemy.url")
        context.configure(
            url=url,
            target_metadata=metadata,
            version_table=version_table,
            literal_binds=True,
            render_as_batch=str(url).startswith("sqlite"),
        )
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                lock_id = zlib.crc32(version_table.encode("utf-8"))
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
            context.run_migrations()

    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect().execution_options(**{SQLITE_IMMEDIATE: True}) as connection:
        run(connection)
        connection.commit()
    engine.dispose()
