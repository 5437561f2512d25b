"""Async tests run on asyncio (anyio's pytest plugin), like the nodes; a migrated engine on
each database the suite runs against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from reseau_poles.network import migrate
from reseau_poles.storage import make_engine


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A fresh database with the network tables (outbox, transcript)."""
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()
