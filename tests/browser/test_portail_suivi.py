"""The institution follows its orders in Chromium, on the demo network's real processes
(registry, gateway, buyer node, a seller node of five pôles: ``reseau_poles.demo``).

The order is placed as the institution's software would (the buyer node's API), its person
signs in to ``/portail`` with an account made by ``reseau-poles buyer accounts create``; then:

* the order's page is open when the pôle marks it Packed through its own API: the page's
  timeline changes without a reload (the SSE stream), and screen readers are told;
* cancelling shows the fee the pôle's terms give at that step before anything is sent, then
  the pôle's answer comes on the page;
* an order saved as a guide is reordered from the guides' page in one click to a new cart;
* the local-purchasing report shows the purchase, as charts and tables.

Every page passes axe-core (no serious or critical violation) and is photographed
(build/screenshots/portail-commandes.png, portail-commande.png, portail-guides.png,
portail-rapport.png).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from rich.console import Console

from reseau_poles.demo.network import BUYER_ORGANISATION, DemoNetwork, Participant
from reseau_poles.demo.sample import SamplePole
from reseau_poles.demo.scenario import Scenario, delivers_cold
from tests.demo.test_demo_once import free_base_port

from .conftest import AxeCheck, Screenshot, playwright_api

if TYPE_CHECKING:
    from playwright.sync_api import Page

expect = playwright_api().expect

EMAIL = "marie.tremblay@css-demo.example"
PASSWORD = "Cuisine-centrale-2026"
LINES = (("sirop-erable-540ml", 12), ("fromage-grains-1kg", 5))
SEARCHES = ("sirop érable", "fromage en grains")
# Set before any of the page's scripts: whether the SSE stream opened, and what the page's
# load was (a reload would make a new one).
WATCH_SSE = """
window.__ouvertures = 0;
document.addEventListener('htmx:sseOpen', () => { window.__ouvertures += 1; });
"""


@dataclass
class Journey:
    net: DemoNetwork
    seller: Participant
    pole: SamplePole
    http: httpx.Client
    order: dict[str, Any]  # followed, then cancelled
    kept: dict[str, Any]  # saved as a guide, counted in the report

    @property
    def portal(self) -> str:
        return f"{self.net.buyer.url}/portail"

    def buyer(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.http.request(
            method,
            f"{self.net.buyer.url}{path}",
            headers={"X-API-Key": self.net.buyer_api_key},
            **kwargs,
        )
        assert response.status_code in (200, 201, 202), response.text
        return dict(response.json())

    def move(self, state: str) -> None:
        """The pôle moves the order (its node's management API; an on_status follows)."""
        response = self.http.post(
            f"{self.seller.url}/api/providers/{self.pole.id}/orders/"
            f"{self.order['seller_order_id']}/fulfillment",
            json={"state": state},
            headers={"X-API-Key": self.net.pole_api_key(self.pole.id)},
        )
        assert response.status_code == 200, response.text


def _pole_with_a_fee(net: DemoNetwork) -> tuple[Participant, SamplePole]:
    """A pôle delivering refrigerated goods to Capitale-Nationale that charges a fee for a
    cancellation once the goods are packed (so that the fee shown is not zero)."""
    for seller in net.sellers:
        for pole in seller.poles:
            if delivers_cold(pole, "QC-03") and pole.provider.cancellation_fee_percentage > 0:
                return seller, pole
    pytest.skip("aucun pôle de la démo ne facture l'annulation")


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    root = tmp_path_factory.mktemp("demo-portail")
    with (
        DemoNetwork(
            root / ".demo", base_port=free_base_port(1), seller_nodes=1, say=lambda _t: None
        ) as net,
        httpx.Client(timeout=30) as http,
    ):
        made = subprocess.run(
            [
                sys.executable,
                "-m",
                "reseau_poles.cli",
                "buyer",
                "accounts",
                "create",
                "--config",
                str(net.buyer.config_file),
                "--organisation",
                BUYER_ORGANISATION,
                "--email",
                EMAIL,
                "--name",
                "Marie Tremblay",
                "--role",
                "acheteur,approbateur",
                "--password-stdin",
            ],
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            cwd=root,
            timeout=120,
            check=False,
        )
        assert made.returncode == 0, made.stdout + made.stderr
        seller, pole = _pole_with_a_fee(net)
        scenario = Scenario(net, Console(quiet=True), http)
        scenario.chosen = [(seller, pole)]
        scenario.restock()
        for text in SEARCHES:  # the catalogue the order's lines and the guide's cart check
            started = http.post(
                f"{net.buyer.url}/api/searches",
                json={"text": text, "region": "QC-03"},
                headers={"X-API-Key": net.buyer_api_key},
            )
            assert started.status_code == 202, started.text
            found = http.get(
                f"{net.buyer.url}/api/searches/{started.json()['transaction_id']}",
                params={"wait_ms": 15_000},
                headers={"X-API-Key": net.buyer_api_key},
            )
            assert found.json()["complete"], found.text
        trip = Journey(net, seller, pole, http, {}, {})
        trip.order = place(trip, scenario, "BC-2026-0042")
        trip.kept = place(trip, scenario, "BC-2026-0043")
        yield trip


def place(trip: Journey, scenario: Scenario, purchase_order: str) -> dict[str, Any]:
    """An order through the buyer node's API: select, init, confirm."""
    body = scenario.order_body(trip.seller, trip.pole)
    body["items"] = [{"id": sku, "quantity": quantity} for sku, quantity in LINES]
    body["purchase_order_number"] = purchase_order
    started = trip.buyer("POST", "/api/orders", json=body)
    order = trip.buyer("GET", f"/api/orders/{started['id']}", params={"wait_ms": 15_000})
    assert order["state"] == "selected", order
    for action in ("init", "confirm"):
        trip.buyer("POST", f"/api/orders/{order['id']}/{action}", json={})
        order = trip.buyer("GET", f"/api/orders/{order['id']}", params={"wait_ms": 15_000})
    assert order["state"] == "confirmed", order
    return order


def sign_in(page: Page, journey: Journey, then: str) -> None:
    page.goto(f"{journey.portal}{then}")
    expect(page).to_have_url(re.compile(r"/portail/connexion\?suivant="))
    page.get_by_label("Courriel").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(re.escape(then) + "$"))


def test_the_order_page_follows_the_pole_without_a_reload(
    page: Page, journey: Journey, axe_check: AxeCheck, screenshot: Screenshot
) -> None:
    order = journey.order
    sign_in(page, journey, "/commandes")
    row = page.get_by_role("row").filter(has_text="BC-2026-0042")
    expect(row).to_contain_text("Confirmée")
    expect(page.get_by_text("2 commande(s)")).to_be_visible()
    axe_check(page)
    screenshot(page, "portail-commandes")
    # A filter applies at once (htmx: the results only, the address kept).
    page.get_by_label("État").select_option("cancelled")
    expect(page.get_by_text("Aucune commande ne correspond à ces filtres.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"etat=cancelled"))
    page.get_by_label("État").select_option("")
    expect(row).to_be_visible()

    page.add_init_script(WATCH_SSE)
    row.get_by_role("link").click()
    expect(page).to_have_url(f"{journey.portal}/commandes/{order['id']}")
    current = page.locator('#suivi-contenu li[aria-current="step"]')
    expect(current).to_contain_text("Confirmée par le pôle")
    page.wait_for_function("window.__ouvertures >= 1")
    page.evaluate("window.__meme_page = 'oui'")

    journey.move("Packed")
    expect(current).to_contain_text("Emballée", timeout=15_000)
    expect(page.locator("#suivi-annonce")).to_have_text("État de la commande : Emballée")
    assert page.evaluate("window.__meme_page") == "oui"  # the same page: no reload
    expect(page.locator("#suivi-contenu .badge-state").nth(1)).to_have_text("Emballée")
    axe_check(page)
    screenshot(page, "portail-commande")
    page.set_viewport_size({"width": 768, "height": 1024})  # a tablet, upright
    screenshot(page, "portail-commande-tablette")


def test_cancelling_shows_the_fee_then_the_poles_answer(
    page: Page, journey: Journey, axe_check: AxeCheck
) -> None:
    order = journey.order
    document = journey.buyer("GET", f"/api/orders/{order['id']}")
    if document["fulfillment"]["state"] != "Packed":
        journey.move("Packed")
    percentage = Decimal(journey.pole.provider.cancellation_fee_percentage)
    fee = (Decimal(order["total"]["value"]) * percentage / 100).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    sign_in(page, journey, f"/commandes/{order['id']}")
    page.get_by_role("link", name="Annuler la commande…").click()
    expect(page).to_have_url(f"{journey.portal}/commandes/{order['id']}/annulation")
    shown = f"{fee:.2f}".replace(".", ",") + "\u00a0$"
    expect(page.locator("#frais-montant")).to_have_text(shown)
    expect(page.get_by_text("parce que la commande est à l'étape « Emballée »")).to_be_visible()
    axe_check(page)
    page.get_by_label("Motif de l'annulation").select_option("besoin_change")
    page.get_by_role("button", name=re.compile("Annuler et payer")).click()

    expect(page).to_have_url(f"{journey.portal}/commandes/{order['id']}")
    expect(page.get_by_text("Annulation demandée au pôle")).to_be_visible()
    current = page.locator('#suivi-contenu li[aria-current="step"]')
    expect(current).to_contain_text("Annulée", timeout=15_000)
    cancelled = journey.buyer("GET", f"/api/orders/{order['id']}")
    assert cancelled["status"] == "CANCELLED"
    charged = cancelled["seller_document"]["quote"]["price"]["value"]
    assert Decimal(charged) == fee  # the fee shown is the fee the pôle charged


def test_an_order_saved_as_a_guide_is_reordered_in_one_click(
    page: Page, journey: Journey, axe_check: AxeCheck, screenshot: Screenshot
) -> None:
    order = journey.kept
    sign_in(page, journey, f"/commandes/{order['id']}")
    page.get_by_label("Nom du guide").fill("Dîners de la semaine")
    page.get_by_role("button", name="Enregistrer comme guide").click()
    expect(page.get_by_text("Guide « Dîners de la semaine » créé.")).to_be_visible()
    expect(page.get_by_label(re.compile("Quantité de Sirop"))).to_have_value("12")
    axe_check(page)

    page.get_by_role("link", name="Guides de commande").click()
    expect(page).to_have_url(f"{journey.portal}/guides")
    card = page.get_by_role("listitem").filter(has_text="Dîners de la semaine")
    expect(card).to_contain_text("2 produit(s) · 1 pôle(s)")
    axe_check(page)
    screenshot(page, "portail-guides")

    card.get_by_role("button", name=re.compile("Commander ce guide")).click()
    expect(page).to_have_url(re.compile(r"/portail/paniers/[0-9a-f-]{36}$"))
    cart_id = page.url.rsplit("/", 1)[1]
    cart = journey.buyer("GET", f"/api/carts/{cart_id}")
    assert cart["state"] == "ouvert" and cart["name"] == "Dîners de la semaine"
    assert sorted((line["item_id"], line["quantity"]) for line in cart["lines"]) == sorted(LINES)


def test_the_report_shows_the_purchase(
    page: Page, journey: Journey, axe_check: AxeCheck, screenshot: Screenshot, tmp_path: Path
) -> None:
    sign_in(page, journey, "/rapport")
    expect(page.get_by_role("heading", name="Rapport d'achat local")).to_be_visible()
    # The kept order at least (the other one too unless it was cancelled already).
    expect(page.get_by_text(re.compile(r"[12] commande\(s\) comptée\(s\)"))).to_be_visible()
    region = page.get_by_role("img", name="Achats par région d'origine")
    expect(region).to_be_visible()
    expect(page.get_by_role("img", name="Parts certifiées et origine québécoise")).to_be_visible()
    table = page.get_by_role("table").filter(has_text="Région d'origine")
    expect(table.get_by_role("row")).not_to_have_count(1)
    axe_check(page)
    screenshot(page, "portail-rapport")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger (CSV pour Excel)").click()
    saved = tmp_path / "rapport.csv"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"\xef\xbb\xbfRubrique;Code;")
