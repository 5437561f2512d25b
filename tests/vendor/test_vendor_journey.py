"""The vendor guide (``docs/vendors.md``) followed step by step, on real processes.

The demo network runs as ``make demo`` runs it (its own processes, a ``.demo`` folder); a vendor
works in ``essai-editeur/`` next to it, as the guide says, and runs the guide's own lines:
keys made with the CLI, our reference seller node standing in for the vendor's software (its
own process, configured from the guide's ``vendeur.toml`` and ``pole.toml``), a subscription
with ONDC's challenge scheme approved by the operator, ``reseau-poles conformance seller``
passing against it, and a search from the demo buyer node's client API that lists its items.

Every command run here is a line of the guide (the test fails when one is not): only the
ports differ, the guide's ``8700``/``8702``/``8800``/``9100`` becoming free ones.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from reseau_poles.demo.network import DemoNetwork
from tests.conftest import free_port
from tests.demo.test_demo_once import free_base_port

pytestmark = pytest.mark.slow  # one demo network start and a conformance run: about 30 s

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "vendors.md"
CLI = str(Path(sys.executable).with_name("reseau-poles"))
VENDOR = "pole-essai.editeur.example"
TESTER = "testeur.editeur.example"


def guide_text() -> str:
    return GUIDE.read_text("utf-8")


def guide_file(name: str) -> str:
    """The fenced block the guide gives for file ``name`` (after ``<!-- fichier : name -->``)."""
    found = re.search(
        rf"<!-- fichier : {re.escape(name)} -->\n```\w*\n(.*?)```", guide_text(), re.DOTALL
    )
    assert found, f"docs/vendors.md ne donne pas {name}"
    return found.group(1)


def guide_commands() -> list[str]:
    """Every line of the guide's ``sh`` blocks, comments after ``#`` removed."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", guide_text(), re.DOTALL):
        for line in block.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line:
                lines.append(line)
    return lines


class Vendor:
    """The vendor at its terminal, in ``essai-editeur/``: runs the guide's lines, with this
    run's ports in place of the guide's."""

    def __init__(self, folder: Path, net: DemoNetwork, vendor_port: int, tester_port: int):
        self.folder = folder
        self.ports = {
            "127.0.0.1:8700": f"127.0.0.1:{net.registry.port}",
            "127.0.0.1:8702": f"127.0.0.1:{net.buyer.port}",
            "127.0.0.1:8800": f"127.0.0.1:{vendor_port}",
            "port = 8800": f"port = {vendor_port}",
            "127.0.0.1:9100": f"127.0.0.1:{tester_port}",
        }
        # The guide's shell: none of the RESEAU_POLES_… settings of the test run.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("RESEAU_POLES_")}
        self.env.update(PYTHONUNBUFFERED="1", COLUMNS="200")
        self.background: list[subprocess.Popen[bytes]] = []

    def local(self, text: str) -> str:
        for guide, here in self.ports.items():
            text = text.replace(guide, here)
        return text

    def write(self, name: str) -> Path:
        path = self.folder / name
        path.write_text(self.local(guide_file(name)), "utf-8")
        return path

    def argv(self, command: str) -> list[str]:
        words = shlex.split(self.local(command))
        assert words[0] == "reseau-poles", command
        return [CLI, *words[1:]]

    def run(
        self, line: str, *, fill: tuple[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run a line of the guide; ``fill`` replaces one of its placeholders."""
        assert line in guide_commands(), f"pas dans docs/vendors.md : {line}"
        command = line.replace(*fill) if fill else line
        done = subprocess.run(
            self.argv(command),
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
        return done

    def start(self, line: str, log: str) -> subprocess.Popen[bytes]:
        """A guide line ending in ``&`` (``> log 2>&1`` when the guide redirects it)."""
        assert line.endswith("&"), line
        command = line.removesuffix("&").strip()
        command = command.removesuffix("> vendeur.log 2>&1").strip()
        assert line in guide_commands(), f"pas dans docs/vendors.md : {line}"
        with (self.folder / log).open("wb") as out:
            process = subprocess.Popen(
                self.argv(command),
                cwd=self.folder,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.background.append(process)
        return process

    def stop(self) -> None:
        for process in self.background:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.background:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def one_line(prefix: str) -> str:
    """The single command of the guide that starts with ``prefix``."""
    lines = [line for line in guide_commands() if line.startswith(prefix)]
    assert len(lines) == 1, (prefix, lines)
    return lines[0]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoNetwork]:
    """``make demo`` in ``work/``: the network's processes and its ``work/.demo`` folder."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "seller_node").symlink_to(REPO / "seller_node")  # ../seller_node/exemples/…
    with DemoNetwork(
        work / ".demo", base_port=free_base_port(1), seller_nodes=1, say=lambda _text: None
    ) as net:
        yield net


def test_a_vendor_follows_the_guide_from_keys_to_a_search_in_the_demo(demo, tmp_path) -> None:
    folder = tmp_path / "work" / "essai-editeur"  # mkdir -p essai-editeur && cd essai-editeur
    folder.mkdir()
    assert "mkdir -p essai-editeur && cd essai-editeur" in guide_commands()
    vendor = Vendor(folder, demo, free_port(), free_port())
    try:
        journey(vendor, demo)
    finally:
        vendor.stop()


def journey(vendor: Vendor, demo: DemoNetwork) -> None:
    folder = vendor.folder
    # The client generation step is the other test's command, to the letter.
    assert "openapi-python-client generate --path openapi/buyer.json" in guide_commands()

    # 2. Keys, with the CLI; the forms other stacks read.
    vendor.run(one_line("reseau-poles keys generate"))
    public = json.loads((folder / "cles" / "keys.json").read_text("utf-8"))
    assert public["subscriber_id"] == VENDOR and public["key_id"] == "cle-1"
    assert "signing_private_key" not in public
    vendor.run(one_line("reseau-poles keys export"))
    forms = json.loads((folder / "cles-formes.json").read_text("utf-8"))
    assert len(base64.b64decode(forms["signing_private_key"])) == 64
    assert forms["encryption_public_key"].startswith("MCowBQYDK2VuAyEA")  # X25519 SPKI DER
    assert (folder / "cles-formes.json").stat().st_mode & 0o077 == 0

    # 4. Sign and verify a body read as is; the digest is BLAKE2b-512 of those bytes.
    body = b'{"context":{"action":"search"},"message":{}}'
    assert "printf '" + body.decode() + "' > corps.json" in guide_commands()
    (folder / "corps.json").write_bytes(body)
    header = vendor.run(one_line("reseau-poles sign ")).stdout.strip()
    assert header.startswith(f'Signature keyId="{VENDOR}|cle-1|ed25519"')
    verify = one_line("reseau-poles verify ")
    assert "'Signature keyId=\"…\",…'" in verify
    checked = vendor.run(verify, fill=("'Signature keyId=\"…\",…'", shlex.quote(header)))
    assert checked.stdout.strip() == "valid"
    digest = base64.b64encode(hashlib.blake2b(body, digest_size=64).digest()).decode()
    assert "openssl dgst -blake2b512 -binary corps.json | base64 -w0; echo" in guide_commands()
    assert len(digest) == 88

    # 8 a. Our reference seller node in the vendor's place, from the guide's files. The
    # transcript (not in the guide) lets the test see the registry's challenge.
    config = vendor.write("vendeur.toml")
    config.write_text(config.read_text("utf-8") + 'transcript_path = "messages.jsonl"\n', "utf-8")
    vendor.write("pole.toml")
    vendor.write("participant.toml")
    vendor.run(one_line("reseau-poles seller migrate"))
    vendor.run(one_line("reseau-poles seller provider create"))
    imported = vendor.run(one_line("reseau-poles seller import"))
    assert "28 produit(s) créé(s)" in imported.stdout
    node = vendor.start(one_line("reseau-poles seller serve"), "vendeur.log")
    node_url = vendor.local("http://127.0.0.1:8800")
    wait_healthy(node_url, node, folder / "vendeur.log")
    waited = "until curl -sf http://127.0.0.1:8800/health > /dev/null; do sleep 0.5; done"
    assert waited in guide_commands()

    # 8 b. Subscribe with ONDC's challenge scheme, answered by the running node; approve.
    joined = vendor.run(one_line("reseau-poles registry subscribe"))
    assert "UNDER_SUBSCRIPTION" in joined.stdout
    approve = [line for line in guide_commands() if " approve " in line]
    assert len(approve) == 2
    approved = vendor.run(next(line for line in approve if VENDOR in line))
    assert f"{VENDOR} : SUBSCRIBED" in approved.stdout
    assert_challenge_was_ondc(folder, demo)
    records = httpx.post(f"{demo.registry.url}/lookup", json={"subscriber_id": VENDOR}).json()
    assert [(r["status"], r["signing_public_key"], r["url"]) for r in records] == [
        ("SUBSCRIBED", public["signing_public_key"], node_url)
    ]

    # 8 c. The conformance tester subscribes, waits for the operator, and passes.
    tester = vendor.start(one_line("reseau-poles conformance seller"), "conformance.log")
    wait_for_tester(demo)
    vendor.run(next(line for line in approve if TESTER in line))
    assert "wait $!" in guide_commands()
    code = tester.wait(120)
    output = (folder / "conformance.log").read_text("utf-8")
    assert code == 0, output
    assert "Conforme : toutes les vérifications ont réussi." in output
    report = json.loads((folder / "rapport.json").read_text("utf-8"))
    assert report["ok"] is True and report["target"] == VENDOR
    assert report["summary"] == {"pass": 14, "fail": 0, "skip": 0}
    assert all(check["outcome"] == "pass" for check in report["checks"]), report["checks"]

    # 8 d. A search from the demo buyer's client API lists the vendor's items.
    line = one_line("TX=$(curl -s -X POST http://127.0.0.1:8702/api/searches")
    query = json.loads(re.search(r"-d '(\{.*?\})'", line).group(1))
    assert "CLE=$(jq -r .buyer.api_key ../.demo/state.json)" in guide_commands()
    state = json.loads((folder / ".." / ".demo" / "state.json").read_text("utf-8"))
    offers, answer = search_until_listed(demo.buyer.url, state["buyer"]["api_key"], query)
    assert {"fromage-grains-1kg"} <= {o["item_id"] for o in offers}
    cheese = next(o for o in offers if o["item_id"] == "fromage-grains-1kg")
    assert cheese["provider_id"] == "pole-essai" and cheese["price"]["value"] == "18.75"
    assert cheese["conservation"] == "refrigere" and cheese["origin_region"] == "QC-03"
    answered = {a["bpp_id"] for a in answer["sellers"]["answered"]}
    assert answered == {VENDOR, demo.sellers[0].subscriber_id}  # next to the demo's pôles
    assert any(o["bpp_id"] != VENDOR for o in answer["offers"])


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text("utf-8", errors="replace")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"le nœud ne répond pas : {log.read_text('utf-8', errors='replace')}")


def wait_for_tester(demo: DemoNetwork) -> None:
    """The tester's subscription is at the registry, awaiting approval."""
    from reseau_poles.keystore import KeyFiles
    from reseau_poles.network.registry_client import AdminClient, RegistryRefusal, signer_for

    operator = signer_for(KeyFiles(demo.operator_keys_dir).read())
    deadline = time.monotonic() + 60
    with AdminClient(demo.registry.url, operator) as admin:
        while time.monotonic() < deadline:
            with contextlib.suppress(RegistryRefusal):
                if admin.subscriber(TESTER)["status"] == "UNDER_SUBSCRIPTION":
                    return
            time.sleep(0.2)
    raise AssertionError("le testeur ne s'est pas inscrit")


def assert_challenge_was_ondc(folder: Path, demo: DemoNetwork) -> None:
    """The challenge the node answered was in ONDC's scheme: it opens with AES-256-ECB under
    the raw X25519 secret of the exported DER key and the registry's published DER key."""
    entries = [
        json.loads(line)
        for line in (folder / "messages.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    challenges = [
        json.loads(e["body"])["challenge"]
        for e in entries
        if e["action"] == "on_subscribe" and e["direction"] == "in"
    ]
    assert challenges, "aucun défi reçu"
    well_known = httpx.get(f"{demo.registry.url}/.well-known/reseau-poles/registry.json").json()
    forms = json.loads((folder / "cles-formes.json").read_text("utf-8"))
    private = serialization.load_der_private_key(
        base64.b64decode(forms["encryption_private_key"]), password=None
    )
    registry_key = serialization.load_der_public_key(
        base64.b64decode(well_known["encr_public_key_der"])
    )
    assert isinstance(private, X25519PrivateKey) and isinstance(registry_key, X25519PublicKey)
    decryptor = Cipher(algorithms.AES(private.exchange(registry_key)), modes.ECB()).decryptor()
    padded = decryptor.update(base64.b64decode(challenges[-1])) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    plain = (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", plain), plain


def search_until_listed(buyer: str, api_key: str, query: dict[str, str]) -> tuple[list[dict], dict]:
    """The guide's two calls; again while the gateway has not yet seen the approval (its view
    of the registry follows within seconds)."""
    headers = {"X-API-Key": api_key}
    deadline = time.monotonic() + 20
    while True:
        started = httpx.post(f"{buyer}/api/searches", json=query, headers=headers, timeout=10)
        assert started.status_code == 202, started.text
        tx = started.json()["transaction_id"]
        answer = httpx.get(
            f"{buyer}/api/searches/{tx}", params={"wait_ms": 5000}, headers=headers, timeout=15
        ).json()
        offers = [o for o in answer["offers"] if o["bpp_id"] == VENDOR]
        if offers or time.monotonic() > deadline:
            assert offers, answer
            return offers, answer
        time.sleep(0.5)
