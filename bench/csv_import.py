"""A pôle's large CSV import (175,000 products by default) on one SQLite node: its speed, how
long another pôle's writes wait meanwhile, and its memory, next to the import as it was
(validation and writing in one write transaction, the whole file in memory) measured in the
same run on the same file.

    python bench/csv_import.py [--rows 175000] [--rounds 1] [--variants ancien,nouveau,essai]

Variants: ``ancien`` (the one-transaction import, kept below as :func:`baseline_import`),
``nouveau`` (:func:`reseau_poles.seller.services.csv_import.run_import`, reading the file as a stream),
``essai`` (the new dry run). Each round of each variant runs in a child process on a fresh
copy of a database holding two pôles, so the peak memory (VmHWM) is the import's own. While
it runs, a probe thread of that process sets the other pôle's stock every 50 ms, each in its
own write transaction, and records how long each waited (a probe that waits past the busy
timeout fails: a 503 for an HTTP client). Figures: medians over rounds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from reseau_poles.seller.app import migrate
from reseau_poles.seller.repositories import products as product_repo
from reseau_poles.seller.repositories import providers as provider_repo
from reseau_poles.seller.repositories import stock as stock_repo
from reseau_poles.seller.requests import ItemIn, ProviderIn
from reseau_poles.seller.services.csv_import import ImportReport, run_import
from reseau_poles.seller.services.csv_io import RowError, build_item, parse_csv
from reseau_poles.storage import make_engine, make_session_factory, utcnow, write_session

POLE, OTHER, PROBE_SKU = "pole-bench", "pole-voisin", "pommes-cortland"


def baseline_import(factory: Any, provider_id: str, data: bytes) -> ImportReport:
    """The import before: the file parsed whole, then every row validated and written in one
    write transaction (batches of 500 statements inside it)."""
    report = ImportReport()
    parsed = parse_csv(data)
    report.rows = len(parsed.rows)
    report.errors.extend(parsed.errors)
    with write_session(factory) as session:
        stored = product_repo.items_by_sku(
            session, provider_id, (row.values["sku"] for row in parsed.rows)
        )
        categories = product_repo.category_codes(session, provider_id)
        ready: list[product_repo.ItemWrite] = []
        for row in parsed.rows:
            found = stored.get(row.values["sku"])
            item, errors = build_item(
                row, product_repo.item_in_from_row(found) if found else None, categories
            )
            report.errors.extend(errors)
            if item is not None:
                categories.setdefault(item.category_name, item.category_id)
                keep_stock = found is not None and row.values.get("stock") is None
                ready.append(
                    product_repo.ItemWrite(item, found["id"] if found else None, keep_stock)
                )
        if report.errors:
            raise RuntimeError(report.errors[:3])
        report.created = sum(1 for write in ready if write.item_id is None)
        report.updated = len(ready) - report.created
        reference = f"import-{utcnow():%Y%m%d-%H%M%S}"
        for start in range(0, len(ready), 500):
            product_repo.save_items(session, provider_id, ready[start : start + 500], reference)
    report.written = True
    return report


def make_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("sku,nom,description,categorie,prix,unite,format,stock,saison,region_origine\n")
        for n in range(rows):
            out.write(
                f'prod-{n:07d},"Produit du Québec {n}, lot {n % 13}",'
                f"Description courte du produit {n},Catégorie {n % 40},"
                f'"{n % 97 + 1},{n % 100:02d}",kg,{n % 5 + 1},{n % 500},6-9,QC-{n % 17 + 1:02d}\n'
            )


def make_database(path: Path) -> None:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with write_session(make_session_factory(engine)) as session:
        for pole, region in ((POLE, "QC-03"), (OTHER, "QC-05")):
            provider_repo.upsert_provider(
                session,
                ProviderIn(
                    id=pole,
                    name=f"Pôle {pole}",
                    legal_form="cooperative",
                    region=region,
                    payment_types=["PRE-ORDER"],
                ),
            )
        product_repo.upsert_item(
            session,
            OTHER,
            ItemIn(
                sku=PROBE_SKU,
                name="Pommes Cortland",
                category_id="fruits",
                category_name="Fruits",
                unit="kg",
                price=2,
                stock=500,
            ),
        )
    engine.dispose()


def rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(variant: str, database: Path, csv_path: Path) -> dict[str, Any]:
    engine = make_engine(f"sqlite:///{database}")
    factory = make_session_factory(engine)
    waits: list[float] = []
    failed = 0
    stop = threading.Event()

    def probe() -> None:
        nonlocal failed
        quantity = 0
        while not stop.is_set():
            quantity += 1
            started = time.perf_counter()
            try:
                with write_session(factory) as session:
                    stock_repo.set_item_stock(session, OTHER, PROBE_SKU, quantity % 1000)
            except OperationalError:  # past the busy timeout: "database is locked"
                failed += 1
            waits.append(time.perf_counter() - started)
            stop.wait(0.05)

    start_rss = rss_kib("VmRSS")
    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    started = time.perf_counter()
    try:
        if variant == "ancien":
            report = baseline_import(factory, POLE, csv_path.read_bytes())
        else:
            with csv_path.open("rb") as data:
                report = run_import(factory, POLE, data, dry_run=variant == "essai")
    except (IntegrityError, DataError) as exc:
        raise SystemExit(f"{variant}: {exc}") from None
    elapsed = time.perf_counter() - started
    stop.set()
    prober.join()
    if report.errors:
        raise SystemExit(f"{variant}: {[RowError.as_dict(e) for e in report.errors[:3]]}")
    engine.dispose()
    return {
        "rows": report.rows,
        "seconds": elapsed,
        "max_wait": max(waits) if waits else 0.0,
        "median_wait": statistics.median(waits) if waits else 0.0,
        "probes": len(waits),
        "failed": failed,
        "peak_mib": (rss_kib("VmHWM") - start_rss) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=175_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--variants", default="ancien,nouveau,essai")
    parser.add_argument(
        "--child", nargs=3, metavar=("VARIANT", "DB", "CSV"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        variant, database, csv_path = args.child
        print(json.dumps(child(variant, Path(database), Path(csv_path))))
        return
    variants = args.variants.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-csv-") as tmp:
        folder = Path(tmp)
        csv_path, template = folder / "produits.csv", folder / "modele.db"
        make_csv(csv_path, args.rows)
        make_database(template)
        size = csv_path.stat().st_size / 1e6
        print(f"{args.rows} lignes, {size:.1f} Mo ; {args.rounds} tour(s) par variante")
        results: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
        for _ in range(args.rounds):
            for variant in variants:
                database = folder / f"{variant}.db"
                shutil.copy(template, database)
                for suffix in ("-wal", "-shm"):
                    Path(str(database) + suffix).unlink(missing_ok=True)
                done = subprocess.run(
                    [sys.executable, __file__, "--child", variant, str(database), str(csv_path)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                results[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
                database.unlink()
    print(
        f"{'variante':<9} {'lignes/s':>9} {'durée s':>8} {'attente max s':>14} "
        f"{'attente méd. s':>15} {'sondes':>7} {'échecs':>7} {'mémoire Mio':>12}"
    )
    medians: dict[str, dict[str, float]] = {}
    for variant, runs in results.items():
        m = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        medians[variant] = m
        print(
            f"{variant:<9} {m['rows'] / m['seconds']:>9.0f} {m['seconds']:>8.1f} "
            f"{m['max_wait']:>14.3f} {m['median_wait']:>15.4f} {m['probes']:>7.0f} "
            f"{m['failed']:>7.0f} {m['peak_mib']:>12.0f}"
        )
    if "ancien" in medians and "nouveau" in medians:
        old, new = medians["ancien"], medians["nouveau"]
        print(
            f"nouveau / ancien : débit ×{old['seconds'] / new['seconds']:.2f}, "
            f"attente max ×{new['max_wait'] / max(old['max_wait'], 1e-9):.3f}, "
            f"mémoire ×{new['peak_mib'] / max(old['peak_mib'], 1e-9):.2f}"
        )


if __name__ == "__main__":
    main()
