"""Shared fixtures: databases (SQLite always, PostgreSQL when the CI names one), free ports."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get("RESEAU_POLES_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("RESEAU_POLES_TEST_REDIS_URL", "")
# On CI the services must be there: a missing one fails instead of skipping.
REQUIRE_SERVICES = os.environ.get("RESEAU_POLES_TEST_REQUIRE_SERVICES") == "1"
# Every test network lives on loopback: a network declared private, as the demonstration's.
# (The processes tests start inherit it; tests of the public default set it to false.)
os.environ["RESEAU_POLES_PRIVATE_NETWORK"] = "true"


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if POSTGRES_URL or REQUIRE_SERVICES else ["sqlite"]


def _postgres_admin_url() -> str:
    url = POSTGRES_URL or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


# Every role's migrations, in one database (as the demo and a small pôle run them).
ROLE_MIGRATIONS = (
    ("reseau_poles.registry.migrations", "alembic_version_registry"),
    ("reseau_poles.seller.migrations", "alembic_version_seller"),
    ("reseau_poles.buyer.migrations", "alembic_version_buyer"),
)
# One migrated database per backend and test process, copied for each test that wants one.
_TEMPLATES: dict[str, str] = {}


def _create_postgres_database(name: str, template: str | None = None) -> None:
    import psycopg

    clause = f' TEMPLATE "{template}"' if template else ""
    try:
        with psycopg.connect(_postgres_admin_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{clause}')
    except psycopg.OperationalError as exc:
        if REQUIRE_SERVICES:
            raise
        pytest.skip(f"PostgreSQL indisponible : {exc}")


def _drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(_postgres_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_url(name: str) -> str:
    base = _postgres_admin_url().rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


def _migrate_every_role(url: str) -> None:
    from reseau_poles.storage import make_engine
    from reseau_poles.storage.migrations import upgrade

    engine = make_engine(url)
    try:
        for package, version_table in ROLE_MIGRATIONS:
            upgrade(engine, package, version_table)
    finally:
        engine.dispose()


def _template(kind: str) -> str:
    """This process's migrated database of ``kind`` (made on first use by running every
    role's real migrations): a SQLite file's path, or a PostgreSQL database's name."""
    if kind not in _TEMPLATES:
        if kind == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="rp-template-"))
            atexit.register(shutil.rmtree, folder, True)
            path = folder / "template.sqlite"
            _migrate_every_role(f"sqlite:///{path}")
            _TEMPLATES[kind] = str(path)
        else:
            name = f"rp_template_{uuid.uuid4().hex[:12]}"
            _create_postgres_database(name)
            atexit.register(_drop_postgres_database, name)
            _migrate_every_role(_postgres_url(name))
            _TEMPLATES[kind] = name
    return _TEMPLATES[kind]


def migrated_sqlite(path: Path) -> str:
    """A SQLite database at ``path`` holding every role's tables at their newest migration,
    empty of rows (a copy of this process's migrated template; a file already there is
    kept as it is): the URL. A node started on it finds nothing to migrate; the migrations
    themselves are tested on empty databases (``fresh_database(..., migrated=False)``)."""
    if path.exists() and path.stat().st_size > 0:  # already there (settings written again)
        return f"sqlite:///{path}"
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(sqlite3.connect(_template("sqlite"))) as source,
        closing(sqlite3.connect(path)) as target,
    ):
        source.backup(target)
    return f"sqlite:///{path}"


def fresh_database(
    kind: str, folder: Path, name: str = "test.sqlite", *, migrated: bool = True
) -> Iterator[str]:
    """A fresh database of ``kind`` with no rows: a SQLite file in ``folder``, or a new
    PostgreSQL database dropped afterwards (skipped when PostgreSQL is down, unless CI
    requires it). ``migrated``: every role's tables already there (a copy of a database
    migrated once per test process: starting a node on it is then quick); else empty."""
    if kind == "sqlite":
        path = folder / name
        yield migrated_sqlite(path) if migrated else f"sqlite:///{path}"
        return
    database = f"rp_test_{uuid.uuid4().hex[:12]}"
    _create_postgres_database(database, _template(kind) if migrated else None)
    yield _postgres_url(database)
    _drop_postgres_database(database)


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database with every role's tables and no rows: a SQLite file, or a new
    PostgreSQL database dropped afterwards."""
    yield from fresh_database(request.param, tmp_path)


@pytest.fixture(params=_backends())
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database (no tables): what the migrations themselves are tested on."""
    yield from fresh_database(request.param, tmp_path, migrated=False)


@pytest.fixture(params=["memory", "redis"])
def redis_url(request: pytest.FixtureRequest) -> str | None:
    """Each in-process mechanism that has a Redis variant, run both ways: ``None`` (in the
    process), then the Redis server the CI names (skipped without one, unless CI requires it)."""
    if request.param == "memory":
        return None
    if not REDIS_URL:
        if REQUIRE_SERVICES:
            pytest.fail("RESEAU_POLES_TEST_REDIS_URL manquant")
        pytest.skip("Redis indisponible (RESEAU_POLES_TEST_REDIS_URL)")
    return REDIS_URL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unused_port() -> int:
    return free_port()
