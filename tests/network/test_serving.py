"""network.serving: the interpreter tuning every node gets, also in each of uvicorn's worker
processes (``--workers`` > 1), whose application comes from the role's factory."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from reseau_poles.network import serving

BUILT: list[FastAPI] = []


def small_factory() -> FastAPI:
    app = FastAPI(title="usine de test")
    BUILT.append(app)
    return app


@pytest.fixture
def restored() -> Iterator[None]:
    interval, threshold = sys.getswitchinterval(), gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
        sys.setswitchinterval(interval)


def test_a_worker_process_builds_the_roles_app_then_tunes_itself(
    restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(serving.FACTORY_ENV, f"{__name__}:small_factory")
    sys.setswitchinterval(0.005)
    app = serving.tuned_factory()
    assert app is BUILT[-1] and app.title == "usine de test"
    assert sys.getswitchinterval() == pytest.approx(serving.SWITCH_INTERVAL)
    assert gc.get_threshold()[0] == serving.GC_GEN0_THRESHOLD
    assert gc.get_freeze_count() > 0  # what start-up built is out of later collections


def test_several_workers_need_a_factory() -> None:
    with pytest.raises(ValueError, match="fabrique"):
        serving.serve(FastAPI(), host="127.0.0.1", port=9, workers=2)
