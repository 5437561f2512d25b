"""The portal's figures (issue 17) on the demo network, each beside a baseline measured in the
same run.

The demo network (``reseau_poles.demo``: registry, gateway, buyer node and 5 seller nodes of
5 pôles each, every one a real process on SQLite, the demo catalogue imported) is started in a
temporary folder. Before measuring, the demo's scenario orders from three pôles through the
buyer's API (one order delivered, one confirmed, one cancelled: real protocol exchanges), a
cart of two pôles is made, and a year of one institution's orders is written in the buyer's
database through its repositories.

1. First result card visible after submitting a search (target p95 < 300 ms), in Debian's
   Chromium driven by Playwright: the institution's buyer, signed in, on the search page,
   types a product and submits; the page's own clock (``performance.now()``) goes from the
   form's ``submit`` event to the animation frame that paints the first offer card
   (``li.card.offre`` in the document, laid out, its fade-in begun: a ``MutationObserver``).
   Baseline: the same search through the JSON API, ``POST /api/searches`` then its Server-Sent
   Events until the first ``resultats`` event that brings an offer.
2. Each page's server time (target p95 < 50 ms): every main page of ``/portail`` and
   ``/gestion``, requested in turn with a signed-in session (httpx, keep-alive); the server's
   time is the page's ``Server-Timing: app;dur=…`` (``reseau_poles.portal.timing``), the
   client's total beside it. Baseline: ``GET /health`` of the same node.
3. The local-purchasing report of a year of the institution's orders (target < 200 ms, the
   client's total): ``/portail/rapport`` for the last twelve months. Baseline: the same report
   through the JSON API (``GET /api/reports/local-purchasing``).

    python bench/portal.py [--short] [--json FILE] [--searches 20] [--requests 30]
                           [--reports 30] [--data-dir DIR] [--base-port N]

``--short``: a few of each (1 to 2 minutes; the figures are rough). ``--data-dir DIR`` keeps
the demo's folder and reuses it (start-up without the catalogue import; the year of orders is
written once). Exit code 0 whether the targets are met or not (a benchmark, not a test); 1 when
a measurement could not be made.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from reseau_poles.demo.accounts import BUYER_PEOPLE, pole_email
from reseau_poles.demo.network import DemoNetwork
from reseau_poles.demo.participants import Participant
from reseau_poles.demo.sample import SamplePole
from reseau_poles.demo.scenario import INSTITUTION_REGION, Scenario
from reseau_poles.portal.timing import server_time
from support import percentile  # also declares the loopback network private

QUERIES = ("sirop d'érable", "fromage", "pommes", "lait", "carottes", "miel", "pain", "bleuets")
SEARCH_TARGET_MS = 300.0
PAGE_TARGET_MS = 50.0
REPORT_TARGET_MS = 200.0
WAIT_MS = 15_000
QUEBEC = ZoneInfo("America/Toronto")
SEEDED = "banc-annee-"  # the id prefix of the orders written for the year
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
SITE = {
    "name": "Cuisine centrale — École Sainte-Odile (banc d'essai)",
    "address": "1000, boulevard Wilfrid-Hamel, Québec (Québec)",
    "postal_code": "G1M 2R9",
    "region": INSTITUTION_REGION,
    "receiving_hours": [
        {"days": ["lun", "mar", "mer", "jeu", "ven"], "start": "07:00", "end": "11:00"}
    ],
    "cold_chain": ["ambiant", "refrigere"],
}

# In the page: the form's submit, then the first offer card inserted, shown (htmx's
# ``htmx-added`` class gone: its fade-in begins) and the frame that paints it; and on the way,
# when htmx sent the form, got the results page (after the redirect), swapped it in, opened
# the stream and got its first event.
PAGE_HOOK = """() => {
  const b = window.__banc = {submit: null, inserted: null, shown: null, frame: null,
    sent: null, answered: null, swapped: null, opened: null, event: null, server: null};
  const once = (name, key) => document.addEventListener(name, () => {
    if (b.submit !== null && b[key] === null) b[key] = performance.now();
  }, true);
  document.addEventListener('submit', () => { if (b.submit === null) b.submit = performance.now(); }, true);
  once('htmx:beforeSend', 'sent');
  once('htmx:afterRequest', 'answered');
  once('htmx:afterSwap', 'swapped');
  once('htmx:sseOpen', 'opened');
  once('htmx:sseBeforeMessage', 'event');
  const observer = new MutationObserver(() => {
    if (b.submit === null || b.shown !== null) return;
    const card = document.querySelector('li.card.offre');
    if (!card || card.getClientRects().length === 0) return;
    if (b.inserted === null) b.inserted = performance.now();
    if (card.classList.contains('htmx-added')) return;
    b.shown = performance.now();
    observer.disconnect();
    requestAnimationFrame(() => { b.frame = performance.now(); });
  });
  observer.observe(document.documentElement,
    {childList: true, subtree: true, attributes: true, attributeFilter: ['class']});
}"""
# The results page as the browser fetched it (after the redirect of the search's start):
# when the redirect came (the search sent), when the page's first byte came, its server time.
RESULTS_TIMING = """() => {
  const found = performance.getEntriesByType('resource')
    .filter(e => e.initiatorType === 'xmlhttprequest' && e.name.includes('/portail/recherche'));
  if (!found.length) return null;
  const entry = found[found.length - 1];
  const app = (entry.serverTiming || []).find(t => t.name === 'app');
  return {redirected: entry.redirectEnd || null, first_byte: entry.responseStart || null,
          server: app ? app.duration : null};
}"""

# --- figures -----------------------------------------------------------------------------------


def stats(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 1),
        "p95": round(percentile(values, 0.95), 1),
        "max": round(max(values), 1),
    }


def cpu_ms(pid: int) -> float:
    """Processor time (user + system, ms) used so far by process ``pid``, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _ms(value: float | int | None) -> str:
    return "—" if value is None else f"{value:.1f}"


# --- the network and what it holds -------------------------------------------------------------


def free_base_port(sellers: int) -> int:
    """A base port whose whole range (registry, gateway, buyer, sellers) is free now."""

    def free(port: int) -> bool:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
        return True

    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20_000, 40_000, 50)
        if all(free(p) for p in (base, base + 1, base + 2, *range(base + 11, base + 11 + sellers))):
            return base
    raise RuntimeError("aucune plage de ports libre")


def real_orders(net: DemoNetwork) -> Scenario:
    """The demo's scenario through the buyer's API: three pôles quoted, confirmed; the first
    delivered, the last cancelled (``scenario.orders``, ``scenario.chosen``)."""
    from rich.console import Console

    http = httpx.Client(timeout=WAIT_MS / 1000 + 10)
    scenario = Scenario(net, Console(file=io.StringIO()), http)
    for step in (
        scenario.choose_poles,
        scenario.restock,
        scenario.quote_each,
        scenario.init_and_confirm_each,
        scenario.deliver_first,
        scenario.cancel_last,
    ):
        step()
    http.close()
    return scenario


def school_days(first: date, last: date) -> Iterator[date]:
    """Week days a school kitchen orders on: not in July and August, nor at Christmas, nor
    during the March break."""
    day = first
    while day <= last:
        holiday = (
            day.month in (7, 8)
            or (day.month == 12 and day.day >= 22)
            or (day.month == 1 and day.day <= 5)
            or (day.month == 3 and day.day <= 7)
        )
        if day.weekday() < 5 and not holiday:
            yield day
        day += timedelta(days=1)


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def seed_year(
    net: DemoNetwork, templates: dict[str, dict[str, Any]], today: date, seed: int = 17
) -> dict[str, int]:
    """A year of orders of the demo's institution, 2 or 3 per school day, from the pôles that
    deliver to its region (some more often than others), 3 to 10 lines each from their
    catalogues (certifications, origins and taxes as the catalogue says), written through the
    buyer's repositories. Each order copies the protocol state of a real order in the same
    state (``templates``: delivered, confirmed, cancelled); its own pôle, dates, lines and
    total. Orders of the last week are confirmed, older ones delivered, a few cancelled."""
    from reseau_poles.buyer.repositories import orders as order_repo
    from reseau_poles.storage import make_engine, make_session_factory, write_session

    rng = random.Random(seed)
    poles: list[tuple[Participant, SamplePole]] = [
        (seller, pole)
        for seller in net.sellers
        for pole in seller.poles
        if INSTITUTION_REGION in pole.provider.served_regions
    ] or [(seller, pole) for seller in net.sellers for pole in seller.poles]
    weights = [1 / (rank + 1) for rank in range(len(poles))]
    counted = {"orders": 0, "lines": 0, "counted": 0}
    engine = make_engine(net.buyer.database_url)
    try:
        with write_session(make_session_factory(engine)) as session:
            for day in school_days(today - timedelta(days=364), today):
                for number in range(rng.choice((2, 3))):
                    seller, pole = rng.choices(poles, weights)[0]
                    if (today - day).days < 7:
                        state = "confirmed"
                    else:
                        state = "cancelled" if rng.random() < 0.03 else "completed"
                    template = templates[state]
                    confirmed = datetime(
                        day.year,
                        day.month,
                        day.day,
                        rng.randint(7, 14),
                        rng.randint(0, 59),
                        tzinfo=QUEBEC,
                    )
                    created = confirmed - timedelta(minutes=rng.randint(2, 90))
                    order_id = f"{SEEDED}{uuid.UUID(int=rng.getrandbits(128))}"
                    lines = []
                    total = Decimal(0)
                    for position, item in enumerate(
                        rng.sample(pole.items, min(len(pole.items), rng.randint(3, 10)))
                    ):
                        quantity = rng.randint(1, 24)
                        amount = _money(item.price * quantity)
                        tps = _money(amount * Decimal("0.05")) if item.taxable else Decimal(0)
                        tvq = _money(amount * Decimal("0.09975")) if item.taxable else Decimal(0)
                        total += amount + tps + tvq
                        lines.append(
                            {
                                "position": position,
                                "item_id": item.sku,
                                "name": item.name,
                                "quantity": quantity,
                                "unit": item.unit.value,
                                "unit_price": item.price,
                                "amount": amount,
                                "taxable": item.taxable,
                                "tps": tps,
                                "tvq": tvq,
                                "certifications": sorted(c.value for c in item.certifications),
                                "origin_region": item.origin_region,
                                "producer": item.producer,
                                "conservation": item.conservation.value,
                            }
                        )
                    if total < 250:  # the delivery fee and its taxes
                        total += Decimal("28.74")
                    window = datetime.combine(
                        day + timedelta(days=2 if day.weekday() < 3 else 4),
                        datetime.min.time(),
                        QUEBEC,
                    ) + timedelta(hours=7)
                    order_repo.insert_order(
                        session,
                        {
                            **{k: v for k, v in template.items() if k != "id"},
                            "id": order_id,
                            "bpp_id": seller.subscriber_id,
                            "bpp_uri": seller.url,
                            "provider_id": pole.id,
                            "provider_name": pole.provider.name,
                            "seller_order_id": f"CMD-{day:%Y%m%d}-{number}",
                            "cart_id": None,
                            "pending_action": None,
                            "pending_message_id": None,
                            "pending_since": None,
                            "purchase_order_number": f"BC-{day:%Y%m%d}-{number + 1}",
                            "total": _money(total),
                            "delivery_window_start": window,
                            "delivery_window_end": window + timedelta(hours=4),
                            "created_at": created,
                            "updated_at": confirmed,
                            "confirmed_at": confirmed,
                        },
                    )
                    order_repo.replace_lines(session, order_id, lines)
                    counted["orders"] += 1
                    counted["lines"] += len(lines)
                    counted["counted"] += state != "cancelled"
    finally:
        engine.dispose()
    return counted


def already_seeded(net: DemoNetwork) -> bool:
    from sqlalchemy import select

    from reseau_poles.buyer.tables import orders
    from reseau_poles.storage import make_engine

    engine = make_engine(net.buyer.database_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                select(orders.c.id).where(orders.c.id.like(f"{SEEDED}%")).limit(1)
            ).first()
    finally:
        engine.dispose()
    return found is not None


def order_rows(net: DemoNetwork, order_ids: list[str]) -> list[dict[str, Any]]:
    from reseau_poles.buyer.repositories import orders as order_repo
    from reseau_poles.storage import make_engine, make_session_factory, read_session

    engine = make_engine(net.buyer.database_url)
    try:
        with read_session(make_session_factory(engine)) as session:
            return [dict(order_repo.get_order(session, i) or {}) for i in order_ids]
    finally:
        engine.dispose()


def make_cart(net: DemoNetwork, http: httpx.Client) -> str:
    """A cart of two pôles' maple syrup (from an API search), with its delivery site and a PO
    number."""
    headers = {"X-API-Key": net.buyer_api_key}
    site = http.post(f"{net.buyer.url}/api/sites", json=SITE, headers=headers)
    site.raise_for_status()
    started = http.post(
        f"{net.buyer.url}/api/searches",
        json={"text": "sirop d'érable", "region": INSTITUTION_REGION},
        headers=headers,
    )
    started.raise_for_status()
    found = http.get(
        f"{net.buyer.url}/api/searches/{started.json()['transaction_id']}",
        params={"wait_ms": WAIT_MS},
        headers=headers,
    ).json()
    lines = [
        {"bpp_id": p["bpp_id"], "provider_id": p["id"], "item_id": item["id"], "quantity": 6}
        for p in found["providers"][:2]
        for item in p.get("items", [])[:2]
    ]
    cart = http.post(
        f"{net.buyer.url}/api/carts",
        json={
            "name": "Cafétéria — semaine du 14",
            "delivery_site_id": site.json()["id"],
            "purchase_order_number": "BC-BANC-0001",
            "lines": lines,
        },
        headers=headers,
    )
    if cart.status_code != 201:
        raise RuntimeError(f"panier refusé : {cart.status_code} {cart.text[:300]}")
    return str(cart.json()["id"])


# --- signed-in clients -------------------------------------------------------------------------


class Person:
    """A signed-in session on one portal (httpx, keep-alive, redirects not followed)."""

    def __init__(self, base_url: str, prefix: str, email: str, password: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        page = self.http.get(f"{prefix}/connexion")
        token = CSRF_INPUT.search(page.text)
        if token is None:
            raise RuntimeError(f"{base_url}{prefix}/connexion : pas de formulaire")
        answer = self.http.post(
            f"{prefix}/connexion",
            data={"email": email, "password": password, "csrf_token": token.group(1)},
        )
        if answer.status_code != 303:
            raise RuntimeError(f"connexion de {email} refusée ({answer.status_code})")

    def timed(self, path: str, **params: str) -> tuple[float, float | None, float | None, int]:
        """(client total ms, server ms and server processor ms from Server-Timing, status)
        of one GET."""
        started = time.perf_counter()
        answer = self.http.get(path, params=params or None)
        total = (time.perf_counter() - started) * 1000
        header = answer.headers.get("server-timing")
        return total, server_time(header), server_time(header, "cpu"), answer.status_code

    def close(self) -> None:
        self.http.close()


# --- 1. the first card of a search --------------------------------------------------------------


def chromium() -> str | None:
    named = os.environ.get("RESEAU_POLES_CHROMIUM")
    if named:
        return shutil.which(named)
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def api_first_result(http: httpx.Client, url: str, key: str, text: str) -> float | None:
    """ms from sending ``POST /api/searches`` to the first ``resultats`` event bringing an
    offer (``None`` when none came); the stream is then read to its end."""
    headers = {"X-API-Key": key}
    started = time.perf_counter()
    answer = http.post(f"{url}/api/searches", json={"text": text, "region": "*"}, headers=headers)
    answer.raise_for_status()
    transaction_id = answer.json()["transaction_id"]
    first = None
    name = None
    with http.stream(
        "GET",
        f"{url}/api/searches/{transaction_id}/events",
        params={"wait_ms": WAIT_MS},
        headers=headers,
    ) as events:
        for line in events.iter_lines():
            if line.startswith("event: "):
                name = line[7:].strip()
            elif line.startswith("data: ") and name == "resultats" and first is None:
                if json.loads(line[6:]).get("counts", {}).get("items"):
                    first = (time.perf_counter() - started) * 1000
            elif line.startswith("data: ") and name == "fin":
                break
    return first


def page_first_card(page: Any, url: str, text: str) -> dict[str, float]:
    """The page's own times (ms after the submit) of the first card; then waits for the
    search's end so that the next one starts on a quiet node."""
    page.goto(f"{url}/portail/recherche")
    page.evaluate("() => performance.clearResourceTimings()")
    page.evaluate(PAGE_HOOK)
    page.get_by_label("Produit", exact=True).fill(text)
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_function("() => window.__banc && window.__banc.frame !== null", timeout=30_000)
    seen = page.evaluate("() => window.__banc")
    with contextlib.suppress(Exception):  # a search cut by its delay still counts its card
        page.wait_for_function(
            "() => (document.querySelector('#fin-recherche')?.innerHTML || '').trim() !== ''",
            timeout=WAIT_MS + 5000,
        )
    times = {k: v - seen["submit"] for k, v in seen.items() if k != "submit" and v is not None}
    timing = page.evaluate(RESULTS_TIMING) or {}
    if timing.get("server") is not None:
        times["results_server"] = timing["server"]
    for key in ("redirected", "first_byte"):
        if timing.get(key):
            times[key] = timing[key] - seen["submit"]
    return times


def figure_search(
    net: DemoNetwork, password: str, searches: int, warm: int, say: Callable[[str], None]
) -> dict[str, Any]:
    executable = chromium()
    if executable is None:
        return {"skipped": "Chromium introuvable (apt-get install chromium)"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "Playwright pour Python manque (pip install -e '.[dev]')"}
    buyer_email = BUYER_PEOPLE[0][0]
    page_runs: list[dict[str, float]] = []
    api_runs: list[float] = []
    # The buyer node's processor time per search, the whole search (its answers, the page
    # and its stream to the end; the API's events to the end): steady on a busy machine.
    assert net.buyer.process is not None
    pid = net.buyer.process.pid
    page_cpu: list[float] = []
    api_cpu: list[float] = []
    with sync_playwright() as playwright, httpx.Client(timeout=WAIT_MS / 1000 + 10) as http:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        context = browser.new_context(locale="fr-CA", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.goto(f"{net.buyer.url}/portail/connexion")
        page.get_by_label("Courriel").fill(buyer_email)
        page.get_by_label("Mot de passe").fill(password)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(re.compile(r"/portail/$"))
        for number in range(warm + searches):
            text = QUERIES[number % len(QUERIES)]
            # In turn, so that both see the same machine.
            before = cpu_ms(pid)
            times = page_first_card(page, net.buyer.url, text)
            between = cpu_ms(pid)
            api = api_first_result(http, net.buyer.url, net.buyer_api_key, text)
            after = cpu_ms(pid)
            if number >= warm:
                page_runs.append(times)
                page_cpu.append(between - before)
                api_cpu.append(after - between)
                if api is not None:
                    api_runs.append(api)
            say(
                f"    « {text} » : page {times['frame']:.0f} ms (recherche lancée "
                f"{_ms(times.get('redirected'))}, page de résultats "
                f"{_ms(times.get('answered'))}, dont serveur {_ms(times.get('results_server'))} ; "
                f"flux ouvert {_ms(times.get('opened'))}, 1er événement "
                f"{_ms(times.get('event'))}, carte insérée {_ms(times.get('inserted'))}), "
                f"API {_ms(api)} ms" + ("  (échauffement)" if number < warm else "")
            )
        browser.close()
    return {
        "page_frame": stats([r["frame"] for r in page_runs]),
        # Where the time went: htmx's request sent, the search started (its redirect back),
        # the results page's first byte and its end (its server time beside), swapped in, the
        # stream open, its first event, the card inserted and shown.
        "steps": {
            step: stats([r[step] for r in page_runs if step in r])
            for step in (
                "sent",
                "redirected",
                "first_byte",
                "answered",
                "results_server",
                "swapped",
                "opened",
                "event",
                "inserted",
                "shown",
            )
        },
        "api_first_result": stats(api_runs),
        "buyer_cpu_per_search": {"page": stats(page_cpu), "api": stats(api_cpu)},
        "queries": list(QUERIES),
    }


# --- 2. each page's server time -----------------------------------------------------------------


def figure_pages(
    people: dict[str, Person], pages: list[tuple[str, str, str]], rounds: int, warm: int
) -> dict[str, Any]:
    """``pages``: (name, who, path); every page once per round, in turn, plus ``/health`` of
    each node."""
    plan = [*pages, *((f"/health ({who})", who, "/health") for who in people)]
    server: dict[str, list[float]] = {name: [] for name, _, _ in plan}
    processor: dict[str, list[float]] = {name: [] for name, _, _ in plan}
    total: dict[str, list[float]] = {name: [] for name, _, _ in plan}
    statuses: dict[str, set[int]] = {name: set() for name, _, _ in plan}
    for number in range(warm + rounds):
        for name, who, path in plan:
            spent, app, cpu, status = people[who].timed(path)
            statuses[name].add(status)
            if number < warm:
                continue
            total[name].append(spent)
            if app is not None:
                server[name].append(app)
            if cpu is not None:
                processor[name].append(cpu)
    return {
        name: {
            "who": who,
            "path": path,
            "statuses": sorted(statuses[name]),
            "server": stats(server[name]),
            "server_cpu": stats(processor[name]),
            "total": stats(total[name]),
        }
        for name, who, path in plan
    }


# --- 3. the report of a year --------------------------------------------------------------------


def figure_report(
    net: DemoNetwork, buyer: Person, first: date, last: date, count: int, warm: int
) -> dict[str, Any]:
    page: list[float] = []
    page_server: list[float] = []
    page_cpu: list[float] = []
    api: list[float] = []
    period = {"du": first.isoformat(), "au": last.isoformat()}
    with httpx.Client(timeout=30) as http:
        for number in range(warm + count):
            spent, app, cpu, status = buyer.timed("/portail/rapport", **period)
            if status != 200:
                raise RuntimeError(f"/portail/rapport : HTTP {status}")
            started = time.perf_counter()
            answer = http.get(
                f"{net.buyer.url}/api/reports/local-purchasing",
                params={"from": period["du"], "to": period["au"]},
                headers={"X-API-Key": net.buyer_api_key},
            )
            answer.raise_for_status()
            if number < warm:
                continue
            api.append((time.perf_counter() - started) * 1000)
            page.append(spent)
            if app is not None:
                page_server.append(app)
            if cpu is not None:
                page_cpu.append(cpu)
    report = answer.json()
    return {
        "period": {"from": period["du"], "to": period["au"]},
        "orders_counted": report["orders"],
        "lines": report["lines"],
        "page_total": stats(page),
        "page_server": stats(page_server),
        "page_server_cpu": stats(page_cpu),
        "api_total": stats(api),
    }


# --- the table -----------------------------------------------------------------------------------


def verdict(value: float | int | None, target: float) -> str:
    if value is None:
        return "—"
    return "OK" if value < target else "ÉCHEC"


def ratio(value: float | int | None, base: float | int | None) -> str:
    if value is None or not base:
        return "—"
    return f"{value / base:.1f} ×"


def table(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per figure: what, target, p50, p95, verdict, baseline p50/p95, ratio of the
    p95s (the same kind of time on both sides: client totals)."""
    rows = []
    search = results.get("search", {})
    if "page_frame" in search:
        rows.append(
            {
                "figure": "1. 1re carte visible après l'envoi (Chromium)",
                "target_ms": SEARCH_TARGET_MS,
                "measured": search["page_frame"],
                "baseline_name": "1re offre par l'API (SSE)",
                "baseline": search["api_first_result"],
            }
        )
    for name, page in results.get("pages", {}).items():
        if name.startswith("/health"):
            continue
        base = results["pages"][f"/health ({page['who']})"]["total"]
        rows.append(
            {
                "figure": f"2. {name}",
                "target_ms": PAGE_TARGET_MS,
                "measured": page["server"],
                "processor": page["server_cpu"],
                "client": page["total"],
                "baseline_name": "GET /health",
                "baseline": base,
            }
        )
    report = results.get("report")
    if report:
        rows.append(
            {
                "figure": f"3. rapport d'une année ({report['orders_counted']} commandes)",
                "target_ms": REPORT_TARGET_MS,
                "measured": report["page_total"],
                "processor": report["page_server_cpu"],
                "baseline_name": "même rapport par l'API",
                "baseline": report["api_total"],
            }
        )
    for row in rows:
        row["verdict"] = verdict(row["measured"]["p95"], row["target_ms"])
        # For the pages, the ratio compares client totals (the page's and /health's).
        mine = row.get("client", row["measured"])["p95"]
        row["ratio_p95"] = ratio(mine, row["baseline"]["p95"])
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    print()
    print(
        f"{'Mesure':52s} {'cible':>6s} {'p50':>7s} {'p95':>7s} {'':6s} {'proc.':>6s} "
        f"{'base p50':>8s} {'base p95':>8s} {'ratio':>7s}  ligne de base"
    )
    for row in rows:
        print(
            f"{row['figure'][:52]:52s} {'<' + format(row['target_ms'], '.0f'):>6s} "
            f"{_ms(row['measured']['p50']):>7s} {_ms(row['measured']['p95']):>7s} "
            f"{row['verdict']:6s} {_ms(row.get('processor', {}).get('p50')):>6s} "
            f"{_ms(row['baseline']['p50']):>8s} "
            f"{_ms(row['baseline']['p95']):>8s} {row['ratio_p95']:>7s}  {row['baseline_name']}"
        )
    print(
        "  ms. Verdict sur le p95. proc. : p50 du temps processeur du nœud pendant la page "
        "(Server-Timing cpu). ratio : p95 de la mesure / p95 de sa ligne de base (pour les "
        "pages : temps total vu du client, de part et d'autre)."
    )


# --- the run -------------------------------------------------------------------------------------


def say(text: str) -> None:
    print(text, flush=True)


@contextlib.contextmanager
def phase(results: dict[str, Any], name: str) -> Iterator[None]:
    """Times a part of the run (``results["seconds"][name]``) and says it."""
    started = time.perf_counter()
    yield
    spent = time.perf_counter() - started
    results.setdefault("seconds", {})[name] = round(spent, 1)
    say(f"  ({spent:.1f} s)")


def main(arguments: argparse.Namespace) -> int:
    if arguments.short:
        arguments.searches = min(arguments.searches, 6)
        arguments.requests = min(arguments.requests, 10)
        arguments.reports = min(arguments.reports, 8)
    warm = 2
    figures = set(arguments.figures.split(","))
    run_started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_average_before": load_average()},
        "settings": {
            "searches": arguments.searches,
            "requests_per_page": arguments.requests,
            "reports": arguments.reports,
            "seller_nodes": arguments.seller_nodes,
        },
    }
    with contextlib.ExitStack() as stack:
        if arguments.data_dir:
            folder = Path(arguments.data_dir)
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "demo"
        base_port = arguments.base_port or free_base_port(arguments.seller_nodes)
        net = DemoNetwork(
            folder,
            base_port=base_port,
            seller_nodes=arguments.seller_nodes,
            say=lambda _text: None,
            start_timeout=180,
        )
        say(
            f"Réseau de démonstration ({arguments.seller_nodes} nœuds vendeurs, "
            f"{folder}) : démarrage…"
        )
        with phase(results, "start"):
            stack.enter_context(net)
            say(f"  prêt : {net.buyer.url}/portail/")

        say(
            "Commandes réelles (scénario de la démo : devis, confirmation, livraison, "
            "annulation), un panier, une année de commandes…"
        )
        today = datetime.now(QUEBEC).date()
        with phase(results, "data"):
            scenario = real_orders(net)
            delivered, confirmed, cancelled = order_rows(net, [o["id"] for o in scenario.orders])
            if already_seeded(net):
                say("  l'année de commandes est déjà dans la base")
            else:
                seeded = seed_year(
                    net,
                    {"completed": delivered, "confirmed": confirmed, "cancelled": cancelled},
                    today,
                )
                results["seeded"] = seeded
                say(
                    f"  une année de l'établissement : {seeded['orders']} commandes, "
                    f"{seeded['lines']} lignes"
                )
            with httpx.Client(timeout=WAIT_MS / 1000 + 10) as http:
                cart_id = make_cart(net, http)
        password = net.state["accounts"]["password"]
        _, pole = scenario.chosen[1]  # its order is confirmed: one to prepare
        buyer = Person(net.buyer.url, "/portail", BUYER_PEOPLE[0][0], password)
        seller_node = next(s for s in net.sellers if pole in s.poles)
        staff = Person(seller_node.url, "/gestion", pole_email(pole.id), password)
        people = {"acheteur": buyer, "pôle": staff}

        if "1" in figures:
            say(
                f"1. Première carte d'une recherche : {arguments.searches} recherches dans la "
                f"page et autant par l'API, en alternance (après {warm} d'échauffement)"
            )
            with phase(results, "search"):
                results["search"] = figure_search(net, password, arguments.searches, warm, say)
            if "skipped" in results["search"]:
                say(f"    non mesuré : {results['search']['skipped']}")
            else:
                steps = results["search"]["steps"]
                say(
                    "    étapes, p50 après l'envoi : page de résultats reçue "
                    f"{_ms(steps['answered']['p50'])} ms (1er octet "
                    f"{_ms(steps['first_byte']['p50'])}, serveur "
                    f"{_ms(steps['results_server']['p50'])}), carte insérée "
                    f"{_ms(steps['inserted']['p50'])}, montrée {_ms(steps['shown']['p50'])} ; "
                    f"flux ouvert {_ms(steps['opened']['p50'])} et 1er événement "
                    f"{_ms(steps['event']['p50'])} ({steps['event']['n']} fois sur "
                    f"{arguments.searches} la 1re carte est venue par le flux)"
                )
                spent = results["search"]["buyer_cpu_per_search"]
                say(
                    "    processeur du nœud acheteur par recherche (p50) : page "
                    f"{_ms(spent['page']['p50'])} ms, API {_ms(spent['api']['p50'])} ms"
                )

        order = scenario.orders[1]
        pages = [
            ("/portail/ (accueil)", "acheteur", "/portail/"),
            ("/portail/recherche (formulaire)", "acheteur", "/portail/recherche"),
            ("/portail/paniers", "acheteur", "/portail/paniers"),
            ("/portail/paniers/{id} (un panier)", "acheteur", f"/portail/paniers/{cart_id}"),
            ("/portail/commandes", "acheteur", "/portail/commandes"),
            (
                "/portail/commandes/{id} (une commande)",
                "acheteur",
                f"/portail/commandes/{order['id']}",
            ),
            ("/portail/guides", "acheteur", "/portail/guides"),
            ("/portail/rapport (l'année en cours)", "acheteur", "/portail/rapport"),
            ("/gestion/ (accueil)", "pôle", "/gestion/"),
            ("/gestion/produits", "pôle", "/gestion/produits"),
            ("/gestion/produits/import", "pôle", "/gestion/produits/import"),
            ("/gestion/commandes", "pôle", "/gestion/commandes"),
            (
                "/gestion/commandes/{id} (une commande)",
                "pôle",
                f"/gestion/commandes/{order['seller_order_id']}",
            ),
            ("/gestion/preparation", "pôle", "/gestion/preparation"),
            ("/gestion/integrations", "pôle", "/gestion/integrations"),
        ]
        if "2" in figures:
            say(
                f"2. Temps serveur de chaque page : {len(pages)} pages, {arguments.requests} "
                f"requêtes chacune, en tour (après {warm} tours d'échauffement)"
            )
            with phase(results, "pages"):
                results["pages"] = figure_pages(people, pages, arguments.requests, warm)
                for name, page in results["pages"].items():
                    say(
                        f"    {name:42s} serveur p50 {_ms(page['server']['p50']):>6s} "
                        f"p95 {_ms(page['server']['p95']):>6s} (processeur p50 "
                        f"{_ms(page['server_cpu']['p50']):>5s})  client p50 "
                        f"{_ms(page['total']['p50']):>6s} p95 {_ms(page['total']['p95']):>6s}  "
                        f"HTTP {','.join(map(str, page['statuses']))}"
                    )
        if "3" in figures:
            first_day = today - timedelta(days=364)
            say(
                f"3. Rapport d'achats locaux du {first_day} au {today} : {arguments.reports} "
                "fois la page et autant l'API, en alternance"
            )
            with phase(results, "report"):
                results["report"] = figure_report(
                    net, buyer, first_day, today, arguments.reports, warm
                )
                report = results["report"]
                say(
                    f"    {report['orders_counted']} commandes, {report['lines']} lignes ; page "
                    f"p50 {_ms(report['page_total']['p50'])} ms (serveur "
                    f"{_ms(report['page_server']['p50'])}, processeur "
                    f"{_ms(report['page_server_cpu']['p50'])}), API p50 "
                    f"{_ms(report['api_total']['p50'])} ms"
                )
        buyer.close()
        staff.close()
    results["machine"]["load_average_after"] = load_average()
    results.setdefault("seconds", {})["all"] = round(time.perf_counter() - run_started, 1)
    rows = table(results)
    results["table"] = rows
    print_table(rows)
    print(
        f"  machine : {os.cpu_count()} cœurs, charge moyenne (1, 5, 15 min) avant "
        f"{results['machine']['load_average_before']}, après "
        f"{results['machine']['load_average_after']} ; durée {results['seconds']['all']} s"
    )
    if arguments.json:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), "utf-8")
        print(f"  résultats : {arguments.json}")
    bad = [name for name, page in results.get("pages", {}).items() if page["statuses"] != [200]]
    if bad:
        print(f"  pages qui n'ont pas répondu 200 : {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="peu de mesures (1 à 2 min)")
    parser.add_argument("--json", type=Path, default=None, help="écrire les résultats (JSON)")
    parser.add_argument("--searches", type=int, default=20, help="recherches mesurées")
    parser.add_argument("--requests", type=int, default=30, help="requêtes par page")
    parser.add_argument("--reports", type=int, default=30, help="rapports mesurés")
    parser.add_argument(
        "--figures", default="1,2,3", help="mesures à faire, séparées par des virgules (1,2,3)"
    )
    parser.add_argument("--seller-nodes", type=int, default=5, help="nœuds vendeurs de la démo")
    parser.add_argument("--data-dir", help="dossier de la démo, gardé et réutilisé")
    parser.add_argument("--base-port", type=int, default=None, help="premier port de la démo")
    sys.exit(main(parser.parse_args()))
