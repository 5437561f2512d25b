"""Browser tests: Playwright for Python drives the machine's own Chromium (Debian's package)
through its executable path; no browser is ever downloaded (`playwright install` is never
run).

Chromium is ``$RESEAU_POLES_CHROMIUM``, else ``/usr/bin/chromium``, else ``chromium`` or
``chromium-browser`` on the PATH. Without it (or without Playwright) the browser tests are
skipped with the reason, unless ``RESEAU_POLES_TEST_REQUIRE_BROWSER=1`` (CI): then they fail.

Fixtures: ``browser`` (one Chromium per test module), ``page`` (alias ``browser_page``: a
fresh context in fr-CA at 1280×900), ``page_errors`` (the page's uncaught errors and console
errors), ``axe_check(page, context=None)`` (axe-core from tests/browser/vendor run in the
page; fails on serious or critical violations), ``screenshot(page, name)`` (saved as
build/screenshots/<name>.png).

Network: ``demo`` (tests/browser/journeys.py): the demo network of real processes, as
``reseau-poles demo`` starts it, with two seller nodes; one for each test module (a module's
first search then meets cold nodes, as a fresh network's does, and its orders are its own)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from .journeys import Demo

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
REQUIRE_BROWSER = os.environ.get("RESEAU_POLES_TEST_REQUIRE_BROWSER") == "1"
LOCALE = "fr-CA"
VIEWPORT = {"width": 1280, "height": 900}
# What axe reports that fails a test; "moderate" and "minor" are returned, not failed.
FAILING_IMPACTS = frozenset({"serious", "critical"})


def playwright_api() -> ModuleType:
    """``playwright.sync_api``; without Playwright, the calling test module is skipped (on CI:
    the import error stands)."""
    try:
        import playwright.sync_api as api
    except ImportError:
        if REQUIRE_BROWSER:
            raise
        pytest.skip(
            "Playwright pour Python manque : pip install -e '.[dev]'", allow_module_level=True
        )
    return api


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the CI requires the browser."""
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (RESEAU_POLES_TEST_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


def find_chromium() -> tuple[str | None, str]:
    """Chromium's executable, or None and why not."""
    named = os.environ.get("RESEAU_POLES_CHROMIUM")
    if named:
        found = shutil.which(named)
        return (found, "") if found else (None, f"RESEAU_POLES_CHROMIUM={named} : introuvable")
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found, ""
    return None, (
        "Chromium introuvable (apt-get install chromium, ou RESEAU_POLES_CHROMIUM=/chemin)"
    )


# One browser per test module, not per session: Playwright's synchronous API runs its event loop
# in this thread while it is started, so any later test of the same worker that calls
# asyncio.run() would fail ("cannot be called from a running event loop"). Stopped at the end of
# the module, it leaves the worker as it found it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("Playwright pour Python manque : pip install -e '.[dev]'")
    executable, why = find_chromium()
    if executable is None:
        unavailable(why)
    with sync_playwright() as playwright:
        try:
            # The browser's own language too (a date field's format follows it, not the
            # page's): a Québec buyer's French Chromium (jj/mm/aaaa), not an American one.
            # On Linux Chromium takes it from LANGUAGE, among the languages it has (Debian:
            # the chromium-l10n package, which .ci/run installs).
            chromium = playwright.chromium.launch(
                executable_path=executable,
                headless=True,
                args=[f"--lang={LOCALE}"],
                env={**os.environ, "LANGUAGE": f"{LOCALE.replace('-', '_')}:fr"},
            )
        except Error as exc:
            unavailable(f"Chromium ({executable}) ne démarre pas : {exc.message.splitlines()[0]}")
        yield chromium
        chromium.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Filled by ``page``: uncaught exceptions and console errors, in order."""
    return []


@pytest.fixture
def page(browser: Browser, page_errors: list[str]) -> Iterator[Page]:
    context = browser.new_context(locale=LOCALE, viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    opened = context.new_page()
    opened.on("pageerror", lambda error: page_errors.append(f"exception : {error}"))
    opened.on(
        "console",
        lambda message: (
            page_errors.append(f"console : {message.text}") if message.type == "error" else None
        ),
    )
    yield opened
    context.close()
    # The pages' Content-Security-Policy refuses inline scripts and styles: Chromium logs
    # each refusal as a console error; any is a page that would be broken for its user.
    refused = [error for error in page_errors if "Content Security Policy" in error]
    assert refused == [], "\n".join(refused)


@pytest.fixture
def browser_page(page: Page) -> Page:
    return page


def format_violations(violations: list[dict[str, Any]]) -> str:
    """axe's violations as a list a person reads: rule, impact, help, then each element."""
    lines = []
    for violation in violations:
        lines.append(
            f"- [{violation['impact']}] {violation['id']} : {violation['help']} "
            f"({violation['helpUrl'].split('?')[0]})"
        )
        for node in violation["nodes"][:8]:
            target = " ".join(str(part) for part in node["target"])
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {target} — {summary}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    … et {len(violation['nodes']) - 8} autres éléments")
    return "\n".join(lines)


AxeCheck = Callable[..., list[dict[str, Any]]]

# axe looks at the page at rest: a card still fading in (portal.css: .cards > .htmx-added)
# is not yet its colour. Transitions and finite animations are awaited (never a spinner's).
_RUN_AXE = """async ([context, options]) => {
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  await Promise.all(document.getAnimations()
    .filter((a) => Number.isFinite(a.effect?.getComputedTiming().endTime))
    .map((a) => a.finished.catch(() => null)));
  const results = await window.axe.run(context ?? document, options);
  return results.violations;
}"""


@pytest.fixture
def axe_check() -> AxeCheck:
    """``axe_check(page, context=None, rules=None)``: run axe-core in the page (on the whole
    document, or on the CSS selector ``context``), fail on serious or critical violations, and
    return every violation. ``rules`` turns rules on or off (axe's ``rules`` option), e.g.
    ``{"region": {"enabled": False}}`` for a fragment."""
    source = AXE.read_text("utf-8")

    def check(
        page: Page, context: str | None = None, rules: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        # Evaluated through the browser's devtools protocol, so a page's Content-Security-
        # Policy (no inline script) does not stop it.
        if page.evaluate("() => typeof window.axe") == "undefined":
            page.evaluate(f"() => {{\n{source}\n}}")
        options: dict[str, Any] = {"resultTypes": ["violations"]}
        if rules:
            options["rules"] = rules
        violations: list[dict[str, Any]] = page.evaluate(_RUN_AXE, [context, options])
        failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
        if failing:
            pytest.fail(
                f"axe-core : {len(failing)} violation(s) grave(s) ou critique(s) sur "
                f"{page.url}\n{format_violations(failing)}",
                pytrace=False,
            )
        return violations

    return check


Screenshot = Callable[..., Path]


@pytest.fixture
def screenshot() -> Screenshot:
    """``screenshot(page, name, full_page=True)`` → build/screenshots/<name>.png."""

    def take(page: Page, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo network (registry, gateway, buyer node, two seller nodes of the 25 pôles),
    started for the module's journeys, stopped after them."""
    from .journeys import demo_network

    with demo_network(tmp_path_factory.mktemp("demo-portail")) as network:
        yield network
