"""portal.css on a sample page that uses every class of its vocabulary (tests/browser/pages/
style.html): no serious accessibility violation (contrast included), targets of 44 px, a
visible focus, no sideways scrolling on a tablet, a clean print; photographed for reviewers
as build/screenshots/style.png (1280 px), style-768.png (tablet) and style-impression.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .conftest import LOCALE, AxeCheck, Screenshot, playwright_api
from .support import PAGES, PORTAL_STATIC, serve, site

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

expect = playwright_api().expect

VOCABULARY = [
    "container",
    "page-header",
    "card",
    "cards",
    "badge",
    "badge-aq",
    "badge-apq",
    "badge-bio",
    "badge-froid",
    "badge-state",
    "btn",
    "btn-primary",
    "btn-danger",
    "btn-small",
    "table",
    "table-wrap",
    "form-grid",
    "field",
    "field-error",
    "flash",
    "flash-ok",
    "flash-error",
    "muted",
    "money",
    "timeline",
    "progress",
    "filters",
    "stack",
    "row",
    "sr-only",
    "print-only",
    "no-print",
]

TARGETS = ".btn, .site-nav a, .lang-switch a, .check, main input:not([type=checkbox]), main select"


@pytest.fixture(scope="module")
def style_page() -> Iterator[str]:
    with serve(site(PAGES)) as base:
        yield f"{base}/style.html"


def test_the_stylesheet_defines_the_whole_vocabulary() -> None:
    css = (PORTAL_STATIC / "portal.css").read_text("utf-8")
    defined = set(re.findall(r"\.([a-z][a-z0-9-]*)", re.sub(r"/\*.*?\*/", "", css, flags=re.S)))
    assert [name for name in VOCABULARY if name not in defined] == []
    html = (PAGES / "style.html").read_text("utf-8")
    used = {name for attr in re.findall(r'class="([^"]+)"', html) for name in attr.split()}
    assert [name for name in VOCABULARY if name not in used] == []


def test_the_sample_page_is_accessible_at_1280(
    page: Page,
    style_page: str,
    axe_check: AxeCheck,
    screenshot: Screenshot,
    page_errors: list[str],
) -> None:
    page.goto(style_page)
    axe_check(page)
    screenshot(page, "style")
    small = page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .filter((e) => e.offsetParent !== null)
            .map((e) => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])
            .filter(([, height]) => height < 44)""",
        TARGETS,
    )
    assert small == []
    assert page_errors == []


def test_focus_is_visible_and_the_skip_link_comes_first(page: Page, style_page: str) -> None:
    page.goto(style_page)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0  # type: ignore[index]
    for _ in range(3):
        page.keyboard.press("Tab")
    outline = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"""
    )
    assert outline[0] == "solid" and outline[1] >= 2, outline


@pytest.fixture
def tablet(browser: Browser) -> Iterator[Page]:
    """A touch screen held upright: 768×1024, coarse pointer."""
    context = browser.new_context(
        locale=LOCALE, viewport={"width": 768, "height": 1024}, has_touch=True
    )
    yield context.new_page()
    context.close()


def test_a_tablet_reads_it_in_larger_type_without_sideways_scrolling(
    tablet: Page, style_page: str, axe_check: AxeCheck, screenshot: Screenshot
) -> None:
    tablet.goto(style_page)
    assert tablet.evaluate("matchMedia('(pointer: coarse)').matches")
    assert tablet.evaluate("getComputedStyle(document.documentElement).fontSize") == "18px"
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 768
    axe_check(tablet)
    screenshot(tablet, "style-768")


def test_print_keeps_the_content_and_drops_what_is_clicked(
    page: Page, style_page: str, screenshot: Screenshot, tmp_path: Path
) -> None:
    page.goto(style_page)
    page.emulate_media(media="print")
    expect(page.locator(".print-only").first).to_be_visible()
    for hidden in (".no-print", ".site-header", ".site-footer", ".filters", ".btn"):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.locator(".table").first).to_be_visible()
    screenshot(page, "style-impression")
    pdf = tmp_path / "style.pdf"
    page.pdf(path=str(pdf), format="Letter")
    assert pdf.read_bytes().startswith(b"%PDF")
