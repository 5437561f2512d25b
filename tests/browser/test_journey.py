"""The journey of issue 17, whole, in Chromium, on the demo network's real processes (the
module's ``demo`` fixture: registry, gateway, buyer node, two seller nodes, 25 pôles, as
``reseau-poles demo`` starts them) with two people at their own screens, side by side:

* the school's buyer signs in on /portail, searches « sirop d'érable », keeps Aliments du
  Québec, adds syrup from a pôle of each seller node, previews the quotes and confirms: two
  orders, one per pôle;
* the buyer opens one of the orders; the pôle's coordinator signs in on /gestion of that pôle's
  node, finds the order (the school's site, its PO number) and marks it Packed with its button;
* the buyer's order page, still open, changes without a reload: the same page (a marker set
  in it survives, no navigation happened) shows « Emballée », and screen readers are told;
* the local-purchasing report counts the two orders: its total grew by their amounts.

On the same network, on both portals (/portail and a pôle's /gestion): a wrong password
refused with no session opened, a post without its CSRF token refused, the English switch and
back, the skip link first in the tab order.

axe-core checks each page on the way; each is photographed as build/screenshots/journey-*.png.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from .conftest import VIEWPORT, AxeCheck, Screenshot, playwright_api
from .journeys import (
    APPROVER,
    BUYER,
    SYRUP,
    Demo,
    add_syrup,
    card_of,
    money,
    new_page,
    search_syrup,
    signed_in,
    two_poles,
    wait_ordered,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

expect = playwright_api().expect

PURCHASE_ORDER = "BC-PARCOURS-0017"


def delivery_day() -> date:
    """A weekday a week or so away: past every pôle's lead time, on its delivery days."""
    day = date.today() + timedelta(days=7)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


DELIVERY = delivery_day()
# Set before the order page's scripts: how many times its event stream opened.
WATCH_STREAM = """
window.__flux_ouverts = 0;
document.addEventListener('htmx:sseOpen', () => { window.__flux_ouverts += 1; });
"""


def report_figures(page: Page, demo: Demo, axe_check: AxeCheck) -> tuple[int, Decimal]:
    """The report of the default period: the orders it counts and their total, taxes in."""
    page.goto(f"{demo.url}/portail/rapport")
    expect(page.get_by_role("heading", name="Rapport d'achat local")).to_be_visible()
    axe_check(page)
    summary = page.get_by_text(re.compile(r"\d+ commande\(s\) comptée\(s\)")).inner_text()
    counted = int(re.search(r"(\d+) commande\(s\)", summary).group(1))  # type: ignore[union-attr]
    if counted == 0:
        expect(page.get_by_text("Aucune commande confirmée ou livrée")).to_be_visible()
        return 0, Decimal(0)
    row = page.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="Total des commandes, taxes comprises")
    )
    return counted, money(row.get_by_role("cell").inner_text())


def test_a_school_orders_from_two_poles_and_follows_the_packing_live(
    browser: Browser, demo: Demo, axe_check: AxeCheck, screenshot: Screenshot
) -> None:
    buyer = signed_in(browser, demo, BUYER)
    axe_check(buyer)
    screenshot(buyer, "journey-accueil")
    counted, total = report_figures(buyer, demo, axe_check)

    # --- the buyer searches, fills a cart from two pôles, previews, confirms ---------------
    search_syrup(buyer, demo, axe_check)
    cards = buyer.locator("li.card.offre")
    assert cards.count() >= 2
    for badges in cards.locator(".badges").all_inner_texts():
        assert "Aliments du Québec" in badges
    first, second = two_poles(buyer, demo)
    axe_check(buyer)
    buyer.set_viewport_size({"width": 1280, "height": 1420})  # the form and the first cards
    screenshot(buyer, "journey-recherche", full_page=False)
    buyer.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    add_syrup(buyer, first, 12)
    add_syrup(buyer, second, 6)
    card_of(buyer, second).get_by_role("link", name="Voir le panier").click()

    buyer.get_by_label("Nom du panier", exact=True).fill("Cafétéria — parcours complet")
    buyer.get_by_label("Site de livraison", exact=True).select_option(demo.site)
    buyer.get_by_label("Date de livraison", exact=True).fill(DELIVERY.isoformat())
    buyer.get_by_label("Entre (heure)", exact=True).fill("08:00")
    buyer.get_by_label("Et (heure)", exact=True).fill("10:30")
    buyer.get_by_label("Bon de commande", exact=True).fill(PURCHASE_ORDER)
    buyer.get_by_role("button", name="Enregistrer").click()
    expect(buyer.locator("#messages")).to_contain_text("Panier enregistré")
    groups = buyer.locator("article.card")
    expect(groups).to_have_count(2)
    for pole in (first, second):
        expect(groups.filter(has_text=pole)).to_contain_text(SYRUP)
    axe_check(buyer)
    screenshot(buyer, "journey-panier")

    buyer.get_by_role("button", name="Aperçu du devis").click()
    expect(buyer.locator("h1")).to_have_text("Aperçu du devis")
    quotes = buyer.locator("article.card").filter(has_text="Devis reçu")
    expect(quotes).to_have_count(2, timeout=20_000)
    expect(buyer.locator("main")).to_contain_text("TPS")
    axe_check(buyer)
    screenshot(buyer, "journey-apercu")

    buyer.get_by_role("button", name="Confirmer la commande").click()
    wait_ordered(buyer)
    axe_check(buyer)
    screenshot(buyer, "journey-commandes-passees")
    rows = buyer.locator("#progression tbody tr")
    totals = [money(text) for text in rows.locator("td.money").all_inner_texts()]
    assert len(totals) == 2 and all(amount > 0 for amount in totals), totals
    ordered = sum(totals, Decimal(0))

    # --- the buyer opens the first pôle's order: the page that will follow the pôle --------
    buyer.add_init_script(WATCH_STREAM)
    rows.filter(has_text=first).get_by_role("link").click()
    expect(buyer).to_have_url(re.compile(r"/portail/commandes/[0-9a-f-]{36}$"))
    expect(buyer.locator("h1")).to_contain_text(first)
    current = buyer.locator('#suivi-contenu li[aria-current="step"]')
    expect(current).to_contain_text("Confirmée par le pôle")
    buyer.wait_for_function("window.__flux_ouverts >= 1")
    seller_order = buyer.locator("dt", has_text="N° du pôle").locator("xpath=following::dd[1]")
    seller_order_id = seller_order.inner_text().strip()
    assert money(buyer.locator("tfoot td.money").inner_text()) in totals  # the same order
    axe_check(buyer)
    screenshot(buyer, "journey-commande")
    buyer.evaluate("window.__meme_page = 'oui'")
    navigations: list[str] = []
    buyer.on(
        "framenavigated",
        lambda frame: navigations.append(frame.url) if frame == buyer.main_frame else None,
    )

    # --- the pôle's coordinator, at another screen, packs it --------------------------------
    node, coordinator_email = demo.pole(first)
    coordinator = new_page(browser)
    coordinator.goto(f"{node}/gestion/commandes")
    expect(coordinator).to_have_url(re.compile(r"/gestion/connexion\?suivant="))
    axe_check(coordinator)
    coordinator.get_by_label("Courriel").fill(coordinator_email)
    coordinator.get_by_label("Mot de passe").fill(demo.password)
    coordinator.get_by_role("button", name="Se connecter").click()
    expect(coordinator).to_have_url(f"{node}/gestion/commandes")
    card = coordinator.locator(f"#commande-{seller_order_id}")
    expect(card).to_contain_text(PURCHASE_ORDER)
    expect(card).to_contain_text("Cuisine centrale — École Sainte-Odile")
    expect(card).to_contain_text(re.compile(r"8\sh\s00\s–\s10\sh\s30"))
    expect(card.locator(".badge-state")).to_have_text("En attente")
    axe_check(coordinator)
    screenshot(coordinator, "journey-gestion-commandes")
    card.get_by_role("button", name=re.compile("^Marquer « Emballée »")).click()
    expect(card.locator(".badge-state")).to_have_text("Emballée")
    expect(coordinator.locator("#messages")).to_contain_text(
        f"Commande {seller_order_id} : Emballée."
    )
    axe_check(coordinator)
    screenshot(coordinator, "journey-gestion-emballee")

    # --- the buyer's page changed by itself -------------------------------------------------
    expect(current).to_contain_text("Emballée", timeout=15_000)
    expect(buyer.locator("#suivi-annonce")).to_have_text("État de la commande : Emballée")
    expect(buyer.locator("#suivi-contenu .badge-state").nth(1)).to_have_text("Emballée")
    assert buyer.evaluate("window.__meme_page") == "oui"  # the same document: no reload
    assert navigations == []
    axe_check(buyer)
    screenshot(buyer, "journey-commande-emballee", full_page=False)  # the timeline
    coordinator.context.close()

    # --- the report counts the purchase -----------------------------------------------------
    counted_after, total_after = report_figures(buyer, demo, axe_check)
    assert counted_after == counted + 2
    assert total_after == total + ordered, (total, ordered, total_after)
    expect(buyer.get_by_role("img", name="Achats par région d'origine")).to_be_visible()
    screenshot(buyer, "journey-rapport")
    buyer.context.close()


# --- the frame, on both portals of the same network ------------------------------------------
# A wrong password, a form posted without its CSRF token, the English switch, the skip link:
# on the buyer node's /portail (the institution's approver) and on a seller node's /gestion
# (a pôle's coordinator), as people reach them.

PORTALS = ("portail", "gestion")


def person(demo: Demo, portal: str) -> tuple[str, str]:
    """Where ``portal`` is (its base address) and who signs in there."""
    if portal == "portail":
        return f"{demo.url}/portail", APPROVER
    seller = demo.net.sellers[-1]
    return f"{seller.url}/gestion", str(demo.net.state["accounts"]["poles"][seller.poles[0].id])


def sign_in(browser: Browser, demo: Demo, portal: str) -> tuple[Page, str]:
    base, email = person(demo, portal)
    page = new_page(browser)
    page.goto(f"{base}/connexion")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe").fill(demo.password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("h1")).to_contain_text("Bonjour")
    return page, base


@pytest.mark.parametrize("portal", PORTALS)
def test_a_wrong_password_is_refused_and_opens_no_session(
    browser: Browser, demo: Demo, portal: str, axe_check: AxeCheck, screenshot: Screenshot
) -> None:
    base, email = person(demo, portal)
    page = new_page(browser)
    page.goto(f"{base}/connexion")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe").fill(demo.password + "-pas-le-bon")
    with page.expect_navigation() as sent:
        page.get_by_role("button", name="Se connecter").click()
    assert sent.value is not None and sent.value.status == 400
    expect(page.get_by_role("alert")).to_have_text("Adresse courriel ou mot de passe incorrect.")
    expect(page.get_by_label("Courriel")).to_have_value(email)  # kept, to try again
    expect(page.get_by_label("Mot de passe")).to_have_value("")  # never sent back
    assert page.url == f"{base}/connexion"
    assert "rp_session" not in {cookie["name"] for cookie in page.context.cookies()}
    axe_check(page)
    screenshot(page, f"journey-connexion-refusee-{portal}")
    page.goto(f"{base}/")  # no session: the portal asks to sign in
    expect(page).to_have_url(re.compile(re.escape(f"{base}/connexion?suivant=")))
    page.context.close()


@pytest.mark.parametrize("portal", PORTALS)
def test_a_post_without_its_csrf_token_is_refused(
    browser: Browser, demo: Demo, portal: str, axe_check: AxeCheck, screenshot: Screenshot
) -> None:
    page, base = sign_in(browser, demo, portal)
    # A script posting to the portal with the session's cookie but not its token (what
    # another site's page could make a browser do).
    status, text = page.evaluate(
        """async (url) => {
            const answer = await fetch(url, {method: "POST", body: new URLSearchParams({})});
            return [answer.status, await answer.text()];
        }""",
        f"{base}/deconnexion",
    )
    assert status == 403
    assert "Le formulaire a expiré ou ne vient pas de ce site." in text
    # The sign-out form itself, its hidden token taken out: the refusal page.
    logout = page.locator("form.user")
    logout.locator('input[name="csrf_token"]').evaluate("field => field.remove()")
    with page.expect_navigation() as sent:
        logout.get_by_role("button", name="Se déconnecter").click()
    assert sent.value is not None and sent.value.status == 403
    expect(page.locator("h1")).to_have_text("Erreur 403")
    expect(page.get_by_role("alert")).to_contain_text("ne vient pas de ce site")
    axe_check(page)
    screenshot(page, f"journey-csrf-refuse-{portal}")
    page.goto(f"{base}/")  # nothing happened: still signed in
    expect(page.locator("h1")).to_contain_text("Bonjour")
    page.context.close()


@pytest.mark.parametrize("portal", PORTALS)
def test_the_english_switch_and_back(
    browser: Browser, demo: Demo, portal: str, axe_check: AxeCheck, screenshot: Screenshot
) -> None:
    page, base = sign_in(browser, demo, portal)
    page.goto(f"{base}/commandes")
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    expect(nav.get_by_role("link", name="Commandes")).to_have_attribute("aria-current", "page")
    french = page.locator("h1").inner_text()

    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(f"{base}/commandes")  # the same page, in English
    expect(page.locator("html")).to_have_attribute("lang", "en-CA")
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="Orders")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Home")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("h1")).not_to_have_text(french)
    axe_check(page)
    screenshot(page, f"journey-anglais-{portal}")
    page.goto(f"{base}/")  # the choice stays (a cookie) from page to page
    expect(page.locator("h1")).to_contain_text("Hello")

    page.get_by_role("link", name="Français").click()
    expect(page).to_have_url(f"{base}/")
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    expect(page.locator("h1")).to_contain_text("Bonjour")
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    page.context.close()


@pytest.mark.parametrize("portal", PORTALS)
def test_the_skip_link_is_the_first_tab_stop_and_focuses_main(
    browser: Browser, demo: Demo, portal: str, screenshot: Screenshot
) -> None:
    page, base = sign_in(browser, demo, portal)
    page.goto(f"{base}/commandes")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    box = skip.bounding_box()  # shown while focused (hidden otherwise)
    assert box is not None and box["width"] > 40 and box["height"] > 20
    assert box["y"] >= 0
    screenshot(page, f"journey-lien-evitement-{portal}", full_page=False)
    page.keyboard.press("Enter")
    expect(page.locator("main#contenu")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is inside the page's content, past the header
    assert page.evaluate("document.activeElement.closest('main') !== null")
    page.context.close()
