"""The CSV import's pages (/gestion/produits/import): a file with errors shows them row by row
and nothing is written; a good file shows its first rows, then, confirmed, is imported in the
background while the page polls its progress; one import per pôle; size, token and role
checked before anything is read or written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reseau_poles.seller.web import imports as import_pages
from tests.seller.support import CAPITALE, SYRUP

from .conftest import HTMX, OTHER_POLE, PREPARER, Client, Pole

pytestmark = pytest.mark.anyio

BAD = (
    "sku,nom,categorie,prix,stock\n"
    f"{SYRUP},Sirop d'érable 540 ml,Produits de l'érable,13.10,\n"
    "miel-500g,Miel de trèfle 500 g,Miel,douze,40\n"
    "a b,Confiture,Tartinades,4.50,10\n"
    "gelee-pommes,,Tartinades,3.25,5\n"
)
GOOD = (
    "sku,nom,categorie,prix,stock,certifications\n"
    f"{SYRUP},Sirop d'érable 540 ml,Produits de l'érable,13.10,,aliments_du_quebec\n"
    "miel-500g,Miel de trèfle 500 g,Miel,9.75,40,aliments_du_quebec\n"
    "gelee-pommes,Gelée de pommes,Tartinades,3.25,5,\n"
)


async def send(client: Client, content: str, name: str = "produits.csv", **more: str):  # type: ignore[no-untyped-def]
    return await client.post(
        "/gestion/produits/import",
        data={"csrf_token": client.csrf, **more},
        files={"fichier": (name, content.encode("utf-8"), "text/csv")},
    )


def sku_of(pole: Pole, sku: str) -> dict | None:
    row = pole.services.products.product(CAPITALE, sku)
    return dict(row) if row is not None else None


async def test_a_file_with_errors_shows_them_row_by_row_and_writes_nothing(pole: Pole) -> None:
    client = await pole.signed_in()
    page = await client.get("/gestion/produits/import")
    assert page.status_code == 200
    assert (
        'enctype="multipart/form-data"' in page.text and "<code>region_origine</code>" in page.text
    )
    preview = await send(client, BAD)
    assert preview.status_code == 422
    text = preview.text
    assert "3 erreur(s) dans le fichier : rien n&#39;a été importé." in text
    table = text[text.index('id="erreurs-import"') :]
    for line in ("3", "4", "5"):
        assert f'<td class="num">{line}</td>' in table, line
    assert "<code>prix</code>" in table and "<code>sku</code>" in table
    assert "<code>nom</code>" in table
    # Nothing written, no import kept to confirm.
    assert sku_of(pole, SYRUP)["price"] == Decimal("12.50")  # type: ignore[index]
    assert sku_of(pole, "miel-500g") is None
    assert pole.services.import_jobs.recent(CAPITALE) == []
    assert "Importer les" not in text
    assert pole.audit()[-1]["action"] == "produits.import_apercu"
    assert pole.audit()[-1]["detail"] == {"lignes": 4, "erreurs": 3}


async def test_a_good_file_previewed_then_imported_with_its_progress(pole: Pole) -> None:
    client = await pole.signed_in()
    preview = await send(client, GOOD)
    assert preview.status_code == 200, preview.text
    text = preview.text
    assert "Les 3 ligne(s) sont valides. Rien n&#39;est encore écrit" in text
    assert "Miel de trèfle 500 g" in text and "Nouveau produit" in text and "Mise à jour" in text
    assert sku_of(pole, "miel-500g") is None  # still nothing written
    (job,) = pole.services.import_jobs.recent(CAPITALE)
    assert job.state == "apercu" and job.total == 3
    assert f'hx-post="/gestion/produits/import/{job.id}"' in text
    started = await client.send_form(f"/gestion/produits/import/{job.id}", htmx=True)
    assert started.status_code == 200, started.text
    assert started.text.lstrip().startswith('<section id="import-etat"')
    assert "<progress" in started.text
    pole.services.import_jobs.wait(job.id, 30)
    done = await client.get(f"/gestion/produits/import/{job.id}/progression", headers=HTMX)
    assert done.status_code == 200
    assert 'value="100"' in done.text and "hx-trigger" not in done.text  # polling stops
    assert "3 ligne(s) importée(s) : 2 nouveau(x) produit(s), 1 mis à jour." in done.text
    assert sku_of(pole, SYRUP)["price"] == Decimal("13.10")  # type: ignore[index]
    assert sku_of(pole, SYRUP)["available"] == 240  # empty stock cell: unchanged  # type: ignore[index]
    assert sku_of(pole, "miel-500g")["available"] == 40  # type: ignore[index]
    assert pole.audit()[-1]["action"] == "produits.import_confirme"
    # Confirmed again: nothing more happens.
    again = await client.send_form(f"/gestion/produits/import/{job.id}", htmx=True)
    assert again.status_code == 200 and "Import terminé" in again.text
    (finished,) = pole.services.import_jobs.recent(CAPITALE)
    assert finished.state == "termine" and finished.report["created"] == 2


async def test_without_javascript_confirm_leads_to_the_imports_page(pole: Pole) -> None:
    client = await pole.signed_in()
    await send(client, GOOD)
    (job,) = pole.services.import_jobs.recent(CAPITALE)
    started = await client.send_form(f"/gestion/produits/import/{job.id}")
    assert started.status_code == 303
    assert started.headers["location"] == f"/gestion/produits/import/{job.id}"
    pole.services.import_jobs.wait(job.id, 30)
    page = await client.get(started.headers["location"])
    assert page.status_code == 200 and page.text.startswith("<!doctype html>")
    assert "Import terminé" in page.text and "<progress" in page.text
    # The progress fragment, asked without htmx, is the import's page.
    plain = await client.get(f"/gestion/produits/import/{job.id}/progression")
    assert plain.status_code == 303


async def test_a_running_import_shows_its_bar_and_a_refresh_link(pole: Pole) -> None:
    client = await pole.signed_in()
    await send(client, GOOD)
    (job,) = pole.services.import_jobs.recent(CAPITALE)
    from reseau_poles.seller.repositories import import_jobs as job_repo
    from reseau_poles.storage import write_session

    with write_session(pole.factory) as session:  # as the import's thread leaves it midway
        job_repo.claim(session, CAPITALE, job.id)
        job_repo.progress(session, job.id, "validation", 1)
    page = await client.get(f"/gestion/produits/import/{job.id}")
    assert 'hx-trigger="every 1s"' in page.text and 'aria-busy="true"' in page.text
    assert "Vérification des lignes : 1 sur 3." in page.text
    assert 'value="26"' in page.text  # 80 % of the way for the rows checked
    assert f'href="/gestion/produits/import/{job.id}">Actualiser</a>' in page.text


async def test_one_import_per_pole_at_a_time(pole: Pole) -> None:
    client = await pole.signed_in()
    await send(client, GOOD)
    (job,) = pole.services.import_jobs.recent(CAPITALE)
    with pole.services.import_jobs.gate.hold(CAPITALE):  # an import of the API runs
        busy = await send(client, GOOD)
        assert busy.status_code == 409 and "déjà en cours" in busy.text
        refused = await client.send_form(f"/gestion/produits/import/{job.id}", htmx=True)
        assert refused.status_code == 409 and "déjà en cours" in refused.text
    assert pole.services.import_jobs.job(CAPITALE, job.id).state == "apercu"  # type: ignore[union-attr]


async def test_the_upload_checks_its_token_its_size_and_the_role(
    pole: Pole, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await pole.signed_in()
    tokenless = await client.post(
        "/gestion/produits/import",
        files={"fichier": ("p.csv", GOOD.encode(), "text/csv")},
    )
    assert tokenless.status_code == 403
    missing = await client.post(
        "/gestion/produits/import",
        data={"csrf_token": client.csrf},
        files={"autre": ("", b"", "text/csv")},
    )
    assert missing.status_code == 422 and "Choisissez un fichier CSV" in missing.text
    monkeypatch.setattr(import_pages, "MAX_CSV_BYTES", 100)
    large = await send(client, GOOD + "x" * 70_000)
    assert large.status_code == 413 and "Fichier trop volumineux" in large.text
    preparer = await pole.signed_in(PREPARER)
    assert (await preparer.get("/gestion/produits/import")).status_code == 403
    assert (await send(preparer, GOOD)).status_code == 403
    assert sku_of(pole, "miel-500g") is None


async def test_another_poles_import_is_not_found(pole: Pole) -> None:
    client = await pole.signed_in()
    await send(client, GOOD)
    (job,) = pole.services.import_jobs.recent(CAPITALE)
    other = await pole.signed_in(OTHER_POLE)
    assert (await other.get(f"/gestion/produits/import/{job.id}")).status_code == 404
    refused = await other.send_form(f"/gestion/produits/import/{job.id}")
    assert refused.status_code == 404
    assert (await other.get("/gestion/produits/import/pas-un-id")).status_code == 404
    assert pole.services.import_jobs.job(CAPITALE, job.id).state == "apercu"  # type: ignore[union-attr]
