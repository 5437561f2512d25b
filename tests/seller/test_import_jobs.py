"""The CSV imports of the pôle's pages (services/import_jobs.py) on a real database: a preview
writes nothing to the catalogue and keeps only a valid file; a confirmed import runs on its
thread, reports its progress in the database and drops the file; a second confirmation does
nothing; an import silent past STALE reads as interrupted; old ones are purged."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from reseau_poles.seller.app import migrate
from reseau_poles.seller.repositories import import_jobs as job_repo
from reseau_poles.seller.services.csv_import import STALE, ImportGate
from reseau_poles.seller.services.import_jobs import KEEP, ImportJobs
from reseau_poles.seller.services.products import Products
from reseau_poles.seller.tables import portal_imports
from reseau_poles.storage import make_engine, make_session_factory, read_session, write_session

from .support import CAPITALE, SYRUP, load_catalog

GOOD = (
    "sku,nom,categorie,prix,stock\n"
    f"{SYRUP},Sirop d'érable 540 ml,Produits de l'érable,13.10,\n"
    "miel-500g,Miel de trèfle 500 g,Miel,9.75,40\n"
).encode()
BAD = b"sku,nom,categorie,prix\nmiel-500g,Miel,Miel,douze\n"


def test_preview_then_import_in_the_background(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    load_catalog(engine)
    factory = make_session_factory(engine)
    jobs, products = ImportJobs(factory, ImportGate()), Products(factory)

    report, refused = jobs.preview(CAPITALE, None, "mauvais.csv", BAD)
    assert refused is None and report.error_count == 1
    assert jobs.recent(CAPITALE) == []  # a refused file is not kept

    report, job = jobs.preview(CAPITALE, 7, "produits.csv", GOOD)
    assert job is not None and job.state == "apercu" and job.total == 2 and job.percent == 0
    assert (report.created, report.updated) == (1, 1)
    assert products.product(CAPITALE, "miel-500g") is None  # nothing written yet
    sample = jobs.sample(CAPITALE, GOOD)
    assert [(row.line, row.sku, row.new) for row in sample] == [
        (2, SYRUP, False),
        (3, "miel-500g", True),
    ]
    assert sample[0].price == Decimal("13.10") and sample[0].stock is None

    started = jobs.start(CAPITALE, job.id)
    assert started is not None and started.state in ("en_cours", "termine")
    jobs.wait(job.id, 30)
    done = jobs.job(CAPITALE, job.id)
    assert done is not None and done.state == "termine" and done.percent == 100
    assert done.report["created"] == 1 and done.report["updated"] == 1
    assert products.product(CAPITALE, "miel-500g") is not None
    with read_session(factory) as session:
        content = session.execute(
            select(portal_imports.c.content).where(portal_imports.c.id == job.id)
        ).scalar_one()
    assert content is None  # the file is dropped once imported
    again = jobs.start(CAPITALE, job.id)  # a second confirmation changes nothing
    assert again is not None and again.state == "termine"
    assert jobs.job("pole-estrie", job.id) is None  # another pôle's
    assert jobs.job(CAPITALE, "../../etc") is None
    engine.dispose()


def test_interrupted_and_purged_imports(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    load_catalog(engine)
    factory = make_session_factory(engine)
    jobs = ImportJobs(factory, ImportGate())
    _report, job = jobs.preview(CAPITALE, None, "produits.csv", GOOD)
    assert job is not None
    with write_session(factory) as session:  # running, then the node stopped
        assert job_repo.claim(session, CAPITALE, job.id) is not None
        assert job_repo.claim(session, CAPITALE, job.id) is None  # claimed once only
        session.execute(
            update(portal_imports)
            .where(portal_imports.c.id == job.id)
            .values(updated_at=job.updated_at - STALE - timedelta(minutes=1))
        )
    stale = jobs.job(CAPITALE, job.id)
    assert stale is not None and stale.state == "interrompu" and stale.finished
    with write_session(factory) as session:
        session.execute(
            update(portal_imports)
            .where(portal_imports.c.id == job.id)
            .values(created_at=job.created_at - KEEP - timedelta(hours=1))
        )
    jobs.preview(CAPITALE, None, "autre.csv", GOOD)  # each preview purges the old ones
    assert [j.filename for j in jobs.recent(CAPITALE)] == ["autre.csv"]
    engine.dispose()
