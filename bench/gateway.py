"""Gateway benchmark, in one run, with real processes on loopback:

(a) signed searches ACKed per second by one gateway worker, against a bare FastAPI endpoint
    on the same stack (uvicorn, uvloop, httptools) that only verifies the same signature; the
    load comes from a separate process (a small asyncio HTTP/1.1 client, keep-alive);
(b) the time for one search to reach 25, 100 and 500 seller endpoints (p50/p95), from the
    buyer's send to the last seller's receipt (CLOCK_MONOTONIC is shared by processes);
    the sellers are one process listening on one port each;
(c) the gateway's peak memory (VmHWM);
(d) the CPU time the gateway spends per ACKed search in (a) (and the bare endpoint per
    verification) and per search fanned out in (b), from /proc (each thread's time on CPU):
    on a loaded machine the rates of (a) and the delays of (b) move with the other
    processes, these much less.

    python bench/gateway.py [--seconds 4] [--rounds 3] [--searches 20]

Everything real: the registry (SQLite, in this process), the gateway (``reseau-poles gateway
serve``), sellers that subscribe through the registry's challenge.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import Request, Response  # module level: FastAPI resolves the annotations here

from support import ServerThread, free_port, percentile, wait_http

HERE = Path(__file__).resolve()
DOMAIN = "PLA:ALIMENTS"
FANOUT = {25: "QC-01", 100: "QC-02", 500: "QC-04"}
EMPTY_REGION = "QC-09"  # no seller: (a) measures the ACK path


def search(bap_id: str, city: str, bap_uri: str) -> bytes:
    """A search from ``bap_id``, whose ``bap_uri`` is the URL the registry holds for it (the
    gateway refuses any other)."""
    context = {
        "domain": DOMAIN,
        "location": {"city": {"code": city}, "country": {"code": "CAN"}},
        "action": "search",
        "version": "1.1.0",
        "bap_id": bap_id,
        "bap_uri": bap_uri,
        "transaction_id": str(uuid.uuid4()),
        "message_id": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "ttl": "PT30S",
    }
    message = {"intent": {"item": {"descriptor": {"name": "sirop d'érable"}}}}
    return json.dumps(
        {"context": context, "message": message}, separators=(",", ":"), ensure_ascii=False
    ).encode()


def keys_from(data: dict[str, str]) -> Any:
    from reseau_poles.protocol.keys import EncryptionKeyPair, SigningKeyPair, SubscriberKeys

    return SubscriberKeys(
        subscriber_id=data["subscriber_id"],
        key_id=data["key_id"],
        signing=SigningKeyPair.from_private(data["signing"]),
        encryption=EncryptionKeyPair.from_private(data["encryption"]),
        created=datetime.now(UTC),
    )


# --- sellers process ---------------------------------------------------------------------------


def run_sellers(count: int, out_file: str) -> None:
    """``count`` seller endpoints (one port each) plus a buyer, and a control port."""
    import httptools
    import uvloop

    from reseau_poles.protocol.keys import SubscriberKeys, open_challenge

    ack = b'{"message":{"ack":{"status":"ACK"}}}'
    arrivals: dict[str, list[float]] = {}
    waiters: dict[str, tuple[int, asyncio.Future[None]]] = {}

    class Endpoint(asyncio.Protocol):
        def __init__(self, keys: SubscriberKeys) -> None:
            self.keys = keys
            self.parser = httptools.HttpRequestParser(self)
            self.url = b""
            self.body = bytearray()

        def connection_made(self, transport: Any) -> None:
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                self.transport.close()

        def on_url(self, url: bytes) -> None:
            self.url += url

        def on_body(self, body: bytes) -> None:
            self.body += body

        def on_message_complete(self) -> None:
            at = time.monotonic()
            url, body = self.url, bytes(self.body)
            self.url, self.body = b"", bytearray()
            if url.endswith(b"/on_subscribe"):
                answer = open_challenge(self.keys.encryption, json.loads(body)["challenge"])
                content = json.dumps({"answer": answer}).encode()
            else:
                start = body.find(b'"message_id":"') + 14
                message_id = body[start : body.find(b'"', start)].decode()
                times = arrivals.setdefault(message_id, [])
                times.append(at)
                waiting = waiters.get(message_id)
                if waiting and len(times) >= waiting[0] and not waiting[1].done():
                    waiting[1].set_result(None)
                content = ack
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(content)).encode()
                + b"\r\n\r\n"
                + content
            )

    class Control(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.parser = httptools.HttpRequestParser(self)
            self.url = b""

        def data_received(self, data: bytes) -> None:
            self.parser.feed_data(data)

        def on_url(self, url: bytes) -> None:
            self.url += url

        def on_message_complete(self) -> None:
            _, message_id, wanted = self.url.decode().rsplit("/", 2)
            self.url = b""
            self.task = asyncio.ensure_future(self.answer(message_id, int(wanted)))

        async def answer(self, message_id: str, wanted: int) -> None:
            times = arrivals.get(message_id, [])
            if len(times) < wanted:
                future = asyncio.get_running_loop().create_future()
                waiters[message_id] = (wanted, future)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(future, 10)
                waiters.pop(message_id, None)
                times = arrivals.get(message_id, [])
            content = json.dumps({"count": len(times), "last": max(times, default=0)}).encode()
            arrivals.pop(message_id, None)
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Length: "
                + str(len(content)).encode()
                + b"\r\n\r\n"
                + content
            )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        lines = []
        for index in range(count + 1):
            name = "acheteur" if index == count else f"vendeur-{index:03d}"
            keys = SubscriberKeys.generate(f"{name}.bench.example", f"k{index}")
            server = await loop.create_server(lambda k=keys: Endpoint(k), "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            lines.append(
                {
                    "subscriber_id": keys.subscriber_id,
                    "key_id": keys.key_id,
                    "signing": keys.signing.private_key_b64,
                    "encryption": keys.encryption.private_key_b64,
                    "url": f"http://127.0.0.1:{port}/{name}",
                }
            )
        control = await loop.create_server(Control, "127.0.0.1", 0)
        document = {"control": control.sockets[0].getsockname()[1], "participants": lines}
        # Whole or not at all: the parent reads the file as soon as it exists.
        partial = Path(out_file + ".part")
        partial.write_text(json.dumps(document))
        partial.replace(out_file)
        await asyncio.Event().wait()

    uvloop.run(main())


# --- bare baseline -----------------------------------------------------------------------------


def run_bare(port: int, public_key: str) -> None:
    import uvicorn
    from fastapi import FastAPI

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

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


# --- load client -------------------------------------------------------------------------------


def run_load(url: str, keys_json: str, seconds: float, connections: int, count: int) -> None:
    """Pre-sign ``count`` unique searches, then post them for ``seconds`` (after a 1 s warm-up)
    over ``connections`` keep-alive connections; print the ACK rate as JSON."""
    import uvloop

    from reseau_poles.network.wire import Target, WireClient
    from reseau_poles.protocol.signing import Signer

    buyer = json.loads(keys_json)
    keys = keys_from(buyer)
    signer = Signer(keys.subscriber_id, keys.key_id, keys.signing, default_ttl=600)
    target = Target.parse(url)
    client = WireClient(max_idle_per_origin=connections + 1)
    requests = []
    for _ in range(count):
        body = search(keys.subscriber_id, EMPTY_REGION, buyer["url"])
        headers = {"Content-Type": "application/json", "Authorization": signer.sign(body)}
        requests.append(client.request_bytes(target, body, headers))
    requests.reverse()

    async def main() -> dict[str, Any]:
        counts = {"ok": 0, "other": 0, "measured_ok": 0}
        measuring = asyncio.Event()
        stop = asyncio.Event()

        async def worker() -> None:
            while requests and not stop.is_set():
                status, _ = await client.post(target, requests.pop())
                key = "ok" if status == 200 else "other"
                counts[key] += 1
                if key == "ok" and measuring.is_set():
                    counts["measured_ok"] += 1

        tasks = [asyncio.ensure_future(worker()) for _ in range(connections)]
        await asyncio.sleep(1.0)
        measuring.set()
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - started
        measured = counts["measured_ok"]
        stop.set()
        await asyncio.gather(*tasks)
        client.close()
        return {
            "rate": measured / elapsed,
            "answered": counts["ok"] + counts["other"],
            "errors": counts["other"],
            "exhausted": not requests,
        }

    print(json.dumps(uvloop.run(main())))


# --- orchestration -----------------------------------------------------------------------------


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_ns(pid: int) -> int:
    """CPU time (ns) used so far by the threads of process ``pid`` (their schedstat)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            total += int((task / "schedstat").read_text().split()[0])
    return total


def load(url: str, buyer: dict[str, str], seconds: float, rate_guess: int) -> dict[str, Any]:
    result = subprocess.run(
        [
            sys.executable,
            str(HERE),
            "load",
            "--url",
            url,
            "--keys",
            json.dumps(buyer),
            "--seconds",
            str(seconds),
            "--connections",
            "64",
            "--count",
            str(rate_guess),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(arguments: argparse.Namespace) -> None:
    from reseau_poles.network.registry_client import build_record, post_signed
    from reseau_poles.protocol.signing import Signer
    from reseau_poles.registry.app import create_app as registry_app
    from reseau_poles.registry.settings import RegistrySettings

    total = sum(FANOUT)
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        registry_port = free_port()
        registry = ServerThread(
            registry_app(
                RegistrySettings(
                    database_url=f"sqlite:///{tmp / 'registry.sqlite'}",
                    key_dir=tmp / "registry-keys",
                    subscriber_id="registre.bench.example",
                    snapshot_refresh_seconds=0.5,
                    port=registry_port,
                )
            ),
            registry_port,
        ).start()
        registry_url = f"http://127.0.0.1:{registry_port}"
        processes: list[subprocess.Popen[bytes]] = []
        try:
            sellers_file = tmp / "sellers.json"
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(HERE),
                        "sellers",
                        "--count",
                        str(total),
                        "--out",
                        str(sellers_file),
                    ]
                )
            )
            while not sellers_file.exists():
                time.sleep(0.05)
            document = json.loads(sellers_file.read_text())
            participants = document["participants"]
            control = f"http://127.0.0.1:{document['control']}"
            buyer = participants[-1]
            print(f"Inscription de {total} vendeurs et d'un acheteur au registre…", flush=True)
            started = time.perf_counter()
            regions = [region for size, region in FANOUT.items() for _ in range(size)]
            with httpx.Client(timeout=30) as http:
                for index, participant in enumerate(participants):
                    keys = keys_from(participant)
                    is_buyer = index == len(participants) - 1
                    record = build_record(
                        keys,
                        url=participant["url"],
                        type="BAP" if is_buyer else "BPP",
                        domains=[DOMAIN],
                        regions=["QC-03" if is_buyer else regions[index]],
                    )
                    signer = Signer(keys.subscriber_id, keys.key_id, keys.signing)
                    response = post_signed(http, f"{registry_url}/subscribe", record, signer)
                    response.raise_for_status()
            print(f"  fait en {time.perf_counter() - started:.1f} s", flush=True)

            gateway_port = free_port()
            gateway_env = env | {
                "RESEAU_POLES_REGISTRY_URL": registry_url,
                "RESEAU_POLES_REGISTRY_SUBSCRIBER_ID": "registre.bench.example",
                "RESEAU_POLES_SUBSCRIBER_ID": "passerelle.bench.example",
                "RESEAU_POLES_KEY_DIR": str(tmp / "gateway-keys"),
                "RESEAU_POLES_PUBLIC_URL": f"http://127.0.0.1:{gateway_port}",
                "RESEAU_POLES_RATE_LIMIT_PER_SECOND": "1000000",
                "RESEAU_POLES_RATE_LIMIT_BURST": "1000000",
                "RESEAU_POLES_LOG_LEVEL": arguments.log_level,
            }
            gateway = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "reseau_poles.cli",
                    "gateway",
                    "serve",
                    "--port",
                    str(gateway_port),
                ],
                env=gateway_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            processes.append(gateway)
            gateway_url = f"http://127.0.0.1:{gateway_port}"
            wait_http(f"{gateway_url}/health")
            bare_port = free_port()
            bare = subprocess.Popen(
                [
                    sys.executable,
                    str(HERE),
                    "bare",
                    "--port",
                    str(bare_port),
                    "--public-key",
                    keys_from(buyer).signing.public_key_b64,
                ]
            )
            processes.append(bare)
            wait_http(f"http://127.0.0.1:{bare_port}/docs")

            # (a) ACK rate
            print(
                f"(a) recherches signées ACKées par seconde (1 processus, {arguments.seconds:g} s "
                f"× {arguments.rounds} manches, 64 connexions, client dans un autre processus)",
                flush=True,
            )
            gateway_rates, bare_rates = [], []
            gateway_cpu, bare_cpu = [], []  # µs of CPU per answered request
            budget = int(arguments.seconds * 12_000) + 12_000
            for _ in range(arguments.rounds):
                before = cpu_ns(gateway.pid)
                g = load(f"{gateway_url}/search", buyer, arguments.seconds, budget)
                gateway_cpu.append((cpu_ns(gateway.pid) - before) / 1000 / g["answered"])
                before = cpu_ns(bare.pid)
                b = load(f"http://127.0.0.1:{bare_port}/search", buyer, arguments.seconds, budget)
                bare_cpu.append((cpu_ns(bare.pid) - before) / 1000 / b["answered"])
                gateway_rates.append(g["rate"])
                bare_rates.append(b["rate"])
                print(
                    f"    passerelle {g['rate']:8.0f}/s (erreurs {g['errors']}, "
                    f"CPU {gateway_cpu[-1]:5.0f} µs/ACK)   "
                    f"FastAPI nu {b['rate']:8.0f}/s (erreurs {b['errors']}, "
                    f"CPU {bare_cpu[-1]:5.0f} µs)",
                    flush=True,
                )
            bare.terminate()
            gateway_rate = statistics.median(gateway_rates)
            bare_rate = statistics.median(bare_rates)

            # (b) fan-out latency
            print(
                f"(b) délai d'une recherche jusqu'au dernier vendeur ({arguments.searches} "
                "recherches par taille, après 3 d'échauffement)",
                flush=True,
            )
            keys = keys_from(buyer)
            signer = Signer(keys.subscriber_id, keys.key_id, keys.signing)
            fanout: dict[int, tuple[float, float, int]] = {}
            fanout_cpu: dict[int, float] = {}  # ms of the gateway's CPU per search
            with httpx.Client(timeout=30) as http:
                for size, region in FANOUT.items():
                    latencies = []
                    missing = 0
                    before = cpu_ns(gateway.pid)
                    for attempt in range(arguments.searches + 3):
                        body = search(keys.subscriber_id, region, buyer["url"])
                        message_id = json.loads(body)["context"]["message_id"]
                        header = signer.sign(body)
                        sent = time.monotonic()
                        response = http.post(
                            f"{gateway_url}/search",
                            content=body,
                            headers={"Content-Type": "application/json", "Authorization": header},
                        )
                        assert response.status_code == 200, response.text
                        arrived = http.get(f"{control}/wait/{message_id}/{size}").json()
                        if attempt < 3:
                            continue
                        if arrived["count"] < size:
                            missing += 1
                        latencies.append((arrived["last"] - sent) * 1000)
                    fanout_cpu[size] = (
                        (cpu_ns(gateway.pid) - before) / 1e6 / (arguments.searches + 3)
                    )
                    p50 = statistics.median(latencies)
                    p95 = percentile(latencies, 0.95)
                    fanout[size] = (p50, p95, missing)
                    print(
                        f"    {size:4d} vendeurs : p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   "
                        f"CPU {fanout_cpu[size]:6.2f} ms par recherche"
                        + (f"   ({missing} incomplètes)" if missing else ""),
                        flush=True,
                    )
            rss = peak_rss(gateway.pid)
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
    print("Résumé (médianes)")
    print(f"  passerelle        {gateway_rate:8.0f} recherches ACKées/s")
    print(f"  FastAPI nu        {bare_rate:8.0f} vérifications/s")
    print(f"  ratio             {gateway_rate / bare_rate:8.2f}   (cible ≥ 0,8)")
    for size, (p50, p95, _missing) in fanout.items():
        print(
            f"  diffusion {size:4d}    p50 {p50:6.1f} ms   p95 {p95:6.1f} ms"
            + ("   (cible p95 < 500 ms)" if size == 500 else "")
        )
    print(f"  mémoire max (RSS) {rss / 1_048_576:8.1f} Mio")
    print(
        f"  CPU par ACK       {statistics.median(gateway_cpu):8.0f} µs   "
        f"(FastAPI nu {statistics.median(bare_cpu):.0f} µs par vérification)"
    )
    for size, milliseconds in fanout_cpu.items():
        print(f"  CPU diffusion {size:4d} {milliseconds:7.2f} ms par recherche")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--searches", type=int, default=20)
    parser.add_argument("--log-level", default="INFO")
    sellers = sub.add_parser("sellers")
    sellers.add_argument("--count", type=int, required=True)
    sellers.add_argument("--out", required=True)
    bare_parser = sub.add_parser("bare")
    bare_parser.add_argument("--port", type=int, required=True)
    bare_parser.add_argument("--public-key", required=True)
    load_parser = sub.add_parser("load")
    load_parser.add_argument("--url", required=True)
    load_parser.add_argument("--keys", required=True)
    load_parser.add_argument("--seconds", type=float, required=True)
    load_parser.add_argument("--connections", type=int, default=64)
    load_parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args()
    if args.command == "sellers":
        run_sellers(args.count, args.out)
    elif args.command == "bare":
        run_bare(args.port, args.public_key)
    elif args.command == "load":
        run_load(args.url, args.keys, args.seconds, args.connections, args.count)
    else:
        main(args)
