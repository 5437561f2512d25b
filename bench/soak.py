"""Load and soak of the demo network: its measured peak, then 70 % of it for a long while.

The demo network (``reseau-poles demo``: registry, gateway, buyer node and 5 seller nodes, each
a real process on SQLite) is started in a temporary data folder. Through the buyer node's
client API only, as a buyer's application would, a mix of operations is sent:

* searches (80 %): ``POST /api/searches`` then ``GET /api/searches/{tx}?wait_ms=…`` until
  every targeted seller node answered (``complete``); latency = time to all answers;
* orders (20 %): ``POST /api/orders`` (select → on_select), ``/init`` (on_init),
  ``/confirm`` (on_confirm), each awaited; latency = select → confirmed.

1. Peak: concurrency ramps (1, 2, 4, 8…) for ``--step-seconds`` each; the peak is the best
   rate (operations/s) reached before it stops growing.
2. Soak: ``--load`` (70 %) of that rate, paced (at most 4 × the peak's clients, 8 or more, in
   flight), for ``--duration`` seconds (10 minutes by default). Every non-2xx answer, timeout,
   callback error or incomplete search is an error.
   The pôles top their stock up through the management API (``stock/adjustments``) so the
   orders never run out.
3. Memory: resident size (VmRSS, /proc/<pid>/status) of each process at the start and at the
   end of the soak, and its growth.
4. Consistency, once the load stops: orders confirmed at the buyer (its API and what the
   client saw) == orders at each pôle (management API), and each pôle's stock == its stock
   before + what was added − what was sold.

    python bench/soak.py [--duration 600] [--step-seconds 20] [--base-port 8900] [--json F]

``make soak`` runs it in full (about 13 minutes); ``SOAK_ARGS="--duration 60"`` shortens it.
Exit code 1 when an error, an inconsistency or a memory growth over ``--max-growth`` occurred.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from reseau_poles.demo.network import DemoNetwork
from reseau_poles.demo.participants import Participant
from reseau_poles.demo.sample import SamplePole
from reseau_poles.demo.scenario import INSTITUTION_REGION, ORDER_LINES, Scenario

WAIT_MS = 15_000
SEARCHES = (
    ("sirop érable", "*"),
    ("pommes", "QC-11"),
    ("fromage", "*"),
    ("lait", "QC-03"),
    ("carottes", "*"),
    ("miel", "QC-05"),
)
# Units of one product at one pôle: low enough that the pôles top up several times during the
# run (adjustments racing with sales), high enough that no order ever finds the shelf empty.
RESTOCK_BELOW = 120
RESTOCK_TO = 300


# --- measurements -------------------------------------------------------------------------


@dataclass
class Tally:
    """What one phase (a ramp step or the soak) measured."""

    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    search_ms: list[float] = field(default_factory=list)
    order_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    late_slots: int = 0  # paced slots that found every client busy (the load fell behind)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.examples) < 20:
            self.examples.append(f"{kind}: {detail[:300]}")

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def rate(self) -> float:
        return (len(self.search_ms) + len(self.order_ms)) / max(self.seconds, 1e-9)

    def summary(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 1),
            "searches": len(self.search_ms),
            "orders": len(self.order_ms),
            "searches_per_s": round(len(self.search_ms) / self.seconds, 2),
            "orders_per_s": round(len(self.order_ms) / self.seconds, 2),
            "operations_per_s": round(self.rate(), 2),
            "search_ms": percentiles(self.search_ms),
            "order_ms": percentiles(self.order_ms),
            "errors": self.error_count,
            "late_slots": self.late_slots,
            "errors_by_kind": dict(self.errors),
            "error_examples": list(self.examples),
        }


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "p50": round(statistics.median(ordered), 1),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1], 1),
    }


class CallFailed(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def rss_kib(pid: int) -> int:
    """VmRSS of a process and of its descendants (KiB); 0 when it is gone."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(child) for child in children)
    return total


def memory(net: DemoNetwork) -> dict[str, int]:
    return {
        p.name: rss_kib(p.process.pid) if p.process is not None else 0 for p in net.participants
    }


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- the client -----------------------------------------------------------------------------


class Client:
    """A buyer's application and the pôles' software, against the running demo network."""

    def __init__(self, net: DemoNetwork, http: httpx.AsyncClient) -> None:
        self.net = net
        self.http = http
        self.buyer_headers = {"X-API-Key": net.buyer_api_key}
        scenario = Scenario(net, console=None, http=None)  # type: ignore[arg-type]
        self.scenario = scenario
        self.targets = order_targets(net)
        self.order_counter = 0
        self.search_counter = 0
        # what the client saw confirmed: (pôle) → [seller order ids], units sold per (pôle, sku)
        self.confirmed: dict[str, list[str]] = {pole.id: [] for _, pole in self.targets}
        self.sold: dict[tuple[str, str], int] = {}
        self.added: dict[tuple[str, str], int] = {}
        self.initial_stock: dict[tuple[str, str], int] = {}
        self.buyer_orders: list[str] = []
        self.top_ups = 0

    async def call(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise CallFailed("timeout", f"{method} {url}: {type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise CallFailed("transport", f"{method} {url}: {type(exc).__name__} {exc}") from None
        if not 200 <= response.status_code < 300:
            raise CallFailed(
                f"http_{response.status_code}",
                f"{method} {url} → {response.status_code} {response.text[:300]}",
            )
        return response.json() if response.content else None

    async def buyer(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self.call(
            method, f"{self.net.buyer.url}{path}", headers=self.buyer_headers, **kwargs
        )

    async def search(self) -> float:
        text, region = SEARCHES[self.search_counter % len(SEARCHES)]
        self.search_counter += 1
        started = time.monotonic()
        answer = await self.buyer("POST", "/api/searches", json={"text": text, "region": region})
        tx = answer["transaction_id"]
        result = await self.buyer("GET", f"/api/searches/{tx}", params={"wait_ms": WAIT_MS})
        elapsed = (time.monotonic() - started) * 1000
        if not result.get("complete"):
            raise CallFailed(
                "search_incomplete",
                f"{tx} ({text}, {region}) : état {result.get('state')}, "
                f"en attente de {result['sellers'].get('pending')}",
            )
        return elapsed

    async def await_callback(self, order_id: str, callback: str) -> dict[str, Any]:
        document = await self.buyer("GET", f"/api/orders/{order_id}", params={"wait_ms": WAIT_MS})
        if document.get("pending") is not None:
            raise CallFailed("callback_timeout", f"{order_id}: pas de {callback}")
        if document.get("error"):
            raise CallFailed(f"{callback}_error", f"{order_id}: {document['error']}")
        if not any(e.get("action") == callback for e in document.get("events", [])):
            raise CallFailed("callback_missing", f"{order_id}: aucun {callback}")
        return document

    async def order(self) -> float:
        seller, pole = self.targets[self.order_counter % len(self.targets)]
        self.order_counter += 1
        started = time.monotonic()
        body = self.scenario.order_body(seller, pole)
        answer = await self.buyer("POST", "/api/orders", json=body)
        order_id = answer["id"]
        self.buyer_orders.append(order_id)
        await self.await_callback(order_id, "on_select")
        await self.buyer("POST", f"/api/orders/{order_id}/init", json={})
        await self.await_callback(order_id, "on_init")
        await self.buyer("POST", f"/api/orders/{order_id}/confirm", json={})
        document = await self.await_callback(order_id, "on_confirm")
        elapsed = (time.monotonic() - started) * 1000
        seller_order = document.get("seller_order_id")
        if not seller_order:
            raise CallFailed("no_seller_order", f"{order_id}: confirmée sans numéro du pôle")
        self.confirmed[pole.id].append(seller_order)
        for sku, quantity in ORDER_LINES:
            self.sold[(pole.id, sku)] = self.sold.get((pole.id, sku), 0) + quantity
        return elapsed

    async def run_one(self, number: int, tally: Tally) -> None:
        is_order = number % 5 == 4  # 20 % orders, 80 % searches
        try:
            if is_order:
                tally.order_ms.append(await self.order())
            else:
                tally.search_ms.append(await self.search())
        except CallFailed as exc:
            tally.error(exc.kind, exc.detail)
        except (KeyError, TypeError, ValueError) as exc:  # an answer not shaped as documented
            tally.error("bad_answer", f"{type(exc).__name__} {exc}")

    # --- the pôles' side: stock -------------------------------------------------------------

    def stock_url(self, seller: Participant, pole: SamplePole, sku: str) -> str:
        return f"{seller.url}/api/providers/{pole.id}/products/{sku}/stock"

    def pole_headers(self, pole: SamplePole) -> dict[str, str]:
        return {"X-API-Key": self.net.pole_api_key(pole.id)}

    async def read_stock(self) -> dict[tuple[str, str], int]:
        stock = {}
        for seller, pole in self.targets:
            for sku, _ in ORDER_LINES:
                answer = await self.call(
                    "GET", self.stock_url(seller, pole, sku), headers=self.pole_headers(pole)
                )
                stock[(pole.id, sku)] = int(answer["stock"])
        return stock

    async def restock(self, tally: Tally | None) -> None:
        """Each pôle tops up what runs low, by an adjustment (+delta: safe while selling)."""
        for (pole_id, sku), now in (await self.read_stock()).items():
            if now >= RESTOCK_BELOW:
                continue
            seller, pole = next(t for t in self.targets if t[1].id == pole_id)
            delta = RESTOCK_TO - now
            try:
                await self.call(
                    "POST",
                    self.stock_url(seller, pole, sku) + "/adjustments",
                    headers=self.pole_headers(pole),
                    json={"delta": delta, "reason": "réassort (soak)"},
                )
            except CallFailed as exc:
                if tally is not None:
                    tally.error("restock_" + exc.kind, exc.detail)
                continue
            self.added[(pole_id, sku)] = self.added.get((pole_id, sku), 0) + delta
            self.top_ups += 1

    async def restock_forever(self, tally_of: Any, every: float = 2.0) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.restock(tally_of())
            except CallFailed as exc:
                tally_of().error("restock_" + exc.kind, exc.detail)


def order_targets(net: DemoNetwork) -> list[tuple[Participant, SamplePole]]:
    """Every pôle that sells the scenario's three products and delivers them refrigerated to
    the institution's region (at most two per seller node, so every node takes orders)."""
    chosen = []
    wanted = {sku for sku, _ in ORDER_LINES}
    for seller in net.sellers:
        count = 0
        for pole in seller.poles:
            skus = {item.sku for item in pole.items}
            cold = [o for o in pole.fulfillment_options if o.id == "livraison-refrigeree"]
            if wanted <= skus and cold and INSTITUTION_REGION in cold[0].regions and count < 2:
                chosen.append((seller, pole))
                count += 1
    if not chosen:
        raise SystemExit("aucun pôle ne vend les produits du scénario au froid en QC-03")
    return chosen


# --- phases ---------------------------------------------------------------------------------


async def closed_loop(client: Client, workers: int, seconds: float, tally: Tally) -> None:
    """``workers`` users, each starting its next operation as soon as the last one ended."""
    deadline = time.monotonic() + seconds
    counter = iter(range(10**9))

    async def user() -> None:
        while time.monotonic() < deadline:
            await client.run_one(next(counter), tally)

    await asyncio.gather(*(user() for _ in range(workers)))
    tally.ended = time.monotonic()


async def paced(
    client: Client, rate: float, workers: int, seconds: float, tally: Tally, net: DemoNetwork
) -> None:
    """Operations started at ``rate`` per second (one slot each, at most ``workers`` at once)
    for ``seconds``; a slot missed because every worker is busy is counted as late."""
    interval = 1.0 / rate
    start = time.monotonic()
    deadline = start + seconds
    slots = asyncio.Queue[int](maxsize=workers)
    late = 0

    async def ticker() -> None:
        nonlocal late
        number = 0
        while True:
            at = start + number * interval
            if at >= deadline:
                break
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if slots.full():
                late += 1
            await slots.put(number)
            number += 1
        for _ in range(workers):
            await slots.put(-1)

    async def user() -> None:
        while (number := await slots.get()) >= 0:
            await client.run_one(number, tally)

    async def watch() -> None:
        while time.monotonic() < deadline:
            await asyncio.sleep(1)
            try:
                net.check_children()
            except Exception as exc:  # a process died: an error, and the soak goes on
                tally.error("process_died", str(exc))
                return

    await asyncio.gather(ticker(), watch(), *(user() for _ in range(workers)))
    tally.ended = time.monotonic()
    tally.late_slots = late


async def measure_peak(
    client: Client, step_seconds: float, max_workers: int, say: Any
) -> tuple[float, int, list[dict[str, Any]]]:
    steps: list[dict[str, Any]] = []
    best_rate, best_workers = 0.0, 1
    workers, misses = 1, 0
    while workers <= max_workers:
        tally = Tally()
        await closed_loop(client, workers, step_seconds, tally)
        rate = tally.rate()
        summary = {"workers": workers, **tally.summary()}
        steps.append(summary)
        say(
            f"  {workers:3d} clients : {rate:6.2f} op/s "
            f"({summary['searches_per_s']} recherches/s, {summary['orders_per_s']} commandes/s), "
            f"recherche p95 {summary['search_ms']['p95']} ms, "
            f"commande p95 {summary['order_ms']['p95']} ms, erreurs {tally.error_count}"
        )
        if tally.error_count:
            break  # past the peak: errors count as saturation
        # A machine is noisy: the ramp stops after two steps without a 5 % gain.
        misses = 0 if rate > best_rate * 1.05 else misses + 1
        if rate > best_rate:
            best_rate, best_workers = rate, workers
        if misses >= 2:
            break
        workers *= 2
    return best_rate, best_workers, steps


def format_kib(kib: int) -> str:
    return f"{kib / 1024:.1f} Mo"


async def consistency(client: Client, tally: Tally) -> dict[str, Any]:
    """After the load: orders at the buyer == orders at the pôles; stock accounts add up."""
    problems: list[str] = []
    confirmed_seen = sum(len(v) for v in client.confirmed.values())
    listing = await client.buyer("GET", "/api/orders", params={"state": "confirmed", "limit": 1})
    buyer_confirmed = int(listing["total"])
    if buyer_confirmed != confirmed_seen:
        problems.append(
            f"acheteur : {buyer_confirmed} commandes confirmées, le client en a vu {confirmed_seen}"
        )
    seller_total = 0
    for seller, pole in client.targets:
        answer = await client.call(
            "GET",
            f"{seller.url}/api/providers/{pole.id}/orders",
            headers=client.pole_headers(pole),
            params={"limit": 1},
        )
        count = int(answer["total"])
        seller_total += count
        if count != len(client.confirmed[pole.id]):
            problems.append(
                f"{pole.id} ({seller.name}) : {count} commandes au pôle, "
                f"{len(client.confirmed[pole.id])} confirmées à l'acheteur"
            )
    final = await client.read_stock()
    for key, now in final.items():
        expected = client.initial_stock[key] + client.added.get(key, 0) - client.sold.get(key, 0)
        if now != expected:
            problems.append(
                f"stock {key[0]}/{key[1]} : {now}, attendu {expected} (avant "
                f"{client.initial_stock[key]} + ajouts {client.added.get(key, 0)} − vendus "
                f"{client.sold.get(key, 0)})"
            )
    for problem in problems:
        tally.error("inconsistency", problem)
    return {
        "orders_confirmed_client": confirmed_seen,
        "orders_confirmed_buyer": buyer_confirmed,
        "orders_at_sellers": seller_total,
        "orders_started_at_buyer": len(client.buyer_orders),
        "units_sold": sum(client.sold.values()),
        "units_added": sum(client.added.values()),
        "top_ups": client.top_ups,
        "stock_checked": len(final),
        "problems": problems,
    }


async def run(arguments: argparse.Namespace, net: DemoNetwork) -> dict[str, Any]:
    say = print
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=WAIT_MS / 1000 + 15, limits=limits) as http:
        client = Client(net, http)
        say(
            f"Commandes vers {len(client.targets)} pôles : "
            + ", ".join(f"{p.id} ({s.name})" for s, p in client.targets)
        )
        client.initial_stock = await client.read_stock()
        await client.restock(None)
        memory_fresh = memory(net)
        current: list[Tally] = [Tally()]
        restocker = asyncio.create_task(client.restock_forever(lambda: current[0]))
        try:
            # warm-up: caches, connections, first SQLite pages
            warm = Tally()
            await closed_loop(client, 2, min(10.0, arguments.step_seconds), warm)
            say(f"Échauffement : {warm.rate():.2f} op/s, erreurs {warm.error_count}")
            say(f"Pic : montée en charge par paliers de {arguments.step_seconds:.0f} s…")
            peak, peak_workers, steps = await measure_peak(
                client, arguments.step_seconds, arguments.max_workers, say
            )
            if peak <= 0:
                raise SystemExit("aucun débit mesuré sans erreur : pas d'endurance possible")
            target = peak * arguments.load
            # Room for latency spikes: a paced load must not wait for a free client.
            workers = max(8, peak_workers * 4)
            say(
                f"Pic : {peak:.2f} op/s avec {peak_workers} clients ; endurance à "
                f"{arguments.load:.0%} = {target:.2f} op/s pendant {arguments.duration:.0f} s "
                f"(jusqu'à {workers} opérations simultanées)…"
            )
            memory_start = memory(net)
            load_start = load_average()
            soak = Tally()
            current[0] = soak
            await paced(client, target, workers, arguments.duration, soak, net)
            memory_end = memory(net)
            load_end = load_average()
        finally:
            restocker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await restocker
        await asyncio.sleep(2)  # last callbacks, outboxes
        checks = await consistency(client, soak)
    growth = {
        name: round(100 * (memory_end[name] - memory_start[name]) / memory_start[name], 1)
        for name in memory_start
        if memory_start[name]
    }
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpus": os.cpu_count(),
        "load_average_start": load_start,
        "load_average_end": load_end,
        "warm_up": warm.summary(),
        "peak": {"operations_per_s": round(peak, 2), "workers": peak_workers, "steps": steps},
        "soak": {
            "target_operations_per_s": round(target, 2),
            "load": arguments.load,
            "workers": workers,
            **soak.summary(),
        },
        "memory_kib": {
            "fresh": memory_fresh,
            "start": memory_start,
            "end": memory_end,
            "growth_percent": growth,
        },
        "consistency": checks,
    }


def report(results: dict[str, Any], max_growth: float) -> bool:
    soak = results["soak"]
    print()
    print(f"== Endurance ({soak['seconds']:.0f} s à {soak['load']:.0%} du pic)")
    print(
        f"  pic mesuré        : {results['peak']['operations_per_s']} op/s "
        f"({results['peak']['workers']} clients)"
    )
    print(
        f"  débit atteint     : {soak['operations_per_s']} op/s (visé "
        f"{soak['target_operations_per_s']}) = {soak['searches_per_s']} recherches/s + "
        f"{soak['orders_per_s']} commandes/s"
    )
    print(f"  opérations        : {soak['searches']} recherches, {soak['orders']} commandes")
    for name, key in (
        ("recherche (toutes réponses)", "search_ms"),
        ("commande (select→confirm)", "order_ms"),
    ):
        p = soak[key]
        print(
            f"  {name:28s}: p50 {p['p50']} ms, p95 {p['p95']} ms, "
            f"p99 {p['p99']} ms, max {p['max']} ms"
        )
    print(f"  erreurs           : {soak['errors']} {soak['errors_by_kind'] or ''}")
    if soak["late_slots"]:
        print(f"  créneaux en retard: {soak['late_slots']} (tous les clients occupés)")
    for example in soak["error_examples"][:10]:
        print(f"    - {example}")
    print("  mémoire (VmRSS)   : début → fin (croissance)")
    mem = results["memory_kib"]
    for name in mem["start"]:
        start, end = format_kib(mem["start"][name]), format_kib(mem["end"][name])
        growth = mem["growth_percent"].get(name, 0)
        print(f"    {name:12s} {start:>9s} → {end:>9s} ({growth:+.1f} %)")
    checks = results["consistency"]
    print(
        f"  cohérence (tout l'essai) : {checks['orders_confirmed_buyer']} confirmées à "
        f"l'acheteur, {checks['orders_at_sellers']} aux pôles, {checks['units_sold']} unités "
        f"vendues, {checks['units_added']} ajoutées en {checks['top_ups']} réassorts, "
        f"{checks['stock_checked']} stocks vérifiés : "
        + ("OK" if not checks["problems"] else "ÉCART")
    )
    print(
        f"  charge machine    : {results['cpus']} processeurs, moyenne de charge "
        f"{results['load_average_start']} (début) / {results['load_average_end']} (fin)"
    )
    too_big = {n: g for n, g in mem["growth_percent"].items() if g > max_growth}
    if too_big:
        print(f"  croissance mémoire au-delà de {max_growth} % : {too_big}")
    return soak["errors"] == 0 and not checks["problems"] and not too_big


def main(arguments: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="reseau-poles-soak-") as folder:
        net = DemoNetwork(
            Path(folder) / "demo",
            base_port=arguments.base_port,
            say=lambda text: print(f"  {text}"),
            # One organisation stands for every buyer: its peak is the network's, not the
            # per-organisation rate limit's.
            buyer_settings={"api_rate_per_second": 0, "api_search_rate_per_second": 0},
        )
        started = time.monotonic()
        print(f"Réseau de démonstration dans {net.root} (ports {arguments.base_port}+)…")
        with net:
            print(f"Réseau prêt en {time.monotonic() - started:.1f} s ; charge {load_average()}")
            results = asyncio.run(run(arguments, net))
    ok = report(results, arguments.max_growth)
    if arguments.json:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), "utf-8")
        print(f"  résultats complets : {arguments.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="endurance (s)")
    parser.add_argument("--step-seconds", type=float, default=20.0, help="palier de montée (s)")
    parser.add_argument("--max-workers", type=int, default=64, help="clients au plus (montée)")
    parser.add_argument("--load", type=float, default=0.7, help="part du pic (0.7 = 70 %%)")
    parser.add_argument("--max-growth", type=float, default=10.0, help="croissance RSS max (%%)")
    parser.add_argument("--base-port", type=int, default=8900)
    parser.add_argument("--json", type=Path, default=None, help="écrire les résultats (JSON)")
    sys.exit(main(parser.parse_args()))
