"""Discovery benchmark: one buyer search for a common product across every region, answered
by 25 real seller nodes of 2,000 items each, all on loopback, in one run:

(a) the time of one bare signed HTTP round trip (sign a search, POST it to a FastAPI endpoint
    on the same stack that only verifies the signature and ACKs; keep-alive), the baseline;
(b) for each search: the time until the first seller's answer and until all 25 answered,
    p50/p95, read two ways: when the buyer node stored each ``on_search`` (its own
    timestamps, from the client's send of ``POST /api/searches``) and when the client saw the
    events on ``GET /api/searches/{id}/events`` (Server-Sent Events); straight to the sellers
    (default buyer) and through the gateway (``use_gateway=True``).

    python bench/discovery.py [--searches 30] [--sellers 25] [--items 2000]
                              [--cache DIR] [--modes direct,passerelle]

``--cache DIR`` keeps each seller's generated catalog (its SQLite file) and reuses it on the
next run with the same ``--items``: start-up goes from about 2 min to about 10 s on a loaded
2-core machine. ``--modes direct`` measures only the buyer that calls the sellers itself.

Everything real: the registry (SQLite, a thread of this process), 25 seller nodes
(``reseau_poles.seller``, each its own port, identity, keys and SQLite file, subscribed
through the registry's challenge; several share a process to keep a 2-core machine usable),
the gateway (``reseau-poles gateway serve``), two buyer nodes (direct and gateway) in their
own processes. Each seller's catalog: 2,000 generated items, of which about 1 % is maple
syrup (the product searched); the seller's on_search carries every match.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from fastapi import Request, Response  # module level: FastAPI resolves the annotations here

from support import ServerThread, free_port, percentile, wait_http

HERE = Path(__file__).resolve()
DOMAIN = "PLA:ALIMENTS"
REGISTRY_ID = "registre.bench.example"
GATEWAY_ID = "passerelle.bench.example"
QUERY = "sirop d'érable"
REGIONS = [f"QC-{n:02d}" for n in range(1, 18)]

# (name, category id, category name, unit, pack size, price): what a pôle sells.
PRODUCTS = [
    ("Pommes Cortland", "fruits", "Fruits", "kg", "1", "2.10"),
    ("Pommes McIntosh", "fruits", "Fruits", "kg", "1", "2.30"),
    ("Bleuets sauvages", "fruits", "Fruits", "g", "500", "6.50"),
    ("Fraises d'été", "fruits", "Fruits", "g", "454", "5.25"),
    ("Canneberges séchées", "fruits", "Fruits", "g", "250", "4.75"),
    ("Carottes", "legumes", "Légumes", "kg", "2", "3.20"),
    ("Pommes de terre jaunes", "legumes", "Légumes", "kg", "5", "6.00"),
    ("Oignons espagnols", "legumes", "Légumes", "kg", "1", "2.40"),
    ("Laitue Boston", "legumes", "Légumes", "unite", "1", "2.75"),
    ("Tomates de serre", "legumes", "Légumes", "kg", "1", "5.50"),
    ("Concombres libanais", "legumes", "Légumes", "g", "600", "3.99"),
    ("Poireaux", "legumes", "Légumes", "botte", "1", "3.50"),
    ("Courge musquée", "legumes", "Légumes", "kg", "1", "2.20"),
    ("Fromage cheddar vieilli", "produits-laitiers", "Produits laitiers", "g", "400", "9.75"),
    ("Fromage en grains", "produits-laitiers", "Produits laitiers", "kg", "1", "18.75"),
    ("Yogourt nature", "produits-laitiers", "Produits laitiers", "l", "0.75", "4.25"),
    ("Lait 2 %", "produits-laitiers", "Produits laitiers", "l", "2", "5.10"),
    ("Beurre salé", "produits-laitiers", "Produits laitiers", "g", "454", "6.40"),
    ("Œufs de poules en liberté", "oeufs", "Œufs", "douzaine", "1", "5.80"),
    ("Poulet entier", "viandes", "Viandes", "kg", "2", "17.50"),
    ("Bœuf haché mi-maigre", "viandes", "Viandes", "g", "454", "7.25"),
    ("Saucisses de porc", "viandes", "Viandes", "g", "500", "8.50"),
    ("Truite fumée", "poissons", "Poissons", "g", "200", "11.00"),
    ("Pain de campagne", "boulangerie", "Boulangerie", "unite", "1", "5.25"),
    ("Farine de sarrasin", "cereales", "Céréales et farines", "kg", "1", "6.80"),
    ("Gruau d'avoine", "cereales", "Céréales et farines", "kg", "1", "4.90"),
    ("Miel de trèfle", "miel", "Miel", "g", "500", "9.50"),
    ("Jus de pomme", "boissons", "Boissons", "l", "1", "3.75"),
    ("Cidre de glace", "boissons", "Boissons", "ml", "375", "24.00"),
    ("Ketchup aux fruits", "conserves", "Conserves", "ml", "500", "7.50"),
]
SYRUP = [
    ("Sirop d'érable ambré", "ml", "540", "12.50"),
    ("Sirop d'érable foncé", "l", "1", "19.00"),
    ("Sirop d'érable doré", "ml", "250", "7.25"),
    ("Sirop d'érable très foncé", "l", "4", "62.00"),
]
FORMATS = ["format familial", "format institutionnel", "petit format", "bio", "local"]
CERTIFICATIONS = ["aliments_du_quebec", "biologique_canada", "aliments_prepares_au_quebec"]


def catalog(index: int, count: int) -> list[Any]:
    """``count`` items for seller ``index``: about 1 % maple syrup, the rest everyday food."""
    from reseau_poles.seller.requests import ItemIn

    rng = random.Random(index)
    region = REGIONS[index % len(REGIONS)]
    items = []
    for number in range(count):
        farm = f"Ferme {rng.choice(['des Érables', 'du Rang', 'Beaulieu', 'Tremblay'])} {number}"
        if number % 100 == 7:
            name, unit, size, price = SYRUP[number // 100 % len(SYRUP)]
            category, category_name = "produits-erable", "Produits de l'érable"
        else:
            name, category, category_name, unit, size, price = PRODUCTS[number % len(PRODUCTS)]
            name = f"{name} {FORMATS[number // len(PRODUCTS) % len(FORMATS)]}"
        factor = Decimal(rng.randint(85, 125)) / 100
        items.append(
            ItemIn(
                sku=f"art-{index:02d}-{number:04d}",
                name=f"{name} — {farm}",
                short_desc=f"Produit de la région {region}",
                category_id=category,
                category_name=category_name,
                unit=unit,
                pack_size=Decimal(size),
                price=(Decimal(price) * factor).quantize(Decimal("0.01")),
                certifications=rng.sample(CERTIFICATIONS, rng.randint(0, 2)),
                conservation="refrigere"
                if category in ("produits-laitiers", "viandes")
                else "ambiant",
                producer=farm,
                origin_region=region,
                stock=rng.randint(10, 500),
            )
        )
    return items


# --- sellers: several seller nodes per process, one event loop ---------------------------------


def _server(app: Any, port: int, uvicorn: Any, stack: dict[str, Any]) -> Any:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        **stack,
    )
    return uvicorn.Server(config)


def run_sellers(plan_file: str, out_file: str, items: int, cache: str | None = None) -> None:
    import uvicorn
    import uvloop

    from reseau_poles.network.serving import FAST_STACK, tune_runtime
    from reseau_poles.seller.app import create_app
    from reseau_poles.seller.repositories import products as product_repo
    from reseau_poles.seller.repositories import providers as provider_repo
    from reseau_poles.seller.requests import ProviderIn
    from reseau_poles.seller.settings import SellerSettings
    from reseau_poles.storage import make_session_factory, write_session

    plan = json.loads(Path(plan_file).read_text())
    servers = []
    for seller in plan["sellers"]:
        settings = SellerSettings(
            database_url=f"sqlite:///{seller['folder']}/vendeur.sqlite",
            subscriber_id=seller["subscriber_id"],
            key_dir=Path(seller["folder"]) / "cles",
            public_url=seller["url"],
            registry_url=plan["registry_url"],
            registry_subscriber_id=REGISTRY_ID,
            log_level="WARNING",
        )
        cached = Path(cache, f"vendeur-{seller['index']:02d}-{items}.sqlite") if cache else None
        if cached is not None and cached.exists():
            # The catalog of an earlier run (same index and size: same generated items).
            shutil.copyfile(cached, f"{seller['folder']}/vendeur.sqlite")
        app = create_app(settings, network_settings=settings.network_settings())
        if cached is not None and cached.exists():
            servers.append(_server(app, seller["port"], uvicorn, FAST_STACK))
            continue
        factory = make_session_factory(app.state.service.engine)
        with write_session(factory) as session:
            provider_repo.upsert_provider(
                session,
                ProviderIn(
                    id=f"pole-{seller['index']:02d}",
                    name=f"Pôle bench {seller['index']:02d}",
                    legal_form="obnl",
                    region=seller["region"],
                    served_regions=[seller["region"]],
                    payment_types=["POST-FULFILLMENT"],
                    net_days=30,
                ),
            )
            for item in catalog(seller["index"], items):
                product_repo.upsert_item(session, f"pole-{seller['index']:02d}", item)
        if cached is not None:
            Path(cache).mkdir(parents=True, exist_ok=True)
            with (
                sqlite3.connect(f"{seller['folder']}/vendeur.sqlite") as source,
                sqlite3.connect(cached) as target,
            ):
                source.backup(target)
        servers.append(_server(app, seller["port"], uvicorn, FAST_STACK))

    async def main() -> None:
        # One after the other: a node's start-up runs its migrations (Alembic's context is
        # global to the process).
        tasks = []
        for server in servers:
            tasks.append(asyncio.ensure_future(server.serve()))
            while not server.started:
                if tasks[-1].done():
                    tasks[-1].result()
                await asyncio.sleep(0.02)
        Path(out_file).write_text("prêt")
        await asyncio.gather(*tasks)

    tune_runtime()  # as reseau_poles.network.serving.serve does for a node served alone
    uvloop.run(main())


# --- the buyer node ------------------------------------------------------------------------------


def run_buyer(folder: str, port: int, registry_url: str, use_gateway: bool) -> None:
    from reseau_poles.buyer.app import create_app
    from reseau_poles.buyer.repositories import organisations as repo
    from reseau_poles.buyer.settings import BuyerSettings
    from reseau_poles.network.serving import serve
    from reseau_poles.storage import make_session_factory, write_session

    keys = json.loads((Path(folder) / "identite.json").read_text())
    settings = BuyerSettings(
        database_url=f"sqlite:///{folder}/acheteur.sqlite",
        subscriber_id=keys["subscriber_id"],
        key_dir=Path(folder) / "cles",
        public_url=f"http://127.0.0.1:{port}",
        registry_url=registry_url,
        registry_subscriber_id=REGISTRY_ID,
        use_gateway=use_gateway,
        log_level="WARNING",
    )
    app = create_app(settings)
    with write_session(make_session_factory(app.state.service.engine)) as session:
        repo.add_organisation(session, "bench", "Banc d'essai")
        key = repo.create_api_key(session, "bench")
    (Path(folder) / "cle-api").write_text(key)
    serve(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- bare baseline -----------------------------------------------------------------------------


def run_bare(port: int, public_key: str) -> None:
    from fastapi import FastAPI

    from reseau_poles.network.serving import serve
    from reseau_poles.protocol import signing
    from reseau_poles.protocol.errors import SignatureError

    app = FastAPI()
    ack = b'{"message":{"ack":{"status":"ACK"}}}'

    @app.post("/search")
    async def receive(request: Request) -> Response:
        body = await request.body()
        try:
            signing.verify(body, request.headers.get("authorization"), public_key)
        except SignatureError:
            return Response(b"{}", status_code=401, media_type="application/json")
        return Response(ack, media_type="application/json")

    serve(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- orchestration -----------------------------------------------------------------------------


def identity(folder: Path, name: str, index: int) -> Any:
    from reseau_poles.keystore import KeyFiles
    from reseau_poles.protocol.keys import SubscriberKeys

    keys = SubscriberKeys.generate(f"{name}.bench.example", f"k{index}")
    folder.mkdir(parents=True, exist_ok=True)
    KeyFiles(folder / "cles").write(keys)
    (folder / "identite.json").write_text(json.dumps({"subscriber_id": keys.subscriber_id}))
    return keys


def subscribe(registry_url: str, keys: Any, url: str, type_: str, regions: list[str]) -> None:
    from reseau_poles.network.registry_client import build_record, post_signed
    from reseau_poles.protocol.signing import Signer

    record = build_record(keys, url=url, type=type_, domains=[DOMAIN], regions=regions)
    signer = Signer(keys.subscriber_id, keys.key_id, keys.signing)
    with httpx.Client(timeout=30) as http:
        response = post_signed(http, f"{registry_url}/subscribe", record, signer)
    response.raise_for_status()


def wait_subscribed(registry_url: str, subscriber_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5) as http:
        while time.monotonic() < deadline:
            found = http.post(f"{registry_url}/lookup", json={"subscriber_id": subscriber_id})
            if found.status_code == 200 and any(
                r.get("status") == "SUBSCRIBED" for r in found.json()
            ):
                return
            time.sleep(0.2)
    raise RuntimeError(f"{subscriber_id} n'est pas inscrit au registre")


def bare_round_trips(url: str, keys: Any, count: int) -> list[float]:
    """Sign a search and POST it, ``count`` times on one keep-alive connection (ms)."""
    from reseau_poles.protocol.signing import Signer

    signer = Signer(keys.subscriber_id, keys.key_id, keys.signing)
    body = json.dumps({"context": {"action": "search"}, "message": {"intent": {}}}).encode()
    times = []
    with httpx.Client(timeout=10) as http:
        for attempt in range(count + 20):
            started = time.perf_counter()
            response = http.post(
                url,
                content=body,
                headers={"Authorization": signer.sign(body), "Content-Type": "application/json"},
            )
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.text
            if attempt >= 20:
                times.append(elapsed)
    return times


def one_search(http: httpx.Client, buyer_url: str, key: str, sellers: int) -> dict[str, Any]:
    """POST a search, read its event stream to ``fin``; times in ms from the POST."""
    headers = {"X-API-Key": key}
    sent_wall, sent = time.time(), time.perf_counter()
    response = http.post(f"{buyer_url}/api/searches", json={"text": QUERY}, headers=headers)
    assert response.status_code == 202, response.text
    tx = response.json()["transaction_id"]
    first_seen = end_seen = None
    results = 0
    items: dict[str, int] = {}
    end: dict[str, Any] = {}
    path = f"{buyer_url}/api/searches/{tx}/events?wait_ms=10000"
    with http.stream("GET", path, headers=headers) as stream:
        name = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
                if name == "resultats":
                    results += 1
                    if first_seen is None:
                        first_seen = (time.perf_counter() - sent) * 1000
                elif name == "fin":
                    end_seen = (time.perf_counter() - sent) * 1000
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                if name == "resultats":
                    items[data["bpp_id"]] = data["counts"]["items"]
                elif name == "fin":
                    end = data
                    break
    # The fin event says when the buyer node stored each seller's answer.
    stored = [
        (datetime.fromisoformat(a["received_at"].replace("Z", "+00:00")).timestamp() - sent_wall)
        * 1000
        for a in end.get("sellers", {}).get("answered", [])
    ]
    return {
        "complete": bool(end.get("complete")) and len(stored) == sellers,
        "answered": len(stored),
        "items": sum(items.values()),
        "first_stored": min(stored, default=float("nan")),
        "all_stored": max(stored, default=float("nan")),
        "first_seen": first_seen if first_seen is not None else float("nan"),
        "all_seen": end_seen if end_seen is not None else float("nan"),
        "events": results,
    }


def cpu_seconds(roles: dict[str, list[subprocess.Popen[bytes]]]) -> dict[str, float]:
    """CPU time (user + system) used so far by each role's processes, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for role, members in roles.items():
        total = 0.0
        for process in members:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        found[role] = total
    return found


def summarise(label: str, runs: list[dict[str, Any]], bare: float) -> dict[str, float]:
    figures = {}
    print(f"  {label}")
    for key, title in (
        ("first_stored", "première réponse (stockée)"),
        ("all_stored", "toutes les réponses (stockées)"),
        ("first_seen", "première réponse (vue par SSE)"),
        ("all_seen", "toutes les réponses (fin SSE)"),
    ):
        values = [run[key] for run in runs]
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        figures[key + "_p50"], figures[key + "_p95"] = p50, p95
        print(
            f"    {title:34s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   "
            f"(p50 = {p50 / bare:5.1f} × l'aller-retour nu)"
        )
    incomplete = sum(1 for run in runs if not run["complete"])
    items = statistics.median(run["items"] for run in runs)
    print(
        f"    articles par recherche (médiane) {items:.0f}; recherches incomplètes : {incomplete}"
    )
    return figures


def main(arguments: argparse.Namespace) -> None:
    from reseau_poles.registry.app import create_app as registry_app
    from reseau_poles.registry.settings import RegistrySettings

    env = dict(os.environ)
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        registry_port = free_port()
        registry = ServerThread(
            registry_app(
                RegistrySettings(
                    database_url=f"sqlite:///{tmp / 'registry.sqlite'}",
                    key_dir=tmp / "registry-keys",
                    subscriber_id=REGISTRY_ID,
                    snapshot_refresh_seconds=0.5,
                    port=registry_port,
                )
            ),
            registry_port,
        ).start()
        registry_url = f"http://127.0.0.1:{registry_port}"
        try:
            print(
                f"{arguments.sellers} nœuds vendeurs de {arguments.items} articles "
                f"({arguments.processes} processus) : catalogues et démarrage…",
                flush=True,
            )
            started = time.perf_counter()
            sellers = []
            for index in range(arguments.sellers):
                keys = identity(tmp / f"vendeur-{index:02d}", f"vendeur-{index:02d}", index)
                port = free_port()
                sellers.append(
                    {
                        "index": index,
                        "keys": keys,
                        "subscriber_id": keys.subscriber_id,
                        "folder": str(tmp / f"vendeur-{index:02d}"),
                        "port": port,
                        "url": f"http://127.0.0.1:{port}",
                        "region": REGIONS[index % len(REGIONS)],
                    }
                )
            ready_files = []
            for group in range(arguments.processes):
                mine = sellers[group :: arguments.processes]
                plan = tmp / f"plan-{group}.json"
                plan.write_text(
                    json.dumps(
                        {
                            "registry_url": registry_url,
                            "sellers": [{k: v for k, v in s.items() if k != "keys"} for s in mine],
                        }
                    )
                )
                ready = tmp / f"pret-{group}"
                ready_files.append(ready)
                processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            str(HERE),
                            "sellers",
                            "--plan",
                            str(plan),
                            "--out",
                            str(ready),
                            "--items",
                            str(arguments.items),
                        ]
                        + (["--cache", arguments.cache] if arguments.cache else [])
                    )
                )
            while not all(ready.exists() for ready in ready_files):
                if any(p.poll() is not None for p in processes):
                    raise RuntimeError("un processus vendeur s'est arrêté")
                time.sleep(0.1)
            for seller in sellers:
                subscribe(registry_url, seller["keys"], seller["url"], "BPP", [seller["region"]])
            print(f"  fait en {time.perf_counter() - started:.1f} s", flush=True)

            gateway_port = free_port()
            gateway_env = env | {
                "RESEAU_POLES_REGISTRY_URL": registry_url,
                "RESEAU_POLES_REGISTRY_SUBSCRIBER_ID": REGISTRY_ID,
                "RESEAU_POLES_SUBSCRIBER_ID": GATEWAY_ID,
                "RESEAU_POLES_KEY_DIR": str(tmp / "passerelle-cles"),
                "RESEAU_POLES_PUBLIC_URL": f"http://127.0.0.1:{gateway_port}",
                "RESEAU_POLES_RATE_LIMIT_PER_SECOND": "1000",
                "RESEAU_POLES_RATE_LIMIT_BURST": "1000",
                "RESEAU_POLES_LOG_LEVEL": "WARNING",
            }
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "reseau_poles.cli",
                        "gateway",
                        "serve",
                        "--port",
                        str(gateway_port),
                        "--subscribe",
                    ],
                    env=gateway_env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            wait_http(f"http://127.0.0.1:{gateway_port}/health")
            # The gateway subscribes itself once it answers (its own keys, the challenge).
            wait_subscribed(registry_url, GATEWAY_ID)

            buyers = {}
            for index, (mode, use_gateway) in enumerate((("direct", False), ("passerelle", True))):
                name = f"acheteur-{mode}"
                keys = identity(tmp / name, name, 100 + index)
                port = free_port()
                processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            str(HERE),
                            "buyer",
                            "--folder",
                            str(tmp / name),
                            "--port",
                            str(port),
                            "--registry",
                            registry_url,
                        ]
                        + (["--gateway"] if use_gateway else [])
                    )
                )
                url = f"http://127.0.0.1:{port}"
                wait_http(f"{url}/health")
                subscribe(registry_url, keys, url, "BAP", ["*"])
                buyers[mode] = (url, (tmp / name / "cle-api").read_text(), keys)

            bare_port = free_port()
            bare_keys = buyers["direct"][2]
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(HERE),
                        "bare",
                        "--port",
                        str(bare_port),
                        "--public-key",
                        bare_keys.signing.public_key_b64,
                    ]
                )
            )
            wait_http(f"http://127.0.0.1:{bare_port}/docs")

            print("(a) un aller-retour HTTP signé nu (signer, POST, ACK ; 200 fois)", flush=True)
            trips = bare_round_trips(f"http://127.0.0.1:{bare_port}/search", bare_keys, 200)
            bare = statistics.median(trips)
            print(f"    p50 {bare:6.2f} ms   p95 {percentile(trips, 0.95):6.2f} ms", flush=True)

            print(
                f"(b) recherche « {QUERY} » dans toutes les régions, {arguments.sellers} vendeurs "
                f"({arguments.searches} recherches par mode, après 3 d'échauffement)",
                flush=True,
            )
            figures = {}
            count = arguments.processes
            roles = {
                "vendeurs": processes[:count],
                "passerelle": [processes[count]],
                "acheteur direct": [processes[count + 1]],
                "acheteur passerelle": [processes[count + 2]],
            }
            with httpx.Client(timeout=30) as http:
                for mode, (url, key, _keys) in buyers.items():
                    if mode not in arguments.modes.split(","):
                        continue
                    runs = []
                    for _ in range(3):
                        one_search(http, url, key, arguments.sellers)
                    before = cpu_seconds(roles)
                    for number in range(arguments.searches):
                        runs.append(one_search(http, url, key, arguments.sellers))
                        if arguments.detail:
                            print(
                                f"    {mode} #{number + 1:3d} : première {runs[-1]['first_stored']:6.1f} ms,"
                                f" toutes {runs[-1]['all_stored']:6.1f} ms"
                            )
                        time.sleep(arguments.pause)
                    after = cpu_seconds(roles)
                    figures[mode] = summarise(mode, runs, bare)
                    used = {
                        role: (after[role] - before[role]) * 1000 / arguments.searches
                        for role in roles
                    }
                    print(
                        "    temps CPU par recherche (ms) : "
                        + ", ".join(f"{role} {ms:.0f}" for role, ms in used.items() if ms >= 0.5)
                        + f" ; total {sum(used.values()):.0f} ms pour {os.cpu_count()} cœurs"
                    )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
            registry.stop()

    print()
    print("Résumé (médianes et 95e centiles)")
    print(f"  aller-retour signé nu          p50 {bare:7.2f} ms")
    for mode, found in figures.items():
        print(
            f"  {mode:10s} première réponse p50 {found['first_stored_p50']:6.1f} ms   "
            f"toutes ({arguments.sellers}) p50 {found['all_stored_p50']:6.1f} ms   "
            f"p95 {found['all_stored_p95']:6.1f} ms   (cible p95 < 300 ms)"
        )
        print(
            f"  {'':10s} vu par SSE : première p50 {found['first_seen_p50']:6.1f} ms   "
            f"fin p95 {found['all_seen_p95']:6.1f} ms   "
            f"ratio p95 / aller-retour nu {found['all_stored_p95'] / bare:6.1f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--searches", type=int, default=30)
    parser.add_argument("--sellers", type=int, default=25)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--pause", type=float, default=0.2)
    parser.add_argument(
        "--detail", action="store_true", help="affiche les temps de chaque recherche"
    )
    parser.add_argument(
        "--cache",
        help="dossier où garder les catalogues générés (SQLite) pour les réutiliser au "
        "prochain lancement (même --items)",
    )
    parser.add_argument(
        "--modes",
        default="direct,passerelle",
        help="modes mesurés, séparés par des virgules (direct, passerelle)",
    )
    sellers_parser = sub.add_parser("sellers")
    sellers_parser.add_argument("--plan", required=True)
    sellers_parser.add_argument("--out", required=True)
    sellers_parser.add_argument("--items", type=int, required=True)
    sellers_parser.add_argument("--cache")
    buyer_parser = sub.add_parser("buyer")
    buyer_parser.add_argument("--folder", required=True)
    buyer_parser.add_argument("--port", type=int, required=True)
    buyer_parser.add_argument("--registry", required=True)
    buyer_parser.add_argument("--gateway", action="store_true")
    bare_parser = sub.add_parser("bare")
    bare_parser.add_argument("--port", type=int, required=True)
    bare_parser.add_argument("--public-key", required=True)
    args = parser.parse_args()
    if args.command == "sellers":
        run_sellers(args.plan, args.out, args.items, args.cache)
    elif args.command == "buyer":
        run_buyer(args.folder, args.port, args.registry, args.gateway)
    elif args.command == "bare":
        run_bare(args.port, args.public_key)
    else:
        main(args)
