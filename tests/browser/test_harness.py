"""The browser harness itself, on real servers: a seller node's offline /docs page opens in
Chromium with nothing fetched from outside; a page built on the portal's package files loads
htmx 2 and its SSE extension (a fragment swapped with the indicator shown, an event received
live), passes axe, and is photographed; axe's check does fail a page that is not accessible."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from reseau_poles.seller.app import create_app as create_seller
from reseau_poles.seller.settings import SellerSettings
from tests.conftest import free_port
from tests.registry.conftest import UvicornThread

from .conftest import AxeCheck, Screenshot, find_chromium, playwright_api
from .support import serve, site

if TYPE_CHECKING:
    from playwright.sync_api import Page

expect = playwright_api().expect

PAGE = """<!doctype html>
<html lang="fr-CA">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Essai du cadre du portail</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/static/portal/portal.css">
  <script src="/static/portal/vendor/htmx.min.js" defer></script>
  <script src="/static/portal/vendor/htmx-ext-sse.js" defer></script>
</head>
<body>
  <a class="skip-link" href="#contenu">Aller au contenu</a>
  <header class="site-header"><div class="container"><span class="brand">Réseau Pôles</span></div></header>
  <main id="contenu" class="container stack">
    <h1>Essai du cadre</h1>
    <div class="row">
      <button class="btn btn-primary" hx-get="/fragment" hx-target="#cible" hx-indicator="#attente">
        Charger le fragment</button>
      <span id="attente" class="htmx-indicator">Chargement…</span>
    </div>
    <div id="cible" aria-live="polite"></div>
    <section id="flux" class="card" hx-ext="sse" sse-connect="/evenements" sse-swap="message"
             aria-live="polite"><p>En attente du serveur…</p></section>
  </main>
</body>
</html>
"""


def test_chromium_named_by_the_environment_must_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEAU_POLES_CHROMIUM", "/nulle-part/chromium")
    executable, why = find_chromium()
    assert executable is None
    assert "RESEAU_POLES_CHROMIUM=/nulle-part/chromium" in why


@pytest.fixture(scope="module")
def seller_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("vendeur")
    port = free_port()
    seller = create_seller(
        SellerSettings(
            database_url=f"sqlite:///{folder / 'seller.sqlite'}",
            subscriber_id="vendeur.navigateur.example",
            key_dir=folder / "keys",
            public_url=f"http://127.0.0.1:{port}",
            registry_url=f"http://127.0.0.1:{free_port()}",  # never called by /docs
        )
    )
    server = UvicornThread(seller, port).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_a_seller_nodes_documentation_opens_offline(
    page: Page, seller_node: str, screenshot: Screenshot, page_errors: list[str]
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{seller_node}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("vendeur", ignore_case=True)
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert requested and all(url.startswith(f"{seller_node}/") for url in requested), requested
    assert page_errors == []
    assert screenshot(page, "harnais-docs-vendeur", full_page=False).stat().st_size > 10_000


def test_htmx_and_its_sse_extension_work_from_the_package_files(
    page: Page,
    tmp_path: Path,
    axe_check: AxeCheck,
    screenshot: Screenshot,
    page_errors: list[str],
) -> None:
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    with serve(site(tmp_path)) as base:
        css = page.request.get(f"{base}/static/portal/portal.css")
        assert css.ok and css.headers["content-type"].startswith("text/css")
        page.goto(f"{base}/")
        # The extension's init gives htmx its EventSource factory: it is registered.
        page.wait_for_function("window.htmx && typeof htmx.createEventSource === 'function'")
        assert page.evaluate("htmx.version").startswith("2.")
        expect(page.locator("#flux #direct")).to_have_text("Reçu en direct")

        page.get_by_role("button", name="Charger le fragment").click()
        indicator = page.locator("#attente")
        expect(indicator).to_have_class(re.compile(r"\bhtmx-request\b"))
        page.wait_for_function(
            "getComputedStyle(document.querySelector('#attente')).opacity === '1'"
        )
        expect(page.locator("#cible #fragment")).to_contain_text("HX-Request : true")
        expect(indicator).not_to_have_class(re.compile(r"\bhtmx-request\b"))

        axe_check(page)
        screenshot(page, "harnais-htmx")
        page.goto("about:blank")  # the event stream closes before the server stops
    assert all(url.startswith(f"{base}/") for url in requested), requested
    assert page_errors == []


def test_axe_check_fails_a_page_that_is_not_accessible(
    page: Page, tmp_path: Path, axe_check: AxeCheck
) -> None:
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><head><title>Mauvaise page</title></head><body><main>"
        '<p style="color:#bbb;background:#fff">Texte trop pâle</p>'
        '<input type="text"><img src="/x.png"></main></body></html>',
        encoding="utf-8",
    )
    with serve(site(tmp_path)) as base:
        page.goto(f"{base}/")
        with pytest.raises(pytest.fail.Exception) as failure:
            axe_check(page)
    message = str(failure.value)
    for rule in ("color-contrast", "label", "image-alt", "html-has-lang"):
        assert rule in message, message
    assert "[serious]" in message and "[critical]" in message
