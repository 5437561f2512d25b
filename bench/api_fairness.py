"""Fairness of the buyer node's client API: one organisation floods ``POST /api/searches``
while another searches as usual.

The demo network (``reseau-poles demo``: registry, gateway, buyer node, ``--sellers`` seller
nodes, each a real process on SQLite) is started in a temporary folder, and a second
organisation is added to the buyer node. Then, in the same run:

1. quiet: the second organisation makes ``--searches`` searches, one every ``--pace``
   seconds (``POST /api/searches`` then ``GET /api/searches/{tx}?wait_ms=…`` until every seller
   answered): its median and p95 latency, the baseline;
2. flood: the first organisation sends searches at full speed (``--flood-workers`` at once,
   ignoring ``Retry-After``; ``--flood-rate`` paces them instead) until ``--flood`` of them
   were accepted or the second one is done, while the second organisation makes its
   ``--searches`` searches again: their median and p95, and the ratio to the baseline; how
   many of the flood's searches were accepted (202) and refused (429 ``trop_de_requetes``).

The flood comes from a process of its own, as an attacker's client would (on this machine,
it takes its share of the same cores); ``--flood-in-process`` sends it from the measuring
process's event loop instead, which then measures its own queueing as well.

The buyer node runs with its default rate limits (``api_search_rate_per_second`` …);
``--search-rate`` and ``--search-burst`` try other values;
``--no-limit`` turns them off (``api_rate_per_second = 0``, ``api_search_rate_per_second = 0``
in its configuration) to see the flood's effect without them.

    python bench/api_fairness.py [--sellers 2] [--searches 20] [--flood 400] [--no-limit]
                                 [--flood-rate 54] [--flood-in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from reseau_poles.demo.network import DemoNetwork
from support import percentile

WAIT_MS = 15_000
SEARCH = {"text": "sirop érable", "region": "*"}


def add_organisation(net: DemoNetwork, organisation_id: str) -> str:
    """A second organisation on the running buyer node, and its API key."""
    from reseau_poles.buyer.repositories import organisations as repo
    from reseau_poles.storage import make_engine, make_session_factory, write_session

    engine = make_engine(net.buyer.database_url)
    try:
        with write_session(make_session_factory(engine)) as session:
            repo.add_organisation(session, organisation_id, "Organisation mesurée")
            return repo.create_api_key(session, organisation_id, "banc d'essai")
    finally:
        engine.dispose()


async def one_search(http: httpx.AsyncClient, url: str, key: str) -> float:
    """Milliseconds from the search's POST to its complete results."""
    headers = {"X-API-Key": key}
    started = time.perf_counter()
    answer = await http.post(f"{url}/api/searches", json=SEARCH, headers=headers)
    answer.raise_for_status()
    tx = answer.json()["transaction_id"]
    while True:
        result = await http.get(
            f"{url}/api/searches/{tx}", params={"wait_ms": WAIT_MS}, headers=headers
        )
        result.raise_for_status()
        if result.json().get("complete"):
            return (time.perf_counter() - started) * 1000


async def measured(
    http: httpx.AsyncClient, url: str, key: str, count: int, pace: float
) -> list[float]:
    """``count`` searches, one every ``pace`` seconds (start to start) or right after the
    previous one if it took longer."""
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        latencies.append(await one_search(http, url, key))
        await asyncio.sleep(max(0.0, pace - (time.perf_counter() - started)))
    return latencies


async def flood(
    http: httpx.AsyncClient,
    url: str,
    key: str,
    limit: int,
    workers: int,
    done: Any,
    rate: float | None = None,
) -> dict[str, int]:
    """Searches at full speed (or ``rate`` per second in all) until ``limit`` accepted or
    ``done`` (anything with ``is_set()``): counts by status."""
    counts: dict[str, int] = {}
    headers = {"X-API-Key": key}
    interval = workers / rate if rate else 0.0

    async def worker() -> None:
        while not done.is_set() and counts.get("202", 0) < limit:
            started = time.perf_counter()
            try:
                response = await http.post(f"{url}/api/searches", json=SEARCH, headers=headers)
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            counts[status] = counts.get(status, 0) + 1
            if interval:
                await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))

    await asyncio.gather(*(worker() for _ in range(workers)))
    return counts


def flood_process(
    url: str, key: str, limit: int, workers: int, rate: float | None, done: Any, out: Any
) -> None:
    """The flood in a process of its own; its counts put on ``out``."""

    async def go() -> dict[str, int]:
        limits = httpx.Limits(max_connections=workers + 2)
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            return await flood(http, url, key, limit, workers, done, rate)

    out.put(asyncio.run(go()))


def summary(label: str, values: list[float]) -> dict[str, float]:
    result = {
        "median": statistics.median(values),
        "p95": percentile(values, 0.95),
        "max": max(values),
    }
    print(
        f"  {label:<32} médiane {result['median']:7.0f} ms   p95 {result['p95']:7.0f} ms   "
        f"max {result['max']:7.0f} ms   ({len(values)} recherches)"
    )
    return result


async def run(arguments: argparse.Namespace, net: DemoNetwork, settings: dict[str, float]) -> None:
    url = net.buyer.url
    flooder = net.buyer_api_key
    other = add_organisation(net, "organisation-mesuree")
    limits = httpx.Limits(max_connections=arguments.flood_workers + 8)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        await measured(
            http, url, other, 3, arguments.pace
        )  # warm-up: lookups cached, connections open
        quiet = await measured(http, url, other, arguments.searches, arguments.pace)
        flood_args = (url, flooder, arguments.flood, arguments.flood_workers)
        started = time.perf_counter()
        if arguments.flood_in_process:
            done: Any = asyncio.Event()
            flooding = asyncio.create_task(flood(http, *flood_args, done, arguments.flood_rate))
            await asyncio.sleep(0.2)  # the flood is under way
            loaded = await measured(http, url, other, arguments.searches, arguments.pace)
            done.set()
            counts = await flooding
        else:
            context = multiprocessing.get_context("spawn")
            done, out = context.Event(), context.Queue()
            flooder_process = context.Process(
                target=flood_process, args=(*flood_args, arguments.flood_rate, done, out)
            )
            flooder_process.start()
            await asyncio.sleep(1.0)  # the process started and the flood is under way
            loaded = await measured(http, url, other, arguments.searches, arguments.pace)
            done.set()
            counts = await asyncio.to_thread(out.get)
            flooder_process.join()
        seconds = time.perf_counter() - started
    print(
        "Inondation "
        + ("dans le processus de mesure" if arguments.flood_in_process else "dans son processus")
        + (
            f", {arguments.flood_rate:g} recherches/s"
            if arguments.flood_rate
            else ", à plein débit"
        )
        + f", {arguments.flood_workers} requêtes simultanées"
    )
    print(
        "Limites de l'API : "
        + ("aucune (--no-limit)" if arguments.no_limit else "par défaut du nœud acheteur")
        + "".join(f", {name} = {value}" for name, value in settings.items())
    )
    base = summary("seule (référence)", quiet)
    busy = summary("pendant l'inondation", loaded)
    accepted = counts.get("202", 0)
    print(
        f"  inondation : {sum(counts.values())} requêtes en {seconds:.1f} s, "
        f"{accepted} acceptées ({accepted / seconds:.1f}/s), "
        f"{counts.get('429', 0)} refusées 429 ; autres : "
        f"{ {k: v for k, v in counts.items() if k not in ('202', '429')} or 'aucune' }"
    )
    print(
        f"  rapport à la référence : médiane × {busy['median'] / base['median']:.2f}, "
        f"p95 × {busy['p95'] / base['p95']:.2f}"
    )


def main(arguments: argparse.Namespace) -> int:
    if arguments.no_limit:
        settings: dict[str, float] = {"api_rate_per_second": 0, "api_search_rate_per_second": 0}
    else:
        settings = {
            name: value
            for name, value in (
                ("api_search_rate_per_second", arguments.search_rate),
                ("api_search_burst", arguments.search_burst),
            )
            if value is not None
        }
    with tempfile.TemporaryDirectory(prefix="reseau-poles-fairness-") as folder:
        net = DemoNetwork(
            Path(folder) / "demo",
            base_port=arguments.base_port,
            seller_nodes=arguments.sellers,
            say=lambda text: None,
            buyer_settings=settings,
        )
        with net:
            asyncio.run(run(arguments, net, settings))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sellers", type=int, default=2, help="nœuds vendeurs")
    parser.add_argument("--searches", type=int, default=20, help="recherches mesurées par phase")
    parser.add_argument("--pace", type=float, default=0.5, help="s entre deux recherches mesurées")
    parser.add_argument("--flood", type=int, default=400, help="recherches acceptées au plus")
    parser.add_argument("--flood-workers", type=int, default=16, help="requêtes simultanées")
    parser.add_argument("--flood-rate", type=float, default=None, help="recherches/s (plein débit)")
    parser.add_argument(
        "--flood-in-process", action="store_true", help="inondation depuis le processus de mesure"
    )
    parser.add_argument("--no-limit", action="store_true", help="sans limites de débit")
    parser.add_argument("--search-rate", type=float, default=None, help="recherches/s par clé")
    parser.add_argument("--search-burst", type=int, default=None, help="rafale de recherches")
    parser.add_argument("--base-port", type=int, default=8960)
    arguments_: Any = parser.parse_args()
    sys.exit(main(arguments_))
