"""An institution buys on the portal, in Chromium, on a real network of processes: the demo's
registry, gateway, buyer node and two seller nodes (25 pôles, their catalogues imported as the
pôles' software would), started by ``reseau_poles.demo.network.DemoNetwork``.

The buyer signs in, searches « sirop d'érable » delivered to the school's site, filters
Aliments du Québec, sees the cards arrive from pôles of both seller nodes, adds syrup from two
pôles, gives the cart its site and PO number, previews each pôle's quote and confirms: two
orders. With the approval step on, the buyer submits and the approver approves: two orders
more. axe-core checks each page; screenshots of the search, the cart and the quote are kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from reseau_poles.demo.accounts import BUYER_PEOPLE
from reseau_poles.demo.network import DemoNetwork
from tests.demo.test_demo_once import free_base_port

from .conftest import AxeCheck, Screenshot, playwright_api

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

expect = playwright_api().expect

SELLER_NODES = 2
SITE = {
    "name": "Cuisine centrale — École Sainte-Odile",
    "address": "1000, boulevard Wilfrid-Hamel, Québec (Québec)",
    "postal_code": "G1M 2R9",
    "region": "QC-03",
    "receiving_hours": [
        {"days": ["lun", "mar", "mer", "jeu", "ven"], "start": "07:00", "end": "11:00"}
    ],
    "cold_chain": ["ambiant", "refrigere"],
}
BUYER, APPROVER = (email for email, _, _ in BUYER_PEOPLE)
SYRUP = "Sirop d'érable ambré, goût riche"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder: Path = tmp_path_factory.mktemp("demo-portail")
    net = DemoNetwork(
        folder / "demo",
        base_port=free_base_port(SELLER_NODES),
        seller_nodes=SELLER_NODES,
        say=lambda _text: None,
        start_timeout=120,
    )
    with net:
        site = httpx.post(
            f"{net.buyer.url}/api/sites",
            json=SITE,
            headers={"X-API-Key": net.buyer_api_key},
            timeout=30,
        )
        assert site.status_code == 201, site.text
        # the pôles of each seller node that deliver to the site's region
        nodes = [
            {p.provider.name for p in seller.poles if "QC-03" in p.provider.served_regions}
            for seller in net.sellers
        ]
        yield {
            "url": net.buyer.url,
            "password": net.state["accounts"]["password"],
            "site": site.json()["id"],
            "nodes": nodes,
            "key": net.buyer_api_key,
        }


def signed_in(browser: Browser, demo: dict[str, Any], email: str) -> Page:
    context = browser.new_context(locale="fr-CA", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{demo['url']}/portail/connexion")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe").fill(demo["password"])
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("h1")).to_contain_text("Bonjour")
    return page


def search_syrup(page: Page, demo: dict[str, Any], axe_check: AxeCheck | None = None) -> None:
    page.goto(f"{demo['url']}/portail/recherche")
    if axe_check is not None:
        axe_check(page)
    page.get_by_label("Produit", exact=True).fill("sirop d'érable")
    page.get_by_label("Livrer à", exact=True).select_option(f"site:{demo['site']}")
    page.get_by_label("Certification", exact=True).select_option("aliments_du_quebec")
    page.get_by_role("button", name="Rechercher").click()
    expect(page).to_have_url(re.compile(r"/portail/recherche/[0-9a-f-]+\?"))
    expect(page.locator("#etat-recherche")).to_contain_text("Recherche terminée", timeout=30_000)


def card_of(page: Page, pole: str) -> Any:
    return page.locator("li.card.offre").filter(has_text=pole).filter(has_text=SYRUP).first


def add_syrup(page: Page, pole: str, quantity: int) -> None:
    card = card_of(page, pole)
    card.get_by_label("Quantité").fill(str(quantity))
    card.get_by_role("button", name="Ajouter au panier").click()
    expect(card.locator(".ajout")).to_contain_text("Ajouté au panier")


def two_poles(page: Page, demo: dict[str, Any]) -> tuple[str, str]:
    """A pôle of each seller node whose syrup card is on the page."""
    shown = set(
        page.locator("li.card.offre")
        .filter(has_text=SYRUP)
        .locator("p.muted strong")
        .all_inner_texts()
    )
    first = sorted(demo["nodes"][0] & shown)
    second = sorted(demo["nodes"][1] & shown)
    assert first and second, (shown, demo["nodes"])
    return first[0], second[0]


def wait_ordered(page: Page) -> None:
    """The cart's progress, updated by htmx without a reload, until each pôle confirmed."""
    expect(page.locator("#progression")).to_contain_text(
        "Chaque pôle a confirmé sa commande", timeout=60_000
    )
    links = page.locator('#progression a[href^="/portail/commandes/"]')
    expect(links).to_have_count(2)


def test_an_institution_searches_fills_a_cart_and_orders_from_two_poles(
    browser: Browser,
    demo: dict[str, Any],
    axe_check: AxeCheck,
    screenshot: Screenshot,
) -> None:
    page = signed_in(browser, demo, BUYER)
    streams: list[str] = []
    page.on(
        "request", lambda request: streams.append(request.url) if "/flux" in request.url else None
    )
    served_pages: list[Any] = []
    page.on(
        "response",
        lambda response: (
            served_pages.append(response)
            if re.search(r"/portail/recherche/[0-9a-f-]+\?", response.url)
            else None
        ),
    )
    search_syrup(page, demo, axe_check)
    # every card holds the Aliments du Québec label; cards from pôles of both seller nodes
    cards = page.locator("li.card.offre")
    assert cards.count() >= 4
    for badge in cards.locator(".badges").all_inner_texts():
        assert "Aliments du Québec" in badge
    status = page.locator("#etat-recherche").inner_text()
    assert re.search(r"2 nœud\(s\) de pôles sur 2 ont répondu", status), status
    # htmx brought the results page in at once (boosted form, no server wait); the page
    # followed the search live and the cards arrived through its stream, pôle by pôle.
    served = served_pages[0]
    assert served.request.all_headers().get("hx-boosted") == "true"
    assert "sse-connect=" in served.text()
    assert streams
    assert cards.count() > served.text().count('class="card offre"')
    first, second = two_poles(page, demo)
    axe_check(page)
    screenshot(page, "portail-recherche")

    add_syrup(page, first, 12)
    add_syrup(page, second, 6)
    card_of(page, first).get_by_role("link", name="Voir le panier").click()

    expect(page.locator("h1")).to_be_visible()
    page.get_by_label("Nom du panier", exact=True).fill("Cafétéria — semaine du 14")
    page.get_by_label("Site de livraison", exact=True).select_option(demo["site"])
    page.get_by_label("Bon de commande", exact=True).fill("BC-2026-0412")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#messages")).to_contain_text("Panier enregistré")
    groups = page.locator("article.card")
    expect(groups).to_have_count(2)
    expect(groups.filter(has_text=first).locator('input[name="quantity"]')).to_have_value("12")
    axe_check(page)
    screenshot(page, "portail-panier")
    page.set_viewport_size({"width": 768, "height": 1024})  # a tablet, upright
    axe_check(page)
    screenshot(page, "portail-panier-tablette", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Aperçu du devis").click()
    expect(page.locator("h1")).to_have_text("Aperçu du devis")
    expect(page.locator("article.card").filter(has_text="Devis reçu")).to_have_count(
        2, timeout=20_000
    )
    expect(page.locator("main")).to_contain_text("TPS")
    axe_check(page)
    screenshot(page, "portail-apercu")

    page.get_by_role("button", name="Confirmer la commande").click()
    wait_ordered(page)
    axe_check(page)
    screenshot(page, "portail-panier-commande")
    page.get_by_role("link", name="Paniers").first.click()
    expect(page.locator("table")).to_contain_text("Cafétéria — semaine du 14")
    axe_check(page)
    page.context.close()


def test_with_the_approval_step_the_approver_orders(
    browser: Browser, demo: dict[str, Any], axe_check: AxeCheck, screenshot: Screenshot
) -> None:
    approver = signed_in(browser, demo, APPROVER)
    approver.goto(f"{demo['url']}/portail/organisation")
    axe_check(approver)
    approver.get_by_label("Un approbateur approuve chaque panier avant la commande").check()
    approver.get_by_role("button", name="Enregistrer").click()
    expect(approver.locator("#messages")).to_contain_text("maintenant requise")
    try:
        buyer = signed_in(browser, demo, BUYER)
        search_syrup(buyer, demo)
        first, second = two_poles(buyer, demo)
        buyer.get_by_label("Les articles vont dans le panier", exact=True).select_option("nouveau")
        buyer.get_by_role("button", name="Choisir").click()
        expect(buyer.locator("#messages")).to_contain_text("Panier courant choisi")
        add_syrup(buyer, first, 6)
        add_syrup(buyer, second, 6)
        card_of(buyer, second).get_by_role("link", name="Voir le panier").click()
        buyer.get_by_label("Nom du panier", exact=True).fill("Collations — approbation")
        buyer.get_by_label("Site de livraison", exact=True).select_option(demo["site"])
        buyer.get_by_role("button", name="Enregistrer").click()
        expect(buyer.get_by_role("button", name="Confirmer la commande")).to_have_count(0)
        buyer.get_by_role("button", name="Soumettre pour approbation").click()
        expect(buyer.locator("#messages")).to_contain_text("soumis pour approbation")
        expect(buyer.locator("main")).to_contain_text("En attente d'approbation")
        expect(buyer.get_by_role("button", name="Modifier")).to_have_count(0)
        axe_check(buyer)

        approver.goto(f"{demo['url']}/portail/paniers")
        waiting = approver.locator("section.card").filter(
            has_text="en attente de votre approbation"
        )
        waiting.get_by_role("link", name="Collations — approbation").click()
        expect(approver.locator("main")).to_contain_text("Soumis par Alex Acheteur")
        axe_check(approver)
        screenshot(approver, "portail-approbation")
        approver.get_by_role("button", name="Approuver et commander").click()
        wait_ordered(approver)
        expect(approver.locator("main")).to_contain_text("Approuvé par Camille Approbatrice")
        buyer.context.close()
    finally:
        approver.goto(f"{demo['url']}/portail/organisation")
        approver.get_by_label("Les acheteurs commandent directement").check()
        approver.get_by_role("button", name="Enregistrer").click()
        approver.context.close()
