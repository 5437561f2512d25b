"""Shared fixtures: databases (SQLite always, PostgreSQL when the CI names one), free ports."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
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


def fresh_database(kind: str, folder: Path, name: str = "test.sqlite") -> Iterator[str]:
    """A fresh, empty database of ``kind``: a SQLite file in ``folder``, or a new PostgreSQL
    database dropped afterwards (skipped when PostgreSQL is down, unless CI requires it)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / name}"
        return
    import psycopg

    database = f"rp_test_{uuid.uuid4().hex[:12]}"
    admin = _postgres_admin_url()
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
    except psycopg.OperationalError as exc:
        if REQUIRE_SERVICES:
            raise
        pytest.skip(f"PostgreSQL indisponible : {exc}")
    base = admin.rsplit("/", 1)[0]
    yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{database}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    yield from fresh_database(request.param, tmp_path)


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
