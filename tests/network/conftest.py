"""Async tests run on asyncio (anyio's pytest plugin), like the nodes."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
