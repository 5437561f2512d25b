"""The demo network the journeys run on, and the institution's steps they share.

:func:`demo_network` starts what ``reseau-poles demo`` starts (``reseau_poles.demo``'s
:class:`DemoNetwork`: registry, gateway, buyer node and two seller nodes holding the 25 pôles,
real processes, their catalogues imported as the pôles' software would, the portal's demo
accounts) and gives the school a delivery site in Capitale-Nationale. conftest.py serves it as
the ``demo`` fixture, one network for each test module.

The steps (:func:`signed_in`, :func:`search_syrup`, :func:`add_syrup`, :func:`two_poles`,
:func:`wait_ordered`) are the buyer's, through the pages, as a person does them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from reseau_poles.demo.accounts import BUYER_PEOPLE
from reseau_poles.demo.network import DemoNetwork
from tests.demo.test_demo_once import free_base_port

from .conftest import LOCALE, VIEWPORT, AxeCheck, playwright_api

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

expect = playwright_api().expect

SELLER_NODES = 2
REGION = "QC-03"
SITE = {
    "name": "Cuisine centrale — École Sainte-Odile",
    "address": "1000, boulevard Wilfrid-Hamel, Québec (Québec)",
    "postal_code": "G1M 2R9",
    "region": REGION,
    "receiving_hours": [
        {"days": ["lun", "mar", "mer", "jeu", "ven"], "start": "07:00", "end": "11:00"}
    ],
    "cold_chain": ["ambiant", "refrigere"],
}
BUYER, APPROVER = (email for email, _, _ in BUYER_PEOPLE)
SYRUP = "Sirop d'érable ambré, goût riche"


@dataclass(frozen=True)
class Demo:
    """The running demo network, as the journeys see it."""

    net: DemoNetwork
    site: str  # the school's delivery site (its id on the buyer node)

    @property
    def url(self) -> str:
        """The buyer node (its portal is under /portail)."""
        return self.net.buyer.url

    @property
    def password(self) -> str:
        """The demo accounts' password (``make demo`` prints it)."""
        return str(self.net.state["accounts"]["password"])

    @property
    def nodes(self) -> list[set[str]]:
        """For each seller node, the names of its pôles that deliver to the school's region."""
        return [
            {p.provider.name for p in seller.poles if REGION in p.provider.served_regions}
            for seller in self.net.sellers
        ]

    def pole(self, name: str) -> tuple[str, str]:
        """The seller node serving the pôle named ``name`` (its URL) and the pôle's
        coordinator account (its e-mail, from the demo's state)."""
        for seller in self.net.sellers:
            for pole in seller.poles:
                if pole.provider.name == name:
                    return seller.url, str(self.net.state["accounts"]["poles"][pole.id])
        raise LookupError(name)


@contextmanager
def demo_network(folder: Path) -> Iterator[Demo]:
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
        yield Demo(net, site.json()["id"])


def new_page(browser: Browser) -> Page:
    """A page in a context of its own (its own cookies: a person at their own screen)."""
    context = browser.new_context(locale=LOCALE, viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    return context.new_page()


def signed_in(browser: Browser, demo: Demo, email: str) -> Page:
    """A person of the institution signed in on /portail, in a new context."""
    page = new_page(browser)
    page.goto(f"{demo.url}/portail/connexion")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe").fill(demo.password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("h1")).to_contain_text("Bonjour")
    return page


def search_syrup(page: Page, demo: Demo, axe_check: AxeCheck | None = None) -> None:
    """The search page (checked by ``axe_check`` when given), then « sirop d'érable »
    delivered to the school's site, Aliments du Québec only, until every seller node answered."""
    page.goto(f"{demo.url}/portail/recherche")
    if axe_check is not None:
        axe_check(page)
    page.get_by_label("Produit", exact=True).fill("sirop d'érable")
    page.get_by_label("Livrer à", exact=True).select_option(f"site:{demo.site}")
    page.get_by_label("Certification", exact=True).select_option("aliments_du_quebec")
    page.get_by_role("button", name="Rechercher").click()
    expect(page).to_have_url(re.compile(r"/portail/recherche/[0-9a-f-]+\?"))
    expect(page.locator("#etat-recherche")).to_contain_text("Recherche terminée", timeout=30_000)
    # The cards came pôle by pôle, each placed where it belongs: the live list is the one
    # the same address gives at once, without JavaScript, now that every pôle answered.
    live = page.locator("li.card.offre").evaluate_all("(cards) => cards.map((c) => c.id)")
    whole = page.request.get(page.url).text()
    assert live and live == re.findall(r'<li class="card offre" id="(offre-[0-9a-f]+)"', whole)


def card_of(page: Page, pole: str) -> Locator:
    return page.locator("li.card.offre").filter(has_text=pole).filter(has_text=SYRUP).first


def add_syrup(page: Page, pole: str, quantity: int) -> None:
    card = card_of(page, pole)
    card.get_by_label("Quantité").fill(str(quantity))
    card.get_by_role("button", name="Ajouter au panier").click()
    expect(card.locator(".ajout")).to_contain_text("Ajouté au panier")


def two_poles(page: Page, demo: Demo) -> tuple[str, str]:
    """A pôle of each seller node whose syrup card is on the page."""
    shown = set(
        page.locator("li.card.offre")
        .filter(has_text=SYRUP)
        .locator("p.muted strong")
        .all_inner_texts()
    )
    first = sorted(demo.nodes[0] & shown)
    second = sorted(demo.nodes[1] & shown)
    assert first and second, (shown, demo.nodes)
    return first[0], second[0]


def wait_ordered(page: Page) -> None:
    """The cart's progress, updated by htmx without a reload, until each pôle confirmed."""
    expect(page.locator("#progression")).to_contain_text(
        "Chaque pôle a confirmé sa commande", timeout=60_000
    )
    links = page.locator('#progression a[href^="/portail/commandes/"]')
    expect(links).to_have_count(2)


def money(text: str) -> Decimal:
    """An amount as the French pages write it (``1 234,56 $``) as a Decimal."""
    digits = re.sub(r"[\s\u00a0\u202f$]", "", text).replace(",", ".")
    return Decimal(digits)
