"""An institution buys on the portal, in Chromium, on a real network of processes: the demo's
registry, gateway, buyer node and two seller nodes (25 pôles, their catalogues imported as the
pôles' software would): the ``demo`` fixture (tests/browser/journeys.py), as
``reseau-poles demo`` starts it.

The buyer signs in, searches « sirop d'érable » delivered to the school's site, filters
Aliments du Québec, sees the cards arrive from pôles of both seller nodes, adds syrup from two
pôles, gives the cart its site and PO number, previews each pôle's quote and confirms: two
orders. With the approval step on, the buyer submits and the approver approves: two orders
more. axe-core checks each page; screenshots of the search, the cart and the quote are kept."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .conftest import AxeCheck, Screenshot, playwright_api
from .journeys import (
    APPROVER,
    BUYER,
    Demo,
    add_syrup,
    card_of,
    search_syrup,
    signed_in,
    two_poles,
    wait_ordered,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

expect = playwright_api().expect


def test_an_institution_searches_fills_a_cart_and_orders_from_two_poles(
    browser: Browser,
    demo: Demo,
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
    page.get_by_label("Site de livraison", exact=True).select_option(demo.site)
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
    browser: Browser, demo: Demo, axe_check: AxeCheck, screenshot: Screenshot
) -> None:
    approver = signed_in(browser, demo, APPROVER)
    approver.goto(f"{demo.url}/portail/organisation")
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
        buyer.get_by_label("Site de livraison", exact=True).select_option(demo.site)
        buyer.get_by_role("button", name="Enregistrer").click()
        expect(buyer.get_by_role("button", name="Confirmer la commande")).to_have_count(0)
        buyer.get_by_role("button", name="Soumettre pour approbation").click()
        expect(buyer.locator("#messages")).to_contain_text("soumis pour approbation")
        expect(buyer.locator("main")).to_contain_text("En attente d'approbation")
        expect(buyer.get_by_role("button", name="Modifier")).to_have_count(0)
        axe_check(buyer)

        approver.goto(f"{demo.url}/portail/paniers")
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
        approver.goto(f"{demo.url}/portail/organisation")
        approver.get_by_label("Les acheteurs commandent directement").check()
        approver.get_by_role("button", name="Enregistrer").click()
        approver.context.close()
