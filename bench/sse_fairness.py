"""Event streams against everyone else: another organisation's ``GET /api/orders`` p50/p95
on a buyer node, quiet, then while K event streams (``GET /api/searches/{id}/events``) are
open on searches still waiting for a seller, in the same run; the ratio of the two.

    python bench/sse_fairness.py [--streams 200] [--organisations 20] [--requests 300]

The buyer node is real and in its own process (``reseau-poles buyer serve``, SQLite), as in
production. Its database is prepared beforehand: ``--organisations`` organisations with a key
each, and for each a search sent to a seller node that never answers (its ``ttl`` is set long
enough to outlast the run), so that the streams stay open, ``--streams`` spread over them (the
default, 10 per organisation, is the node's default cap). The streams are read by a second
process (asyncio, one connection each; a stream the server ends is opened again, as an
``EventSource`` would); a third organisation, streaming nothing, lists its orders one request
after another from this process. The issue's target: the p95 with the streams open within 2×
the quiet p95.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from support import free_port, percentile, wait_http

HERE = Path(__file__).resolve()
SUBSCRIBER = "acheteur.banc.example"
ABSENT_SELLER = "vendeur-muet.banc.example"


def prepare(folder: Path, organisations: int) -> tuple[str, str, list[tuple[str, str]]]:
    """The buyer's database: the measured organisation's key, and (key, search) per
    streaming organisation."""
    from reseau_poles.buyer.app import migrate
    from reseau_poles.buyer.repositories import organisations as repo
    from reseau_poles.buyer.repositories import searches as search_repo
    from reseau_poles.keystore import KeyFiles
    from reseau_poles.storage import make_engine, make_session_factory, write_session

    KeyFiles(folder / "keys").load_or_generate(SUBSCRIBER)
    database_url = f"sqlite:///{folder / 'buyer.sqlite'}"
    engine = make_engine(database_url)
    try:
        migrate(engine)
        streaming = []
        with write_session(make_session_factory(engine)) as session:
            repo.add_organisation(session, "mesure", "Organisation mesurée")
            measured = repo.create_api_key(session, "mesure", "banc")
            for n in range(organisations):
                organisation_id = f"flux-{n}"
                repo.add_organisation(session, organisation_id, f"Organisation {n}")
                key = repo.create_api_key(session, organisation_id, "banc")
                transaction_id = str(uuid.uuid4())
                search_repo.insert_search(
                    session,
                    transaction_id=transaction_id,
                    message_id=str(uuid.uuid4()),
                    organisation_id=organisation_id,
                    params={"text": "sirop", "region": "QC-03"},
                )
                search_repo.mark_dispatched(
                    session,
                    transaction_id,
                    {ABSENT_SELLER: {"url": "http://127.0.0.1:9/", "status": "ACK"}},
                    via_gateway=None,
                    failed=False,
                )
                streaming.append((key, transaction_id))
    finally:
        engine.dispose()
    return database_url, measured, streaming


def start_buyer(folder: Path, database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESEAU_POLES_")}
    env.update(
        RESEAU_POLES_DATABASE_URL=database_url,
        RESEAU_POLES_SUBSCRIBER_ID=SUBSCRIBER,
        RESEAU_POLES_KEY_DIR=str(folder / "keys"),
        RESEAU_POLES_PUBLIC_URL=f"http://127.0.0.1:{port}",
        RESEAU_POLES_PORT=str(port),
        RESEAU_POLES_REGISTRY_URL=f"http://127.0.0.1:{free_port()}",  # nobody: not needed here
        RESEAU_POLES_SEARCH_TTL_SECONDS="3600",  # the searches stay pending all along
        RESEAU_POLES_MAX_WAIT_MS="120000",
        RESEAU_POLES_LOG_LEVEL="WARNING",
    )
    log = (folder / "buyer.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "reseau_poles.cli", "buyer", "serve"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=folder,
    )


# --- the streaming process ------------------------------------------------------------------


async def hold_streams(url: str, plan: list[tuple[str, str]], seconds: float) -> None:
    """Keep one stream per ``(key, search)`` of ``plan`` open for ``seconds``; print a JSON
    line once they are all open (``opened``)."""
    seen = {"opened": 0, "events": 0, "refused": 0, "reopened": 0}
    ready = asyncio.Event()
    limits = httpx.Limits(max_connections=len(plan) + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None), limits=limits) as http:

        async def one(key: str, transaction_id: str) -> None:
            first = True
            while True:
                async with http.stream(
                    "GET",
                    f"{url}/api/searches/{transaction_id}/events",
                    headers={"X-API-Key": key},
                ) as response:
                    if response.status_code != 200:
                        seen["refused"] += 1
                        await response.aread()
                        await asyncio.sleep(1)
                        continue
                    if first:
                        seen["opened"] += 1
                        first = False
                        if seen["opened"] == len(plan):
                            ready.set()
                    else:
                        seen["reopened"] += 1
                    async for line in response.aiter_lines():
                        if line.startswith("event:"):
                            seen["events"] += 1

        tasks = [asyncio.create_task(one(key, tx)) for key, tx in plan]
        try:
            await asyncio.wait_for(ready.wait(), timeout=120)
            print(json.dumps({"opened": seen["opened"]}), flush=True)
            await asyncio.sleep(seconds)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


# --- the measured organisation -----------------------------------------------------------


def list_orders(url: str, key: str, requests: int) -> list[float]:
    times = []
    with httpx.Client(timeout=30, headers={"X-API-Key": key}) as http:
        for _ in range(20):  # warm-up
            http.get(f"{url}/api/orders").raise_for_status()
        for _ in range(requests):
            started = time.perf_counter()
            http.get(f"{url}/api/orders").raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return times


def describe(times: list[float]) -> str:
    return (
        f"p50 {statistics.median(times):7.1f} ms   p95 {percentile(times, 0.95):7.1f} ms   "
        f"({len(times)} requêtes)"
    )


def main(arguments: argparse.Namespace) -> int:
    per_organisation = -(-arguments.streams // arguments.organisations)
    with tempfile.TemporaryDirectory(prefix="reseau-poles-sse-") as name:
        folder = Path(name)
        database_url, measured, searches = prepare(folder, arguments.organisations)
        plan = [searches[n % len(searches)] for n in range(arguments.streams)]
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        buyer = start_buyer(folder, database_url, port)
        try:
            wait_http(f"{url}/health", timeout=60)
            print(
                f"Nœud acheteur prêt ; {arguments.streams} flux sur {arguments.organisations} "
                f"organisations (≤ {per_organisation} chacune)."
            )
            quiet = list_orders(url, measured, arguments.requests)
            print(f"  GET /api/orders, au calme (avant) : {describe(quiet)}")
            child = subprocess.Popen(
                [
                    sys.executable,
                    str(HERE),
                    "--hold",
                    url,
                    json.dumps(plan),
                    str(arguments.hold_seconds),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert child.stdout is not None
            opened = json.loads(child.stdout.readline() or "{}").get("opened")
            if opened != arguments.streams:
                print(f"  flux ouverts : {opened} sur {arguments.streams}")
                child.kill()
                return 1
            time.sleep(1.0)  # the streams settle (first read, first wait)
            busy = list_orders(url, measured, arguments.requests)
            child.terminate()
            child.wait(30)
            print(f"  GET /api/orders, {arguments.streams} flux ouverts : {describe(busy)}")
            time.sleep(1.0)
            after = list_orders(url, measured, arguments.requests)
            print(f"  GET /api/orders, au calme (après) : {describe(after)}")
            quiet += after
            ratio50 = statistics.median(busy) / statistics.median(quiet)
            ratio95 = percentile(busy, 0.95) / percentile(quiet, 0.95)
            print(
                f"  rapport avec flux / au calme (avant et après) : p50 × {ratio50:.2f}, p95 × {ratio95:.2f}"
            )
            print(f"  objectif (numéro 14) : p95 × 2 au plus — {'tenu' if ratio95 <= 2 else 'non'}")
        finally:
            buyer.terminate()
            buyer.wait(15)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--hold":
        asyncio.run(hold_streams(sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4])))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200, help="flux ouverts (K)")
    parser.add_argument("--organisations", type=int, default=20, help="organisations des flux")
    parser.add_argument("--requests", type=int, default=300, help="GET /api/orders mesurés")
    parser.add_argument("--hold-seconds", type=float, default=600.0, help=argparse.SUPPRESS)
    sys.exit(main(parser.parse_args()))
