"""Reliability suite: short tests run with ``make test``; the long ones are marked
``reliability`` and run only by ``make reliability`` (``RESEAU_POLES_RELIABILITY=full``).

Figures (attack table, schemathesis counts, fault timings) are appended as JSON lines to
``$RESEAU_POLES_RELIABILITY_OUT/results.jsonl`` when that variable is set, so
``python -m tests.reliability.report`` can render the tables of docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.support import AttackWorld, attack_world

FULL = os.environ.get("RESEAU_POLES_RELIABILITY") == "full"
OUT = os.environ.get("RESEAU_POLES_RELIABILITY_OUT")
_lock = threading.Lock()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "reliability: long reliability test, run by `make reliability` only"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if FULL:
        return
    skip = pytest.mark.skip(
        reason="long : lancé par `make reliability` (RESEAU_POLES_RELIABILITY=full)"
    )
    for item in items:
        if item.get_closest_marker("reliability") is not None:
            item.add_marker(skip)


def record(kind: str, **fields: Any) -> None:
    """Keep one figure for the report (no-op unless RESEAU_POLES_RELIABILITY_OUT is set)."""
    if not OUT:
        return
    path = Path(OUT)
    path.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"kind": kind, **fields}, ensure_ascii=False)
    with _lock, (path / "results.jsonl").open("a", encoding="utf-8") as out:
        out.write(line + "\n")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AttackWorld]:
    with attack_world(tmp_path_factory.mktemp("attaques")) as running:
        yield running
