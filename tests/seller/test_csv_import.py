"""A large CSV import does not block the node: other pôles write while it runs, readers see
the old catalogue or the new one, one import per pôle at a time, a bad last row writes
nothing, the report keeps a bounded number of errors (seller.services.csv_import)."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, insert, select

from reseau_poles.seller.services import csv_import
from reseau_poles.seller.services.csv_import import ImportBusy, ImportGate, run_import
from reseau_poles.seller.services.csv_io import CsvRows, parse_csv
from reseau_poles.seller.tables import import_rows, items, stock_movements
from reseau_poles.storage import make_session_factory, read_session, utcnow, write_session
from reseau_poles.storage.engine import SQLITE_IMMEDIATE

from .support import APPLES, CAPITALE, ESTRIE, SYRUP
from .test_api import Management, api, error_of  # noqa: F401  (fixture)
from .test_csv import engine, snapshot  # noqa: F401  (fixture)

HEADER = "sku,nom,categorie,prix,unite,stock,saison,region_origine\n"
CSV_HEADERS = {"Content-Type": "text/csv; charset=utf-8"}
IMPORT = f"/api/providers/{CAPITALE}/products/import"


def generated(rows: int, *, start: int = 0, bad_last: bool = False) -> bytes:
    """``rows`` products, fast to make; with ``bad_last`` the last one has a negative price."""
    lines = [HEADER]
    for n in range(start, start + rows):
        price = "-1" if bad_last and n == start + rows - 1 else f"{n % 97 + 1},25"
        lines.append(
            f'gen-{n:06d},"Produit {n}, lot {n % 13}",Légumes,"{price}",kg,{n % 50},6-9,QC-03\n'
        )
    return "".join(lines).encode("utf-8")


def count_items(factory: Any, provider_id: str) -> int:
    """The pôle's products in the catalogue (active: what searches, select and confirm see)."""
    with read_session(factory) as session:
        return session.execute(
            select(func.count())
            .select_from(items)
            .where(items.c.provider_id == provider_id, items.c.active.is_(True))
        ).scalar_one()


def movement_count(factory: Any) -> int:
    with read_session(factory) as session:
        return session.execute(select(func.count()).select_from(stock_movements)).scalar_one()


def staged(factory: Any) -> int:
    with read_session(factory) as session:
        return session.execute(select(func.count()).select_from(import_rows)).scalar_one()


def test_other_poles_write_while_a_large_import_runs(api: Management) -> None:  # noqa: F811
    """30,000 rows for one pôle: the other pôle's stock writes all succeed (no 503, none
    waits seconds) and readers never see part of the import."""
    rows = 30_000
    data = generated(rows)
    before = count_items(api.factory, CAPITALE)
    done: dict[str, Any] = {}

    def run() -> None:
        with httpx.Client(timeout=300) as http:
            done["response"] = http.post(
                f"{api.url}{IMPORT}", content=data, headers={"X-API-Key": api.key, **CSV_HEADERS}
            )

    importer = threading.Thread(target=run)
    importer.start()
    statuses: list[int] = []
    waits: list[float] = []
    seen_counts: set[int] = set()
    quantity = 0
    while importer.is_alive():
        quantity += 1
        started = time.perf_counter()
        answer = api.call(
            "PUT",
            f"/api/providers/{ESTRIE}/products/{APPLES}/stock",
            key=api.other_key,
            json={"quantity": quantity},
        )
        waits.append(time.perf_counter() - started)
        statuses.append(answer.status_code)
        seen_counts.add(count_items(api.factory, CAPITALE))
        time.sleep(0.05)
    importer.join()
    response = done["response"]
    assert response.status_code == 200, response.text[:500]
    report = response.json()["report"]
    assert report["written"] and report["created"] == rows and report["error_count"] == 0
    assert len(statuses) >= 5, "the import ended before the other pôle could write"
    assert set(statuses) == {200}, statuses
    # Readers saw the catalogue before or after, never half of it.
    assert seen_counts <= {before, before + rows}, sorted(seen_counts)[:5]
    assert count_items(api.factory, CAPITALE) == before + rows
    assert staged(api.factory) == 0
    with read_session(api.factory) as session:
        movements = session.execute(
            select(func.count())
            .select_from(stock_movements)
            .where(stock_movements.c.reason == "import_csv")
        ).scalar_one()
    assert movements == rows  # every new product's stock is a movement
    assert max(waits) < 5, f"a write of the other pôle waited {max(waits):.1f} s"


def _slow_upload(data: bytes, release: threading.Event) -> Iterator[bytes]:
    yield data[: len(data) // 2]
    release.wait(30)
    yield data[len(data) // 2 :]


def _start_slow_import(api: Management, data: bytes, release: threading.Event) -> Any:  # noqa: F811
    done: dict[str, Any] = {}

    def run() -> None:
        with httpx.Client(timeout=120) as http:
            done["response"] = http.post(
                f"{api.url}{IMPORT}",
                content=_slow_upload(data, release),
                headers={"X-API-Key": api.key, **CSV_HEADERS},
            )

    thread = threading.Thread(target=run)
    thread.start()
    return thread, done


def _wait_for_gate(provider_id: str) -> None:
    for _ in range(200):
        if provider_id in csv_import.GATE._running:
            return
        time.sleep(0.02)
    raise AssertionError("the first import never started")


def test_a_second_import_of_the_same_pole_is_refused_at_once(api: Management) -> None:  # noqa: F811
    release = threading.Event()
    thread, done = _start_slow_import(api, generated(2_000), release)
    try:
        _wait_for_gate(CAPITALE)
        started = time.perf_counter()
        second = api.call(
            "POST", f"{IMPORT}?dry_run=true", content=generated(10), headers=CSV_HEADERS
        )
        assert time.perf_counter() - started < 2
        error = error_of(second, 409)
        assert error["code"] == "import_en_cours" and "déjà en cours" in error["message"]
        # Another pôle imports meanwhile.
        other = api.call(
            "POST",
            f"/api/providers/{ESTRIE}/products/import?dry_run=true",
            content=b"sku,prix\npommes-cortland,3\n",
            headers=CSV_HEADERS,
            key=api.other_key,
        )
        assert other.status_code == 200, other.text
    finally:
        release.set()
        thread.join()
    assert done["response"].status_code == 200
    assert done["response"].json()["report"]["created"] == 2_000
    # Once done, the pôle imports again.
    again = api.call("POST", f"{IMPORT}?dry_run=true", content=generated(10), headers=CSV_HEADERS)
    assert again.status_code == 200 and again.json()["report"]["updated"] == 10


def test_the_node_caps_imports_at_once(api: Management, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr(csv_import.GATE, "limit", 1)
    release = threading.Event()
    thread, done = _start_slow_import(api, generated(500), release)
    try:
        _wait_for_gate(CAPITALE)
        busy = api.call(
            "POST",
            f"/api/providers/{ESTRIE}/products/import",
            content=b"sku,prix\npommes-cortland,3\n",
            headers=CSV_HEADERS,
            key=api.other_key,
        )
        assert error_of(busy, 429)["code"] == "trop_d_imports"
        assert int(busy.headers["Retry-After"]) > 0
    finally:
        release.set()
        thread.join()
    assert done["response"].status_code == 200


def test_gate() -> None:
    gate = ImportGate(limit=2)
    with gate.hold("a"), gate.hold("b"):
        with pytest.raises(ImportBusy) as same, gate.hold("a"):
            pass
        with pytest.raises(ImportBusy) as full, gate.hold("c"):
            pass
    assert (same.value.status, same.value.code) == (409, "import_en_cours")
    assert (full.value.status, full.value.code) == (429, "trop_d_imports")
    assert full.value.retry_after
    with gate.hold("a"), gate.hold("c"):  # released on leaving
        pass


def test_a_bad_last_row_writes_nothing(engine: Engine) -> None:  # noqa: F811
    """Rows were staged in batches before the bad one: none reaches the catalogue, and the
    staging rows are gone."""
    factory = make_session_factory(engine)
    before = snapshot(engine)
    report = run_import(factory, CAPITALE, generated(2_500, bad_last=True), batch=500)
    assert not report.written and report.rows == 2_500
    assert [(e.row, e.column) for e in report.errors] == [(2_501, "prix")]
    assert snapshot(engine) == before
    assert staged(factory) == 0


def test_errors_kept_are_capped_and_counted(engine: Engine) -> None:  # noqa: F811
    factory = make_session_factory(engine)
    text = HEADER + "".join(f"bad-{n},Produit,Légumes,-{n + 1},kg,1,,\n" for n in range(2_500))
    report = run_import(factory, CAPITALE, text)
    assert report.error_count == 2_500 and len(report.errors) == csv_import.MAX_ERRORS
    assert report.errors[0].row == 2 and report.as_dict()["error_count"] == 2_500
    assert staged(factory) == 0


def test_a_dry_run_never_takes_the_write_lock(engine: Engine) -> None:  # noqa: F811
    """Another transaction holds the write lock the whole time: the dry run still answers."""
    factory = make_session_factory(engine)
    with engine.connect().execution_options(**{SQLITE_IMMEDIATE: True}) as holder:
        holder.exec_driver_sql("SELECT 1")  # SQLite: BEGIN IMMEDIATE, the write lock
        if engine.dialect.name != "sqlite":
            holder.exec_driver_sql("LOCK TABLE seller_items, seller_stock IN EXCLUSIVE MODE")
        report = run_import(factory, CAPITALE, generated(1_500), dry_run=True, batch=500)
        holder.rollback()
    assert report.errors == [] and report.created == 1_500 and not report.written


def test_an_unfinished_import_is_purged_and_never_applied(engine: Engine) -> None:  # noqa: F811
    """Staged rows of an import cut short (a crash) stay out of the catalogue; the pôle's
    next import removes them."""
    factory = make_session_factory(engine)
    old = utcnow() - csv_import.STALE - timedelta(minutes=1)
    with write_session(factory) as session:
        session.execute(
            insert(import_rows),
            [
                {
                    "import_id": "interrompu",
                    "provider_id": CAPITALE,
                    "created_at": old,
                    "item_id": None,
                    "keep_stock": False,
                    "stock": 1,
                    "sku": "fantome",
                    "name": "Fantôme",
                    "category_id": "x",
                    "category_name": "X",
                    "unit": "kg",
                    "pack_size": 1,
                    "price": 1,
                    "minimum_quantity": 1,
                    "taxable": False,
                    "certifications": "",
                    "conservation": "ambiant",
                    "search_text": " fantome ",
                    "name_normalized": "fantome",
                }
            ],
        )
    report = run_import(factory, CAPITALE, f"sku,prix,stock\n{SYRUP},13,7\n")
    assert report.written and report.updated == 1
    assert staged(factory) == 0
    with read_session(factory) as session:
        assert session.execute(select(items.c.id).where(items.c.sku == "fantome")).first() is None


class Trickle(io.RawIOBase):
    """A binary file that hands out at most ``step`` bytes a read (an upload's spool file
    read in small pieces: multi-byte letters and quoted line breaks cut anywhere)."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.at = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self.data[self.at : self.at + min(self.step, len(buffer))]
        buffer[: len(chunk)] = chunk
        self.at += len(chunk)
        return len(chunk)


CELL = st.text(alphabet=st.sampled_from("aé,;\"\n œ'-=3"), max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(CELL, CELL), min_size=1, max_size=8),
    st.sampled_from([",", ";"]),
    st.integers(min_value=1, max_value=7),
    st.booleans(),
)
def test_the_stream_reads_what_the_whole_file_reads(
    rows: list[tuple[str, str]], delimiter: str, step: int, bom: bool
) -> None:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["sku", "nom", "description"])
    for n, (name, desc) in enumerate(rows):
        writer.writerow([f"sku-{n}", name, desc])
    data = ("\ufeff" if bom else "") + out.getvalue()
    whole = parse_csv(data)
    errors: list[Any] = []
    streamed = list(CsvRows(io.BufferedReader(Trickle(data.encode(), step)), errors.append))
    assert [(r.line, r.values) for r in streamed] == [(r.line, r.values) for r in whole.rows]
    assert errors == whole.errors


def test_a_file_that_is_not_utf8_is_refused_on_its_line(engine: Engine) -> None:  # noqa: F811
    factory = make_session_factory(engine)
    data = generated(50) + "gen-x,Caf\xe9,L\xe9gumes,2,kg,1,,\n".encode("latin-1")
    report = run_import(factory, CAPITALE, io.BufferedReader(Trickle(data, 4096)))
    assert not report.written and report.error_count == 1
    assert [(e.row, e.column) for e in report.errors] == [(52, "nom")]
    assert "UTF-8" in report.errors[0].message


def test_an_import_that_fails_while_applying_leaves_the_catalogue_as_it_was(
    engine: Engine,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """New products already added (withdrawn) when the last transaction fails: deleted
    again, with their stock and movements; nothing else changed."""
    factory = make_session_factory(engine)
    before = snapshot(engine)
    moves = movement_count(factory)

    def fail(self: Any) -> None:
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(csv_import._Apply, "commit", fail)
    data = generated(1_200) + f"{SYRUP},Sirop,Érable,99,ml,3,,\n".encode()
    with pytest.raises(RuntimeError):
        run_import(factory, CAPITALE, data, batch=500)
    assert snapshot(engine) == before
    assert staged(factory) == 0
    assert movement_count(factory) == moves
