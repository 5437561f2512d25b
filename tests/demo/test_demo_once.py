"""``reseau-poles demo`` as a person runs it: real processes, real ports, a data folder.

The scripted scenario end to end (``--once``) with its transcript; then a second run on the
same folder that reuses everything, whose guided tour is pasted line by line, stopped by Ctrl-C
leaving nothing behind; a child that dies at start named with its log file; a busy port.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from reseau_poles.demo.network import DemoError, DemoNetwork
from reseau_poles.demo.scenario import INSTITUTION_REGION, delivers_cold, pick_poles
from reseau_poles.keystore import KeyFiles
from reseau_poles.protocol.signing import parse_header, verify_signature

SELLER_NODES = 3  # enough for a search answered by several nodes and a 3-pôle order


def _free(port: int) -> bool:
    """Nobody listens on the port (a closed server's TIME_WAIT connections do not count)."""
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _explicit_port_range() -> range:
    """Ports the kernel never hands out on its own, split between the xdist workers.

    Below the ephemeral range (``ip_local_port_range``, 32768 by default) a port is taken only
    by a server that asked for it by number: a neighbour test's ``bind(0)`` or outgoing
    connection cannot steal it between our probe and the demo's own check. Each worker draws
    from its own slice, so two demo tests running at once never pick the same range.
    """
    low = 32_768
    with contextlib.suppress(OSError, ValueError):
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    top = max(12_000, min(low, 32_768)) - 100
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    index = int(worker) if worker.isdigit() else 0
    width = (top - 10_000) // max(workers, 1)
    start = 10_000 + index % max(workers, 1) * width
    return range(start, start + width - 50, 50)


def free_base_port(sellers: int = SELLER_NODES) -> int:
    """A base port whose whole range (registry, gateway, buyer, sellers) is free now."""
    candidates = _explicit_port_range()
    for _ in range(200):
        base = random.choice(candidates)
        ports = [base, base + 1, base + 2, *(base + 10 + n for n in range(1, sellers + 1))]
        if all(_free(p) for p in ports):
            return base
    raise RuntimeError("aucune plage de ports libre")


def demo_command(
    data_dir: Path, base_port: int, *extra: str, seller_nodes: int = SELLER_NODES
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "reseau_poles.cli",
        "demo",
        "--data-dir",
        str(data_dir),
        "--base-port",
        str(base_port),
        "--seller-nodes",
        str(seller_nodes),
        *extra,
    ]


def ports_of(base: int, sellers: int = SELLER_NODES) -> list[int]:
    return [base, base + 1, base + 2, *(base + 10 + n for n in range(1, sellers + 1))]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("RESEAU_POLES_")}


@pytest.mark.slow  # two network starts: about 30 s of CPU, 20-30 s on an idle 2-core machine
def test_once_then_a_second_run_with_the_guided_tour(tmp_path):
    base = free_base_port()
    transcript = tmp_path / "messages.jsonl"
    run = subprocess.run(
        demo_command(tmp_path / "demo", base, "--once", "--transcript", str(transcript)),
        capture_output=True,
        text=True,
        timeout=150,
        env={**clean_env(), "COLUMNS": "200"},
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "Scénario réussi" in output
    assert "Catalogue importé" in output  # first run: the sample went in
    assert "Comptes du portail" in output and "/portail/" in output and "/gestion/" in output
    assert all(_free(p) for p in ports_of(base)), "un processus est resté en vie"

    entries = [json.loads(line) for line in transcript.read_text("utf-8").splitlines()]
    seen = Counter((e["direction"], e["action"]) for e in entries)
    for action in ("search", "select", "init", "confirm", "cancel"):
        assert seen["out", action] >= 1 and seen["in", action] >= 1, action
        assert seen["out", f"on_{action}"] >= 1 and seen["in", f"on_{action}"] >= 1, action
    assert seen["in", "on_status"] >= 3  # Packed, Out-for-delivery, Order-delivered
    # Every seller node answered the search: on_search from each of them at the buyer.
    answered = {e["peer"] for e in entries if e["action"] == "on_search" and e["direction"] == "in"}
    assert answered == {f"vendeur-{n}.demo.reseau-poles.example" for n in (1, 2, 3)}
    public_keys = {
        keys.subscriber_id: keys.signing.public_key_b64
        for folder in (tmp_path / "demo" / "keys").iterdir()
        for keys in [KeyFiles(folder).read()]
    }
    for entry in entries:
        assert entry["status"] == "ACK", entry
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        body = entry["body"].encode("utf-8")
        assert json.loads(body)["context"]["action"] == entry["action"]
        # Signed by the sender's registered key, over the exact bytes that crossed the wire.
        for name in ("authorization", "x-gateway-authorization"):
            if name in headers:
                parsed = parse_header(headers[name])
                verify_signature(body, parsed, public_keys[parsed.subscriber_id])
        assert parse_header(headers["authorization"]).subscriber_id.endswith(
            ".demo.reseau-poles.example"
        )
    # The gateway signed the search it relayed to each seller.
    relayed = [e for e in entries if e["node"].startswith("vendeur") and e["action"] == "search"]
    assert relayed and all(
        "x-gateway-authorization" in {k.lower() for k in e["headers"]} for e in relayed
    )

    # A second run, interactive this time, reuses keys, databases, catalogs and
    # subscriptions; its guided tour works line by line; Ctrl-C stops everything.
    state = json.loads((tmp_path / "demo" / "state.json").read_text("utf-8"))
    text = run_network_and_tour(tmp_path / "demo", base)
    assert "Catalogue importé" not in text and "pôles créés" not in text
    assert "inscrit au registre" not in text  # already subscribed and approved
    assert json.loads((tmp_path / "demo" / "state.json").read_text("utf-8")) == state


@pytest.mark.slow  # one network start: about 15 s
def test_once_with_a_single_seller_node(tmp_path):
    """The 25 pôles on one node: the three-pôle order then shares that node."""
    base = free_base_port(1)
    run = subprocess.run(
        demo_command(tmp_path / "demo", base, "--once", seller_nodes=1),
        capture_output=True,
        text=True,
        timeout=150,
        env={**clean_env(), "COLUMNS": "200"},
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "Scénario réussi" in output
    assert "(1 nœud(s) vendeur(s))" in output  # step 3: three pôles of the one node
    assert all(_free(p) for p in ports_of(base, 1)), "un processus est resté en vie"


@pytest.mark.parametrize("nodes", range(1, 26))
def test_the_scenario_finds_three_poles_for_every_split(tmp_path, nodes):
    """``--seller-nodes`` accepts 1 to 25: each split has three pôles delivering
    Capitale-Nationale cold, on as many different nodes as it can (three at most)."""
    net = DemoNetwork(tmp_path / "demo", seller_nodes=nodes, say=lambda _: None)
    picked = pick_poles(net.sellers)
    assert len(picked) == 3
    assert len({pole.id for _, pole in picked}) == 3
    assert all(delivers_cold(pole, INSTITUTION_REGION) for _, pole in picked)
    assert all(pole in seller.poles for seller, pole in picked)
    serving = [s for s in net.sellers if any(delivers_cold(p, INSTITUTION_REGION) for p in s.poles)]
    assert len({seller.name for seller, _ in picked}) == min(3, len(serving))


def run_line(line: str, folder: Path, **ids: str) -> tuple[int, object]:
    """One command of the guided tour, as a person pastes it in a shell (in ``folder``)."""
    for name, value in ids.items():
        line = line.replace(name, value)
    env = {**clean_env(), "COLUMNS": "200"}
    env["PATH"] = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    if line.startswith("curl"):
        line += " -w '\\n%{http_code}'"
    done = subprocess.run(
        ["bash", "-c", line], capture_output=True, text=True, timeout=60, env=env, cwd=folder
    )
    if not line.startswith("curl"):
        return done.returncode, done.stdout + done.stderr
    body, _, status = done.stdout.rpartition("\n")
    return int(status), json.loads(body) if body.strip() else None


def walk_the_tour(text: str, folder: Path) -> None:
    """Every command line of the printed tour, in order, with the ids each answer gives, run
    in ``folder`` (where ``-o produits.csv`` writes)."""
    commands = [line.strip() for line in text.splitlines() if line.startswith("  ")]
    commands = [c for c in commands if c.startswith(("curl ", "reseau-poles "))]
    assert len(commands) >= 12, text
    ids: dict[str, str] = {}
    for line in commands:
        status, answer = run_line(line, folder, **ids)
        assert status in (0, 200, 201, 202), (line, status, answer)
        if "purchase_order_number=" in line:
            assert answer["total"] == 1, answer  # the cart's one order
        elif "/api/carts " in line and "-X POST" in line:
            ids["PANIER"] = answer["id"]
            assert answer["delivery_window"] and len(answer["lines"]) == 1, answer
        elif "/preview?" in line:
            assert answer["complete"] and answer["quoted"] == 1, answer
            assert answer["poles"][0]["taxes"] and answer["poles"][0]["total"], answer
        elif "/checkout?" in line or "/retry?" in line:
            assert answer["checkout"]["state"] == "complete", answer
        elif "/api/searches " in line and "-X POST" in line:
            ids["TRANSACTION_ID"] = answer["transaction_id"]
        elif "/more " in line:  # the rest of one pôle, on demand (nothing may be missing)
            assert isinstance(answer["pages"], list) and len(answer["poles"]) >= 25, answer
        elif "/api/searches/" in line and "provider=" in line:
            assert answer["complete"] and answer["counts"]["providers"] >= 1, answer["poles"]
            assert not answer["counts"]["truncated"], answer["poles"]
        elif "/api/searches/" in line:
            assert answer["complete"] and answer["counts"]["providers"] == 25, answer["sellers"]
            assert answer["counts"]["matched"] >= answer["counts"]["received"] > 0, answer
        elif "/api/orders?" in line:
            ids["ID"] = answer["id"]
            assert answer["pending"] is None and answer["quote"], answer
        elif "/confirm?" in line:
            ids["NUMERO_DU_POLE"] = answer["seller_order_id"]
            assert answer["status"] == "ACTIVE", answer
        elif line.startswith("curl -s http") and "/api/orders/" in line:
            for _ in range(50):  # the last on_status may still be on its way
                if answer["fulfillment"]["state"] == "Order-delivered":
                    break
                time.sleep(0.2)
                status, answer = run_line(line, folder, **ids)
            assert answer["status"] == "COMPLETE", answer
        elif "/products/import" in line:
            assert answer["report"]["written"] and answer["report"]["updated"] >= 1, answer
        elif line.startswith("reseau-poles"):
            assert "vendeur-1" in str(answer) or "SUBSCRIBED" in str(answer), answer
    assert {"TRANSACTION_ID", "ID", "NUMERO_DU_POLE", "PANIER"} <= set(ids)


def sign_in_to_the_portals(text: str) -> None:
    """The printed portal addresses and accounts open the pages: the institution's buyer on
    the buyer node, a pôle's coordinator on its seller node."""
    password = re.search(r"Mot de passe de ces comptes de démonstration : (\S+)", text)
    buyer = re.search(r"Établissements : (http://\S+/portail/)", text)
    seller = re.search(r"(http://\S+/gestion/) : (gestion@\S+?\.example)", text)
    assert password and buyer and seller, text
    for home, email in ((buyer[1], "acheteur@css-demo.example"), (seller[1], seller[2])):
        with httpx.Client(timeout=10) as http:
            page = http.get(home + "connexion")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert page.status_code == 200 and token, page.text
            answer = http.post(
                home + "connexion",
                data={"email": email, "password": password[1], "csrf_token": token[1]},
            )
            assert answer.status_code == 303, answer.text
            assert http.get(home).status_code == 200


def run_network_and_tour(data_dir: Path, base: int) -> str:
    """``reseau-poles demo`` until its tour is printed, the tour walked, then Ctrl-C: exit 0,
    every port free again. Returns what it printed before the tour."""
    process = subprocess.Popen(
        demo_command(data_dir, base),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**clean_env(), "COLUMNS": "200"},
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "Ctrl-C arrête tout" in line:
                break
        text = "".join(lines)
        assert "Réseau prêt" in text, text
        assert not any(_free(p) for p in ports_of(base))  # everyone listens
        walk_the_tour(text, data_dir.parent)
        sign_in_to_the_portals(text)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, rest
    assert "Tout est arrêté" in rest
    assert all(_free(p) for p in ports_of(base)), "un processus est resté en vie"
    return text


def test_a_child_dying_at_start_is_named_with_its_log(tmp_path):
    net = DemoNetwork(
        tmp_path / "demo", base_port=free_base_port(1), seller_nodes=1, say=lambda _: None
    )
    net.prepare()
    broken = net.sellers[0]
    broken.config_file.write_text("port = 'pas un port'\n", "utf-8")
    with pytest.raises(DemoError) as refused:
        try:
            net.start()
        finally:
            net.stop()
    message = str(refused.value)
    assert "vendeur-1" in message
    assert str(broken.log_file) in message
    assert all(p.process is None or p.process.poll() is not None for p in net.participants)
    assert all(_free(p.port) for p in net.participants)


def test_busy_port_is_refused_with_what_to_do(tmp_path):
    base = free_base_port()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", base + 2))
        squatter.listen()
        net = DemoNetwork(tmp_path / "demo", base_port=base, seller_nodes=1, say=lambda _: None)
        with pytest.raises(DemoError, match="--base-port"):
            net.start()
    assert all(p.process is None for p in net.participants)
