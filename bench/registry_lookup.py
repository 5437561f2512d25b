"""Registry lookups over HTTP against a bare FastAPI endpoint, same uvicorn stack, same run.

    python bench/registry_lookup.py [--subscribers 10000] [--clients 100] [--seconds 4] [--runs 3]

A registry on SQLite is filled with ``--subscribers`` participants (written straight into the
tables: the challenge round trip is not what is measured), then served by uvicorn (httptools,
uvloop, one worker) in a child process. A second child process serves a bare FastAPI app whose
``POST /lookup`` answers one fixed, pre-encoded record. The load generator (this process) runs
``--clients`` concurrent keep-alive HTTP/1.1 clients on asyncio.

Two loads:

* closed loop: every client sends its next request as soon as the answer arrives; gives the
  throughput. Latency there is mostly queueing (Little's law: clients / throughput).
* paced: the same clients together send a fixed rate (``--rate``, well under saturation), as
  nodes do in production; gives the service latency.

Figures are medians over ``--runs`` runs. Targets (issue 3): p95 < 5 ms at 100 clients on
SQLite, throughput within 2x of the bare endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI, Request, Response

FIXED_RECORD = {
    "subscriber_id": "vendeur-00001.example",
    "url": "https://vendeur-00001.example/beckn",
    "subscriber_url": "https://vendeur-00001.example/beckn",
    "type": "BPP",
    "domain": "PLA:ALIMENTS",
    "city": "QC-03",
    "country": "CAN",
    "key_id": "k1",
    "ukId": "k1",
    "unique_key_id": "k1",
    "signing_public_key": "A" * 43 + "=",
    "encr_public_key": "B" * 43 + "=",
    "valid_from": "2026-01-01T00:00:00Z",
    "valid_until": "2027-01-01T00:00:00Z",
    "status": "SUBSCRIBED",
    "created": "2026-01-01T00:00:00Z",
    "updated": "2026-01-01T00:00:00Z",
}
DOMAINS = ("PLA:ALIMENTS", "PLA:LOGISTIQUE")
REGIONS = tuple(f"QC-{n:02d}" for n in range(1, 18))


# --- the database -------------------------------------------------------------------------------


def seed(database_url: str, count: int, rng: random.Random) -> list[tuple[str, str]]:
    """``count`` participants: 85 % buyer nodes, 14 % seller nodes, 1 % gateways. Returns the
    (subscriber_id, key_id) pairs."""
    from sqlalchemy import insert

    from reseau_poles.protocol.keys import SigningKeyPair, b64encode
    from reseau_poles.registry.app import migrate
    from reseau_poles.registry.tables import domains as domain_table
    from reseau_poles.registry.tables import keys as key_table
    from reseau_poles.registry.tables import regions as region_table
    from reseau_poles.registry.tables import subscribers as subscriber_table
    from reseau_poles.storage import make_engine, make_session_factory, write_session

    migrate(database_url)
    now = datetime.now(UTC).replace(microsecond=0)
    subscribers, domains, regions, keys, pairs = [], [], [], [], []
    signing = [SigningKeyPair.generate().public_key_b64 for _ in range(64)]
    for n in range(count):
        roll = rng.random()
        kind = "BAP" if roll < 0.85 else "BPP" if roll < 0.99 else "BG"
        sid = f"{kind.lower()}-{n:05d}.example"
        subscribers.append(
            {
                "subscriber_id": sid,
                "url": f"https://{sid}/beckn",
                "type": kind,
                "country": "CAN",
                "status": "SUBSCRIBED",
                "created_at": now,
                "updated_at": now,
            }
        )
        if kind == "BG":
            served_domains, served_regions = list(DOMAINS), ["*"]
        else:
            d = rng.random()
            served_domains = [DOMAINS[0]] if d < 0.7 else [DOMAINS[1]] if d < 0.9 else list(DOMAINS)
            r = rng.random()
            served_regions = (
                rng.sample(REGIONS, 1) if r < 0.8 else rng.sample(REGIONS, 2) if r < 0.95 else ["*"]
            )
        domains += [
            {"subscriber_id": sid, "domain": v, "position": i} for i, v in enumerate(served_domains)
        ]
        regions += [
            {"subscriber_id": sid, "region": v, "position": i} for i, v in enumerate(served_regions)
        ]
        for k in range(2 if rng.random() < 0.1 else 1):  # 10 % are rotating: two keys
            key_id = f"k{k + 1}"
            keys.append(
                {
                    "subscriber_id": sid,
                    "key_id": key_id,
                    "signing_public_key": signing[n % 64],
                    "encr_public_key": b64encode(rng.randbytes(32)),
                    "valid_from": now - timedelta(days=k),
                    "valid_until": now + timedelta(days=365),
                    "status": "ACTIVE",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            pairs.append((sid, key_id))
    engine = make_engine(database_url)
    with write_session(make_session_factory(engine)) as session:
        session.execute(insert(subscriber_table), subscribers)
        session.execute(insert(domain_table), domains)
        session.execute(insert(region_table), regions)
        session.execute(insert(key_table), keys)
    engine.dispose()
    return pairs


# --- the servers (child processes) ------------------------------------------------------------


def serve_registry(database_url: str, folder: str, port: int) -> None:
    import uvicorn

    from reseau_poles.registry.app import create_app
    from reseau_poles.registry.settings import RegistrySettings

    settings = RegistrySettings(
        database_url=database_url,
        key_dir=Path(folder) / "registry-keys",
        auto_migrate=False,
        port=port,
    )
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        http="httptools",
        loop="uvloop",
    )


def serve_bare(port: int) -> None:
    import uvicorn

    app = FastAPI()
    body = json.dumps([FIXED_RECORD], separators=(",", ":")).encode()

    @app.post("/lookup")
    async def lookup(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        http="httptools",
        loop="uvloop",
    )


def start_child(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__, *args])


def wait_ready(port: int, child: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"le serveur du port {port} s'est arrêté")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"le serveur du port {port} ne répond pas")


# --- the load ---------------------------------------------------------------------------------


class Connection:
    """A minimal keep-alive HTTP/1.1 client: enough to measure the server, not the client."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def post(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self.reader.readexactly(length)
        return status, body

    def close(self) -> None:
        self.writer.close()


def http_request(port: int, path: str, payload: dict[str, str]) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def load(
    port: int,
    requests: list[bytes],
    clients: int,
    seconds: float,
    rate: float | None,
    warmup: float = 1.0,
) -> tuple[float, list[float], int, int]:
    """Returns (requests per second, latencies in ms, answer bytes seen, errors)."""
    connections = [Connection(port) for _ in range(clients)]
    await asyncio.gather(*(c.open() for c in connections))
    latencies: list[float] = []
    errors = 0
    size = 0
    start = time.perf_counter()
    measure_from = start + warmup
    stop = measure_from + seconds
    interval = clients / rate if rate else 0.0

    async def client(index: int, connection: Connection) -> None:
        nonlocal errors, size
        rng = random.Random(index)
        next_at = start + rng.random() * interval if interval else 0.0
        while True:
            if interval:
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_at += interval
            sent = time.perf_counter()
            if sent >= stop:
                return
            status, body = await connection.post(requests[rng.randrange(len(requests))])
            done = time.perf_counter()
            if status != 200:
                errors += 1
            if sent >= measure_from:
                latencies.append((done - sent) * 1000)
                size = max(size, len(body))

    await asyncio.gather(*(client(i, c) for i, c in enumerate(connections)))
    for connection in connections:
        connection.close()
    return len(latencies) / seconds, latencies, size, errors


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summarise(samples: list[tuple[float, list[float], int, int]]) -> dict[str, float]:
    return {
        "rate": statistics.median(s[0] for s in samples),
        "p50": statistics.median(percentile(s[1], 0.50) for s in samples),
        "p95": statistics.median(percentile(s[1], 0.95) for s in samples),
        "size": max(s[2] for s in samples),
        "errors": sum(s[3] for s in samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--rate", type=float, default=1000.0, help="requêtes/s de la charge cadencée"
    )
    args = parser.parse_args()

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    from tests.conftest import free_port

    rng = random.Random(2026)
    with tempfile.TemporaryDirectory(prefix="bench-registre-") as folder:
        database_url = f"sqlite:///{Path(folder) / 'registry.sqlite'}"
        started = time.perf_counter()
        pairs = seed(database_url, args.subscribers, rng)
        print(
            f"{args.subscribers} participants, {len(pairs)} clés : "
            f"{time.perf_counter() - started:.1f} s pour remplir la base"
        )

        registry_port, bare_port = free_port(), free_port()
        children = [
            start_child("serve-registry", database_url, folder, str(registry_port)),
            start_child("serve-bare", str(bare_port)),
        ]
        try:
            wait_ready(registry_port, children[0])
            wait_ready(bare_port, children[1])
            by_area = [
                http_request(registry_port, "/lookup", {"type": "BPP", "domain": d, "city": r})
                for d in DOMAINS
                for r in REGIONS
            ]
            by_key = [
                http_request(registry_port, "/lookup", {"subscriber_id": s, "ukId": k})
                for s, k in rng.sample(pairs, min(2000, len(pairs)))
            ]
            bare = [http_request(bare_port, "/lookup", {"subscriber_id": "x", "ukId": "k1"})]
            scenarios = [
                ("FastAPI nu (1 enregistrement fixe)", bare_port, bare),
                ("lookup type+domaine+région", registry_port, by_area),
                ("lookup subscriber_id+ukId", registry_port, by_key),
            ]
            print(
                f"\n{args.clients} clients simultanés, {args.seconds:.0f} s × {args.runs} essais "
                "(médianes)\n"
            )
            header = (
                f"{'':38} {'boucle fermée':>30}   {'cadencé à ' + str(int(args.rate)) + '/s':>20}"
                f"\n{'scénario':38} {'req/s':>9} {'ratio':>6} {'p50 ms':>7} {'p95 ms':>7}"
                f"   {'p50 ms':>9} {'p95 ms':>9}   {'réponse':>9}"
            )
            print(header)
            # Scenarios take turns within each run, so that a noisy neighbour on the machine
            # weighs on all of them alike.
            closed: dict[str, list] = {name: [] for name, _, _ in scenarios}
            paced: dict[str, list] = {name: [] for name, _, _ in scenarios}
            for _ in range(args.runs):
                for name, port, requests in scenarios:
                    closed[name].append(
                        asyncio.run(load(port, requests, args.clients, args.seconds, None))
                    )
                    paced[name].append(
                        asyncio.run(load(port, requests, args.clients, args.seconds, args.rate))
                    )
            baseline = None
            for name, _, _ in scenarios:
                c, p = summarise(closed[name]), summarise(paced[name])
                baseline = baseline or c["rate"]
                ratio = baseline / c["rate"]
                flag = "" if c["errors"] + p["errors"] == 0 else "  ERREURS !"
                print(
                    f"{name:38} {c['rate']:>9.0f} {ratio:>5.2f}x {c['p50']:>7.2f} "
                    f"{c['p95']:>7.2f}   {p['p50']:>9.2f} {p['p95']:>9.2f}"
                    f"   {c['size']:>7} o{flag}"
                )
            print(
                "\nratio = débit du FastAPI nu / débit du scénario (cible ≤ 2x) ; "
                "cible p95 < 5 ms (charge cadencée)."
            )
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=10)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if len(sys.argv) > 1 and sys.argv[1] == "serve-registry":
        serve_registry(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "serve-bare":
        serve_bare(int(sys.argv[2]))
    else:
        os.environ.setdefault("PYTHONHASHSEED", "0")
        main()
