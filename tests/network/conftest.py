"""Async tests run on asyncio (anyio's pytest plugin), like the nodes; a migrated engine on
each database the suite runs against."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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


@pytest.fixture
def receiver() -> Iterator[tuple[Any, str]]:
    """A buyer endpoint on loopback that counts deliveries (``test_outbox.Receiver``)."""
    from .support import serve
    from .test_outbox import Receiver

    endpoint = Receiver()
    with serve(endpoint.app) as url:
        yield endpoint, url
