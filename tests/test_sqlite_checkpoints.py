"""SQLite checkpoints run beside the traffic: no commit copies the WAL back into the database
file itself, a background thread does, the WAL stops growing, and the thread ends with the
engine."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from reseau_poles.storage import make_engine


def _checkpointers() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == "sqlite-checkpoint")


def test_commits_leave_checkpoints_to_the_background_thread(tmp_path: Path) -> None:
    before = _checkpointers()
    engine = make_engine(f"sqlite:///{tmp_path / 'noeud.sqlite'}")
    wal = tmp_path / "noeud.sqlite-wal"
    try:
        assert _checkpointers() == before + 1
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE rappels (id INTEGER PRIMARY KEY, corps TEXT)"))
        body = "x" * 40_000
        for _ in range(150):  # ~6 MB: SQLite alone would have checkpointed in a commit
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO rappels (corps) VALUES (:b)"), {"b": body})
        # Every page the commits wrote is in the WAL, and a checkpoint soon copies them back.
        deadline = time.monotonic() + 10
        while True:
            with engine.connect() as connection:
                busy, logged, copied = connection.exec_driver_sql(
                    "PRAGMA wal_checkpoint(PASSIVE)"
                ).one()
            if logged == copied and copied > 0:
                break
            assert time.monotonic() < deadline, (busy, logged, copied)
            time.sleep(0.2)
        # Later writes reuse the WAL from its start: it does not grow past one burst.
        size = wal.stat().st_size
        for _ in range(150):
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO rappels (corps) VALUES (:b)"), {"b": body})
            time.sleep(0.01)
        assert wal.stat().st_size <= size * 1.5
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM rappels").scalar() == 300
        engine.dispose()
        _until(lambda: _checkpointers() == before, "le fil de checkpoint survit au moteur")
        # Used again after dispose(): the checkpoints come back with the first connection.
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM rappels").scalar() == 300
        assert _checkpointers() == before + 1
    finally:
        engine.dispose()
    _until(lambda: _checkpointers() == before, "le fil de checkpoint survit au moteur")


def _until(check: object, message: str) -> None:
    deadline = time.monotonic() + 5
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


def test_memory_databases_have_no_checkpointer() -> None:
    before = _checkpointers()
    engine = make_engine("sqlite://")
    try:
        assert _checkpointers() == before
    finally:
        engine.dispose()
