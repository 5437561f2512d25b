"""The products' pages (/gestion/produits): the table with its search and pages, the quick
edit of a row (htmx: the row becomes a small form and back; without JavaScript: a page), a
product's whole form refused field by field, the CSV export; who may do what."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from reseau_poles.seller.repositories import products as product_repo
from reseau_poles.seller.repositories import stock_movements
from reseau_poles.seller.requests import ItemIn
from reseau_poles.storage import read_session
from tests.seller.support import CAPITALE, CHIPS, CURDS, SYRUP

from .conftest import HTMX, PREPARER, Pole, csrf_of

pytestmark = pytest.mark.anyio


def product(pole: Pole, sku: str) -> dict:
    row = pole.services.products.product(CAPITALE, sku)
    assert row is not None
    return dict(row)


async def test_the_table_lists_the_poles_products_with_search_and_pages(pole: Pole) -> None:
    client = await pole.signed_in()
    page = await client.get("/gestion/produits")
    assert page.status_code == 200
    assert page.headers["vary"] == "HX-Request"
    for name in ("Sirop d&#39;érable biologique 540 ml", "Fromage en grains 1 kg"):
        assert name in page.text
    assert "Pommes Cortland" not in page.text  # another pôle's
    assert "12,50\u00a0$" in page.text  # money as fr-CA writes it
    assert "Produits 1 à 3 sur 3" in page.text
    found = await client.get("/gestion/produits", params={"q": "fromage"})
    assert "Fromage en grains" in found.text and "Sirop" not in found.text
    by_category = await client.get("/gestion/produits", params={"categorie": "Collations"})
    assert "Croustilles" in by_category.text and "Fromage" not in by_category.text
    # Pages of 25: 30 more products make two pages; the second says where it is.
    for number in range(30):
        pole.services.products.save(
            CAPITALE, _copy(pole, CHIPS, f"extra-{number:02d}"), keep_stock=False
        )
    second = await client.get("/gestion/produits", params={"page": "2"})
    assert "Produits 26 à 33 sur 33" in second.text
    assert 'href="/gestion/produits?page=1"' in second.text
    # A page number that is not one is the first page, never an error.
    assert (await client.get("/gestion/produits", params={"page": "x"})).status_code == 200


def _copy(pole: Pole, sku: str, new_sku: str) -> ItemIn:
    """The product ``sku`` under another SKU."""
    row = pole.services.products.product(CAPITALE, sku)
    assert row is not None
    return product_repo.item_in_from_row(row).model_copy(update={"sku": new_sku})


async def test_inline_edit_swaps_the_row_for_a_form_and_back(pole: Pole) -> None:
    client = await pole.signed_in()
    form = await client.get(f"/gestion/produits/{SYRUP}/rapide", headers=HTMX)
    assert form.status_code == 200
    assert form.text.lstrip().startswith("<tr") and "<html" not in form.text
    assert 'name="price"' in form.text and 'value="12,50"' in form.text
    assert f'form="rapide-{SYRUP}"' in form.text
    saved = await client.send_form(
        f"/gestion/produits/{SYRUP}/rapide",
        {"price": "13,25", "stock": "200", "stock_avant": "240", "active": "on"},
        htmx=True,
    )
    assert saved.status_code == 200, saved.text
    assert saved.text.lstrip().startswith("<tr") and "13,25\u00a0$" in saved.text
    assert 'hx-swap-oob="true"' in saved.text  # the saved message, read out
    stored = product(pole, SYRUP)
    assert stored["price"] == Decimal("13.25") and stored["available"] == 200
    assert stored["active"] is True
    # The stock set is an inventory movement that says who did it.
    with read_session(pole.factory) as session:
        moves, _ = stock_movements.movements_of(session, stored["id"], limit=5, offset=0)
    assert moves[0]["reason"] == "inventaire" and "gestion@capitale.example" in moves[0]["note"]
    audit = pole.audit()[-1]
    assert audit["action"] == "produit.modifie_rapide" and audit["target"] == SYRUP
    assert audit["detail"] == {"prix": "13.25", "offert": True, "stock": 200}
    # Cancel: the row again.
    row = await client.get(f"/gestion/produits/{SYRUP}/ligne", headers=HTMX)
    assert row.text.lstrip().startswith("<tr") and "13,25\u00a0$" in row.text


async def test_a_stock_left_as_it_was_keeps_the_units_sold_meanwhile(pole: Pole) -> None:
    client = await pole.signed_in()
    await client.get(f"/gestion/produits/{CURDS}/rapide", headers=HTMX)  # stock 100 shown
    pole.services.stock.set(CAPITALE, CURDS, 90, "vendu entre-temps")
    saved = await client.send_form(
        f"/gestion/produits/{CURDS}/rapide",
        {"price": "19", "stock": "100", "stock_avant": "100", "active": "on"},
        htmx=True,
    )
    assert saved.status_code == 200
    stored = product(pole, CURDS)
    assert stored["price"] == Decimal("19.00") and stored["available"] == 90


async def test_unticking_availability_withdraws_and_ticking_restores(pole: Pole) -> None:
    client = await pole.signed_in()
    data = {"price": "3,49", "stock": "50", "stock_avant": "50"}
    await client.send_form(f"/gestion/produits/{CHIPS}/rapide", data, htmx=True)
    assert product(pole, CHIPS)["active"] is False
    listed = await client.get("/gestion/produits")
    assert "Croustilles" not in listed.text
    withdrawn = await client.get("/gestion/produits", params={"etat": "retires"})
    assert "Croustilles" in withdrawn.text and "Retiré" in withdrawn.text
    await client.send_form(f"/gestion/produits/{CHIPS}/rapide", {**data, "active": "on"}, htmx=True)
    assert product(pole, CHIPS)["active"] is True


async def test_bad_quick_edit_shows_the_form_again_with_each_error(pole: Pole) -> None:
    client = await pole.signed_in()
    refused = await client.send_form(
        f"/gestion/produits/{SYRUP}/rapide",
        {"price": "12,505", "stock": "-3", "stock_avant": "240", "active": "on"},
        htmx=True,
    )
    assert refused.status_code == 422
    assert refused.text.lstrip().startswith("<tr")
    assert "Au plus deux décimales." in refused.text
    assert "hors des limites" in refused.text.lower() or 'aria-invalid="true"' in refused.text
    assert refused.text.count('aria-invalid="true"') == 2
    assert product(pole, SYRUP)["price"] == Decimal("12.50")
    words = await client.send_form(
        f"/gestion/produits/{SYRUP}/rapide",
        {"price": "douze", "stock": "", "stock_avant": "240"},
        htmx=True,
    )
    assert words.status_code == 422 and "Ce champ est obligatoire." in words.text


async def test_without_javascript_the_quick_edit_is_a_page_then_the_table(pole: Pole) -> None:
    client = await pole.signed_in()
    page = await client.get(
        f"/gestion/produits/{SYRUP}/rapide", params={"retour": "/gestion/produits?q=sirop"}
    )
    assert page.status_code == 200 and page.text.startswith("<!doctype html>")
    assert 'name="retour" value="/gestion/produits?q=sirop"' in page.text
    refused = await client.send_form(
        f"/gestion/produits/{SYRUP}/rapide",
        {
            "price": "-1",
            "stock": "240",
            "stock_avant": "240",
            "retour": "/gestion/produits?q=sirop",
        },
    )
    assert refused.status_code == 422 and refused.text.startswith("<!doctype html>")
    assert "Le formulaire compte 1 erreur(s)" in refused.text
    done = await client.send_form(
        f"/gestion/produits/{SYRUP}/rapide",
        {
            "price": "11",
            "stock": "240",
            "stock_avant": "240",
            "active": "on",
            "retour": "/gestion/produits?q=sirop",
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/gestion/produits?q=sirop"
    after = await client.get(done.headers["location"])
    assert f"Produit {SYRUP} enregistré." in after.text
    # Another site is never where « retour » leads.
    elsewhere = await client.send_form(
        f"/gestion/produits/{SYRUP}/rapide",
        {
            "price": "11",
            "stock": "240",
            "stock_avant": "240",
            "retour": "https://ailleurs.example/",
        },
    )
    assert elsewhere.headers["location"] == "/gestion/produits"


async def test_a_new_product_with_every_field_of_the_catalogue(pole: Pole) -> None:
    client = await pole.signed_in()
    page = await client.get("/gestion/produits/nouveau")
    assert page.status_code == 200
    for field in (
        "sku",
        "name",
        "name_en",
        "category_name",
        "category_id",
        "short_desc",
        "long_desc",
        "short_desc_en",
        "unit",
        "pack_size",
        "price",
        "minimum_quantity",
        "maximum_quantity",
        "stock",
        "taxable",
        "active",
        "producer",
        "origin_region",
        "conservation",
        "certifications",
        "season_months",
        "image_url",
    ):
        assert f'name="{field}"' in page.text, field
    data = {
        "sku": "beurre-250g",
        "name": "Beurre salé 250 g",
        "name_en": "Salted butter 250 g",
        "category_name": "Produits laitiers",
        "short_desc": "Baratté à l'ancienne",
        "unit": "g",
        "pack_size": "250",
        "price": "6,95",
        "minimum_quantity": "12",
        "maximum_quantity": "120",
        "stock": "80",
        "taxable": "on",
        "active": "on",
        "producer": "Laiterie Charlevoix",
        "origin_region": "QC-03",
        "conservation": "refrigere",
        "certifications": ["aliments_du_quebec", "biologique_quebec"],
        "season_months": ["5", "6", "7"],
        "image_url": "https://photos.example/beurre.jpg",
    }
    created = await client.send_form("/gestion/produits/nouveau", data)
    assert created.status_code == 303, created.text
    stored = product(pole, "beurre-250g")
    assert stored["category_id"] == "produits-laitiers"  # the pôle's own code for the name
    assert stored["price"] == Decimal("6.95") and stored["pack_size"] == Decimal("250")
    assert stored["unit"] == "g" and stored["conservation"] == "refrigere"
    assert stored["taxable"] is True and stored["available"] == 80
    assert stored["certifications"] == ",aliments_du_quebec,biologique_quebec,"
    assert stored["season_months"] == ",5,6,7,"
    assert stored["origin_region"] == "QC-03" and stored["maximum_quantity"] == 120
    assert pole.audit()[-1]["action"] == "produit.cree"
    # The same SKU again is refused beside its field.
    again = await client.send_form("/gestion/produits/nouveau", data)
    assert again.status_code == 422 and "Un produit du pôle a déjà ce SKU." in again.text


async def test_the_whole_form_refuses_field_by_field_and_keeps_what_was_typed(pole: Pole) -> None:
    client = await pole.signed_in()
    refused = await client.send_form(
        "/gestion/produits/nouveau",
        {
            "sku": "export",
            "name": "",
            "category_name": "Fruits",
            "unit": "boisseau",
            "pack_size": "0",
            "price": "4,999",
            "minimum_quantity": "10",
            "maximum_quantity": "5",
            "stock": "deux",
            "conservation": "ambiant",
            "origin_region": "QC-99",
            "certifications": ["inconnue"],
            "image_url": "ftp://photos.example/x.jpg",
        },
    )
    assert refused.status_code == 422
    text = refused.text
    for field in ("name", "unit", "pack_size", "price", "stock", "origin_region", "certifications"):
        assert f'id="champ-{field}-erreur"' in text, field
    assert 'value="Fruits"' in text  # what was typed stays
    # Once the form's own checks pass, the model's rules speak beside their fields.
    model = await client.send_form(
        "/gestion/produits/nouveau",
        {
            "sku": "export",
            "name": "Pommes",
            "category_name": "Fruits",
            "unit": "kg",
            "pack_size": "1",
            "price": "4",
            "minimum_quantity": "10",
            "maximum_quantity": "5",
            "stock": "3",
            "conservation": "ambiant",
            "image_url": "ftp://photos.example/x.jpg",
        },
    )
    assert model.status_code == 422
    assert "Ce SKU est réservé" in model.text
    assert "La quantité maximale ne peut pas être inférieure" in model.text
    assert "Adresse http:// ou https:// attendue." in model.text
    assert pole.services.products.product(CAPITALE, "export") is None


async def test_editing_a_product_keeps_its_stock_unless_changed(pole: Pole) -> None:
    client = await pole.signed_in()
    page = await client.get(f"/gestion/produits/{SYRUP}/fiche")
    assert page.status_code == 200
    assert 'value="Érablière du Rang 4"' in page.text
    assert 'value="aliments_du_quebec" checked' in page.text
    token = csrf_of(page)
    pole.services.stock.set(CAPITALE, SYRUP, 230, "vendu entre-temps")
    data = {
        "csrf_token": token,
        "name": "Sirop d'érable biologique 540 ml",
        "category_name": "Produits de l'érable",
        "category_id": "produits-erable",
        "unit": "ml",
        "pack_size": "540",
        "price": "12,75",
        "minimum_quantity": "6",
        "stock": "240",
        "stock_avant": "240",
        "conservation": "ambiant",
        "certifications": ["aliments_du_quebec"],
        "active": "on",
    }
    saved = await client.post(f"/gestion/produits/{SYRUP}/fiche", data=data)
    assert saved.status_code == 303
    stored = product(pole, SYRUP)
    assert stored["price"] == Decimal("12.75") and stored["available"] == 230
    assert stored["certifications"] == ",aliments_du_quebec,"
    assert stored["producer"] is None  # emptied in the form
    unknown = await client.get("/gestion/produits/inconnu/fiche")
    assert unknown.status_code == 404 and "introuvable" in unknown.text


async def test_the_export_is_the_imports_csv(pole: Pole) -> None:
    client = await pole.signed_in(PREPARER)  # reading is for every role
    answer = await client.get("/gestion/produits/export")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert f'filename="{CAPITALE}-produits.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert {row["sku"] for row in rows} == {SYRUP, CURDS, CHIPS}
    excel = await client.get("/gestion/produits/export", params={"separateur": "pv"})
    assert excel.content.startswith("\ufeff".encode()) and ";12,50;" in excel.text


async def test_preparation_reads_the_products_and_changes_nothing(pole: Pole) -> None:
    client = await pole.signed_in(PREPARER)
    page = await client.get("/gestion/produits")
    assert page.status_code == 200 and "Sirop" in page.text
    assert "/rapide" not in page.text and "Ajouter un produit" not in page.text
    for path in (
        f"/gestion/produits/{SYRUP}/rapide",
        "/gestion/produits/nouveau",
        f"/gestion/produits/{SYRUP}/fiche",
    ):
        assert (await client.get(path)).status_code == 403, path
    refused = await client.send_form(
        f"/gestion/produits/{SYRUP}/rapide", {"price": "1", "stock": "1", "stock_avant": "240"}
    )
    assert refused.status_code == 403
    assert product(pole, SYRUP)["price"] == Decimal("12.50")


async def test_a_post_without_its_token_is_refused(pole: Pole) -> None:
    client = await pole.signed_in()
    refused = await client.post(
        f"/gestion/produits/{SYRUP}/rapide", data={"price": "1", "stock": "240"}
    )
    assert refused.status_code == 403
    assert product(pole, SYRUP)["price"] == Decimal("12.50")
