"""The pôle's pages (/gestion) in Chromium, on real seller nodes served by uvicorn: the
coordinator signs in, edits a price in the products' table, imports a CSV file (refused row by
row with nothing written, then a good one with its progress bar), marks an order a buyer sent
over the network as Packed (only the buttons the state machine allows are there, and the
buyer's node is told), prints the day's pick list, creates an API key. axe-core runs on each
page; each main page is photographed in build/screenshots/gestion-*.png."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from reseau_poles.seller.app import create_app
from reseau_poles.seller.settings import SellerSettings
from reseau_poles.seller.web.portal import ACCOUNTS
from reseau_poles.storage import make_session_factory, write_session
from tests.conftest import free_port
from tests.registry.conftest import (  # noqa: F401  (fixtures of the network fixture)
    UvicornThread,
    operator_keys,
    participant_host,
    registry_factory,
)
from tests.seller.conftest import Network, network  # noqa: F401  (a fixture)
from tests.seller.support import CAPITALE, CHIPS, SYRUP, load_catalog
from tests.seller.test_order_view import DAY, beckn_order, place

from .conftest import AxeCheck, Screenshot, playwright_api

if TYPE_CHECKING:
    from fastapi import FastAPI
    from playwright.sync_api import Page

expect = playwright_api().expect

COORDINATOR = "coordination@capitale.example"
PASSWORD = "motdepasse-solide-1"
BAD_CSV = (
    "sku,nom,categorie,prix,stock\n"
    f"{SYRUP},Sirop d'érable 540 ml,Produits de l'érable,13.10,\n"
    "miel-500g,Miel de trèfle 500 g,Miel,douze,40\n"
    "a b,Confiture,Tartinades,4.50,10\n"
)
GOOD_CSV = (
    "sku,nom,categorie,prix,stock,certifications\n"
    f"{SYRUP},Sirop d'érable 540 ml,Produits de l'érable,13.10,,aliments_du_quebec\n"
    "miel-500g,Miel de trèfle 500 g,Miel,9.75,40,aliments_du_quebec\n"
    "gelee-pommes,Gelée de pommes,Tartinades,3.25,5,\n"
)


def unexpected(errors: list[str]) -> list[str]:
    """The page's errors but those of a form refused on purpose (422: Chromium and htmx log
    every 4xx answer) and of the browser's own request for /favicon.ico (404; the other 404s
    are caught by :func:`watch`)."""
    return [error for error in errors if not re.search(r"status of (422|404)|Code 422", error)]


def watch(page: Page) -> list[str]:
    """The addresses the page got a 404 for, but /favicon.ico (filled as it browses)."""
    missing: list[str] = []
    page.on(
        "response",
        lambda answer: (
            missing.append(answer.url)
            if answer.status == 404 and not answer.url.endswith("/favicon.ico")
            else None
        ),
    )
    return missing


def add_coordinator(app: FastAPI) -> None:
    """The pôle's coordinator: every role of a pôle."""
    with write_session(make_session_factory(app.state.engine)) as session:
        ACCOUNTS.create_user(
            session,
            organisation_id=CAPITALE,
            email=COORDINATOR,
            name="Julie Coordonnatrice",
            roles=["gestion", "preparation", "admin"],
            password=PASSWORD,
        )


def sign_in(page: Page, base: str, then: str) -> None:
    page.goto(f"{base}{then}")
    expect(page).to_have_url(re.compile(r"/gestion/connexion\?suivant="))
    page.get_by_label("Adresse courriel").fill(COORDINATOR)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(f"{base}{then}")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    """A seller node with the test catalogue and the coordinator's account."""
    folder = tmp_path_factory.mktemp("gestion")
    port = free_port()
    app = create_app(
        SellerSettings(
            database_url=f"sqlite:///{folder / 'seller.sqlite'}",
            subscriber_id="vendeur.gestion.example",
            key_dir=folder / "keys",
            public_url=f"http://127.0.0.1:{port}",
            registry_url=f"http://127.0.0.1:{free_port()}",  # never called by these pages
        )
    )
    load_catalog(app.state.engine)
    add_coordinator(app)
    server = UvicornThread(app, port).start()
    try:
        yield server.url, app
    finally:
        server.stop()
        app.state.engine.dispose()


def price_of(app: FastAPI, sku: str) -> Decimal:
    row = app.state.services.products.product(CAPITALE, sku)
    assert row is not None
    return Decimal(row["price"])


def test_the_coordinator_edits_a_price_in_the_table(
    page: Page,
    node: tuple[str, FastAPI],
    axe_check: AxeCheck,
    screenshot: Screenshot,
    page_errors: list[str],
) -> None:
    base, app = node
    missing = watch(page)
    sign_in(page, base, "/gestion/produits")
    expect(page.get_by_role("heading", name="Produits", exact=True)).to_be_visible()
    axe_check(page)
    screenshot(page, "gestion-produits")
    row = page.locator(f"#produit-{SYRUP}")
    expect(row).to_contain_text("12,50\u00a0$")
    row.get_by_role("link", name=re.compile("^Modifier")).click()
    price = row.get_by_label(re.compile("^Prix de Sirop"))
    expect(price).to_be_focused()  # the small form takes the focus
    expect(price).to_have_value("12,50")
    axe_check(page, "#produits")
    screenshot(page, "gestion-produits-edition", full_page=False)
    price.fill("13,75")
    row.get_by_role("button", name=re.compile("^Enregistrer")).click()
    expect(row).to_contain_text("13,75\u00a0$")
    expect(row.get_by_role("link", name=re.compile("^Modifier"))).to_be_focused()
    expect(page.locator("#messages")).to_contain_text(f"Produit {SYRUP} enregistré.")
    assert page.url == f"{base}/gestion/produits"  # no page load: the row was swapped
    assert price_of(app, SYRUP) == Decimal("13.75")
    # A refused value stays in the row with its message, nothing saved.
    row.get_by_role("link", name=re.compile("^Modifier")).click()
    row.get_by_label(re.compile("^Prix de Sirop")).fill("13,755")
    row.get_by_role("button", name=re.compile("^Enregistrer")).click()
    expect(row.locator(".field-error")).to_have_text("Au plus deux décimales.")
    row.get_by_role("link", name="Annuler").click()
    expect(row).to_contain_text("13,75\u00a0$")
    assert price_of(app, SYRUP) == Decimal("13.75")
    # The whole form of a new product, refused field by field.
    page.goto(f"{base}/gestion/produits/nouveau")
    axe_check(page)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#erreurs")).to_contain_text("erreur(s) à corriger")
    axe_check(page)
    screenshot(page, "gestion-produit-fiche")
    assert unexpected(page_errors) == [] and missing == []


def test_a_csv_import_refused_by_row_then_imported_with_its_progress(
    page: Page,
    node: tuple[str, FastAPI],
    axe_check: AxeCheck,
    screenshot: Screenshot,
    page_errors: list[str],
) -> None:
    base, app = node
    before = price_of(app, SYRUP)
    missing = watch(page)
    sign_in(page, base, "/gestion/produits/import")
    axe_check(page)
    page.get_by_label("Fichier CSV des produits").set_input_files(
        files=[{"name": "produits.csv", "mimeType": "text/csv", "buffer": BAD_CSV.encode()}]
    )
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.get_by_role("alert").first).to_contain_text("rien n'a été importé")
    errors = page.locator("#erreurs-import tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("3")
    expect(errors.nth(0)).to_contain_text("prix")
    expect(errors.nth(1)).to_contain_text("4")
    expect(errors.nth(1)).to_contain_text("sku")
    axe_check(page)
    screenshot(page, "gestion-import")
    assert price_of(app, SYRUP) == before  # nothing written
    assert app.state.services.products.product(CAPITALE, "miel-500g") is None

    page.get_by_label("Fichier CSV des produits").set_input_files(
        files=[{"name": "produits.csv", "mimeType": "text/csv", "buffer": GOOD_CSV.encode()}]
    )
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.get_by_role("status").first).to_contain_text("Rien n'est encore écrit")
    assert app.state.services.products.product(CAPITALE, "miel-500g") is None
    axe_check(page)
    page.get_by_role("button", name=re.compile("^Importer les 3")).click()
    bar = page.get_by_role("progressbar", name="Progression de l'import")
    expect(bar).to_be_visible()
    expect(page.locator("#import-etat")).to_contain_text("Import terminé", timeout=20_000)
    expect(bar).to_have_attribute("value", "100")
    expect(page.locator("#import-message")).to_contain_text(
        "3 ligne(s) importée(s) : 2 nouveau(x) produit(s), 1 mis à jour."
    )
    axe_check(page)
    screenshot(page, "gestion-import-termine")
    assert price_of(app, SYRUP) == Decimal("13.10")
    assert app.state.services.products.product(CAPITALE, "miel-500g") is not None
    assert unexpected(page_errors) == [] and missing == []


def test_the_coordinator_creates_an_api_key_shown_once(
    page: Page,
    node: tuple[str, FastAPI],
    axe_check: AxeCheck,
    screenshot: Screenshot,
    page_errors: list[str],
) -> None:
    base, app = node
    app.state.services.api_keys.create(CAPITALE, "Logiciel d'inventaire")
    missing = watch(page)
    sign_in(page, base, "/gestion/integrations")
    axe_check(page)
    page.get_by_label("Libellé").fill("Balance de l'entrepôt")
    page.get_by_role("button", name="Créer la clé").click()
    key = page.get_by_label("Clé d'API", exact=True)
    expect(key).to_have_value(re.compile(r"^rpv_"))
    expect(page.locator("#cles")).to_contain_text("Balance de l'entrepôt")
    axe_check(page)
    screenshot(page, "gestion-integrations")
    page.goto(f"{base}/gestion/integrations")
    expect(page.get_by_label("Clé d'API", exact=True)).to_have_count(0)
    assert unexpected(page_errors) == [] and missing == []


# --- an order a buyer sent over the network ---------------------------------------------------


def wait_for_state(net: Network, order_id: str, state: str, timeout: float = 15) -> None:
    """Until the buyer's node has a verified on_status saying the order is in ``state``."""
    deadline = time.monotonic() + timeout
    with net.buyer.arrived:
        while True:
            for message in net.buyer.callbacks.values():
                order = message.payload.get("message", {}).get("order", {})
                states = [
                    f.get("state", {}).get("descriptor", {}).get("code")
                    for f in order.get("fulfillments", [])
                ]
                if (
                    message.action == "on_status"
                    and order.get("id") == order_id
                    and state in states
                ):
                    return
            left = deadline - time.monotonic()
            assert left > 0, f"aucun on_status « {state} » pour {order_id}"
            net.buyer.arrived.wait(left)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_order_from_a_buyer_is_packed_then_its_pick_list_printed(
    page: Page,
    network: Network,  # noqa: F811
    axe_check: AxeCheck,
    screenshot: Screenshot,
    page_errors: list[str],
) -> None:
    add_coordinator(network.seller_app)
    _transaction, order = place(network, beckn_order((SYRUP, 6), (CHIPS, 2)))
    order_id = order["id"]
    base = network.seller_url
    missing = watch(page)
    sign_in(page, base, "/gestion/commandes")
    row = page.locator(f"#commande-{order_id}")
    expect(row).to_contain_text("Centre de services scolaire de la Capitale")
    expect(row).to_contain_text("École primaire des Berges — cuisine")
    expect(row).to_contain_text("BC-2026-0042")
    # From Pending the state machine allows Packed only (cancelling is on the order's page).
    buttons = row.get_by_role("button")
    expect(buttons).to_have_count(1)
    expect(buttons).to_have_text(re.compile("^Marquer « Emballée »"))
    axe_check(page)
    screenshot(page, "gestion-commandes")
    buttons.click()
    expect(row.locator(".badge-state")).to_have_text("Emballée")
    expect(page.locator("#messages")).to_contain_text(f"Commande {order_id} : Emballée.")
    labels = row.get_by_role("button").all_inner_texts()
    assert [re.sub(r"\s+—.*", "", label) for label in labels] == [
        "Marquer « Livreur assigné »",
        "Marquer « Ramassée par le livreur »",
        "Marquer « En cours de livraison »",
    ]
    wait_for_state(network, order_id, "Packed")  # the buyer's node was told, signed
    axe_check(page)
    page.set_viewport_size({"width": 768, "height": 1024})  # a tablet on the loading dock
    axe_check(page)
    screenshot(page, "gestion-commandes-tablette")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{base}/gestion/commandes/{order_id}")
    expect(page.locator(".timeline")).to_contain_text("En attente → Emballée")
    axe_check(page)

    page.goto(f"{base}/gestion/preparation?jour={DAY}")
    expect(page.locator("main")).to_contain_text(order_id)
    expect(page.locator("main")).to_contain_text("Totaux par produit")
    axe_check(page)
    # « Imprimer » opens the browser's print dialog (portal.js: no inline script under the
    # pages' Content-Security-Policy); the dialog itself is counted instead of shown.
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.get_by_role("button", name="Imprimer").click()
    assert page.evaluate("() => window.printed") == 1
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Imprimer")).to_be_hidden()
    expect(page.locator(".print-only").first).to_be_visible()
    expect(page.locator("main h2").first).to_be_visible()
    screenshot(page, "gestion-preparation")
    pdf = page.pdf(format="Letter")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
    page.emulate_media(media="screen")
    assert unexpected(page_errors) == [] and missing == []
