"""``reseau-poles demo``: a whole network on one machine, each role a real process.

One registry (policy ``approval``), one gateway, one buyer node and a few seller nodes, each
started with ``python -m reseau_poles.cli <role> serve --config <file>.toml``, on SQLite, in one
data folder (``./.demo`` by default)::

    .demo/
      config/     one TOML file per process (rewritten at each start: ports may change)
      keys/       the keys of every participant and of the operator (0600), made at first run
      db/         one SQLite database per process
      logs/       what each process prints
      transcripts/ every protocol message each node sent and received (JSONL)
      state.json  what the first run made: API keys of the buyer organisation and of the pôles,
                  the portal's demonstration accounts and their password (demo.accounts)

Every participant joins through the real flow: it signs its subscription with the key it
registers, the registry posts a sealed challenge to its ``/on_subscribe``, the running node
answers, and the operator (the demo, with the operator key) approves it through the signed
admin API. At first run each pôle is created in its seller node's database (the seller's
repository, as ``reseau-poles seller provider create`` does) with a management API key, and its
products are posted as CSV to the node's management API once it runs. A second run finds the
keys, databases, catalogs and subscriptions in place and only starts the processes.

Why 5 seller nodes of 5 pôles each by default: it is how the network is meant to grow (a
software vendor runs one node for all its client pôles), it shows a search answered by several
nodes at once, and the 8 processes (about 100 MB each, 800 MB in all) start in about 5 to 10 s
on 2 cores; 25 nodes of one pôle would mean 28 processes (about 2.8 GB) and a slower start for
nothing more to see. ``--seller-nodes`` picks another split (1 to 25).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from reseau_poles.files import private_folder
from reseau_poles.keystore import KeyFiles
from reseau_poles.protocol.keys import SubscriberKeys

from .sample import DEFAULT_SEED, SamplePole, assign_to_nodes, sample_poles

DEFAULT_DATA_DIR = Path(".demo")
DEFAULT_BASE_PORT = 8700
DEFAULT_SELLER_NODES = 5
DOMAIN = "PLA:ALIMENTS"
SUFFIX = "demo.reseau-poles.example"
OPERATOR_ID = f"operateur.{SUFFIX}"
OPERATOR_KEY_ID = "op-1"
BUYER_ORGANISATION = "css-demo"
BUYER_ORGANISATION_NAME = "Centre de services scolaire Démo (fictif)"


class DemoError(Exception):
    """Something the person running the demo must act on; the message says what (French)."""


@dataclass
class Participant:
    """One process of the demo network."""

    name: str  # short, French: registre, passerelle, acheteur, vendeur-1…
    role: str  # the CLI sub-command: registry, gateway, buyer, seller
    subscriber_id: str
    port: int
    root: Path
    beckn_type: str | None = None  # BG, BAP, BPP; None for the registry
    regions: list[str] = field(default_factory=lambda: ["*"])
    poles: list[SamplePole] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.root / "config" / f"{self.name}.toml"

    @property
    def key_dir(self) -> Path:
        return self.root / "keys" / self.name

    @property
    def database(self) -> Path:
        return self.root / "db" / f"{self.name}.sqlite"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    @property
    def log_file(self) -> Path:
        return self.root / "logs" / f"{self.name}.log"

    def transcript_file(self, folder: Path) -> Path:
        return folder / f"{self.name}.jsonl"


def _toml(values: dict[str, Any]) -> str:
    lines = [
        "# Écrit par « reseau-poles demo » à chaque démarrage : vos changements seront perdus."
    ]
    tables = []
    for key, value in values.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    for key, rows in tables:
        for row in rows:
            lines.append(f"\n[[{key}]]")
            lines.extend(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in row.items())
    return "\n".join(lines) + "\n"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """Linux: the child gets SIGTERM if the demo dies without cleaning up (kill -9)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class DemoNetwork:
    """The demo network: ``prepare()`` (first run: keys, databases, catalog), ``start()``
    (processes, subscriptions), ``stop()``; or ``with DemoNetwork(...) as net:``."""

    def __init__(
        self,
        data_dir: Path = DEFAULT_DATA_DIR,
        *,
        base_port: int = DEFAULT_BASE_PORT,
        seller_nodes: int = DEFAULT_SELLER_NODES,
        seed: int = DEFAULT_SEED,
        transcript_dir: Path | None = None,
        start_timeout: float = 60.0,
        say: Callable[[str], None] = print,
        buyer_settings: Mapping[str, Any] | None = None,
    ) -> None:
        """``buyer_settings``: more keys of the buyer node's configuration (a benchmark's
        rate limits)."""
        self.root = data_dir.resolve()
        self.base_port = base_port
        self.seed = seed
        self.transcript_dir = transcript_dir.resolve() if transcript_dir else None
        self.start_timeout = start_timeout
        self.say = say
        self.buyer_settings = dict(buyer_settings or {})
        self.state: dict[str, Any] = {}
        poles = sample_poles(seed)
        groups = assign_to_nodes(poles, seller_nodes)
        self.registry = Participant(
            "registre", "registry", f"registre.{SUFFIX}", base_port, self.root
        )
        self.gateway = Participant(
            "passerelle", "gateway", f"passerelle.{SUFFIX}", base_port + 1, self.root, "BG"
        )
        self.buyer = Participant(
            "acheteur", "buyer", f"acheteur.{SUFFIX}", base_port + 2, self.root, "BAP"
        )
        self.sellers = [
            Participant(
                f"vendeur-{n}",
                "seller",
                f"vendeur-{n}.{SUFFIX}",
                base_port + 10 + n,
                self.root,
                "BPP",
                regions=sorted({r for pole in group for r in pole.provider.served_regions}),
                poles=group,
            )
            for n, group in enumerate(groups, start=1)
        ]

    # --- who is who -------------------------------------------------------------------------

    @property
    def participants(self) -> list[Participant]:
        return [self.registry, self.gateway, self.buyer, *self.sellers]

    @property
    def members(self) -> list[Participant]:
        """Those that subscribe to the registry."""
        return [self.gateway, self.buyer, *self.sellers]

    @property
    def operator_keys_dir(self) -> Path:
        return self.root / "keys" / "operateur"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def buyer_api_key(self) -> str:
        return str(self.state["buyer"]["api_key"])

    def pole_api_key(self, pole_id: str) -> str:
        return str(self.state["poles"][pole_id]["api_key"])

    # --- first run: keys, configuration, databases ------------------------------------------

    def prepare(self) -> None:
        """Make what is missing (keys, databases, sample catalog, API keys) and write each
        process's configuration. Idempotent: a second call only rewrites the configuration."""
        for folder in ("config", "keys", "db", "logs"):
            private_folder(self.root / folder)  # 0700: keys, databases, transcripts
        self._read_state()
        expected = {"seed": self.seed, "seller_nodes": len(self.sellers)}
        made = {k: self.state.get(k) for k in expected}
        if self.state and made != expected:
            raise DemoError(
                f"{self.root} a été créé avec {made['seller_nodes']} nœud(s) vendeur(s) "
                f"(graine {made['seed']}) : relancez avec --seller-nodes {made['seller_nodes']}, "
                "ou choisissez un autre dossier (--data-dir), ou supprimez celui-ci."
            )
        self.state.update(expected)
        operator = KeyFiles(self.operator_keys_dir)
        if not operator.exists():
            operator.write(SubscriberKeys.generate(OPERATOR_ID, OPERATOR_KEY_ID))
        for participant in self.participants:
            KeyFiles(participant.key_dir).load_or_generate(participant.subscriber_id)
        self._write_configs()
        if "buyer" not in self.state:
            self.say("Première exécution : base du nœud acheteur et organisation de démo…")
            self.state["buyer"] = _prepare_buyer(self.buyer)
            self._write_state()
        poles_state = self.state.setdefault("poles", {})
        for seller in self.sellers:
            if all(p.id in poles_state for p in seller.poles):
                continue
            started = time.monotonic()
            keys = _prepare_seller(seller)
            poles_state.update({pole_id: {"api_key": key} for pole_id, key in keys.items()})
            self._write_state()
            self.say(
                f"{len(seller.poles)} pôles créés dans {seller.name} "
                f"({time.monotonic() - started:.1f} s)"
            )
        if "accounts" not in self.state:  # also for a demo folder made before the portal
            from .accounts import prepare_accounts

            self.say("Comptes du portail : un établissement, un compte par pôle…")
            self.state["accounts"] = prepare_accounts(self, BUYER_ORGANISATION)
            self._write_state()

    def _read_state(self) -> None:
        if self.state_file.exists():
            try:
                self.state = json.loads(self.state_file.read_text("utf-8"))
            except ValueError as exc:
                raise DemoError(
                    f"{self.state_file} est illisible ({exc}) : supprimez le dossier {self.root}."
                ) from None

    def _write_state(self) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self.state, handle, ensure_ascii=False, indent=2)
        os.replace(tmp, self.state_file)

    def _write_configs(self) -> None:
        registry_keys = KeyFiles(self.registry.key_dir).read()
        operator = KeyFiles(self.operator_keys_dir).read()
        registry: dict[str, Any] = {
            "database_url": self.registry.database_url,
            "policy": "approval",
            "subscriber_id": self.registry.subscriber_id,
            "key_dir": str(self.registry.key_dir),
            "public_url": self.registry.url,
            "host": "127.0.0.1",
            "port": self.registry.port,
            # The participants listen on this machine's loopback: the challenge may go there.
            "private_network": True,
            "operators": [
                {
                    "operator_id": operator.subscriber_id,
                    "key_id": operator.key_id,
                    "signing_public_key": operator.signing.public_key_b64,
                }
            ],
        }
        self.registry.config_file.write_text(_toml(registry), "utf-8")
        common = {
            "registry_url": self.registry.url,
            "registry_subscriber_id": self.registry.subscriber_id,
            "registry_public_key": registry_keys.signing.public_key_b64,
            "host": "127.0.0.1",
            # Every participant listens on this machine's loopback: protocol calls may go there.
            "private_network": True,
        }
        gateway = {
            **common,
            "subscriber_id": self.gateway.subscriber_id,
            "key_dir": str(self.gateway.key_dir),
            "public_url": self.gateway.url,
            "port": self.gateway.port,
            "domains": [DOMAIN],
            "log_format": "kv",
        }
        if self.transcript_dir is not None:
            gateway["transcript_path"] = str(self.gateway.transcript_file(self.transcript_dir))
        self.gateway.config_file.write_text(_toml(gateway), "utf-8")
        for node in (self.buyer, *self.sellers):
            values = {
                **common,
                "database_url": node.database_url,
                "subscriber_id": node.subscriber_id,
                "key_dir": str(node.key_dir),
                "public_url": node.url,
                "port": node.port,
                # Everything runs on this machine: webhooks to a local receiver, in http.
                "webhook_allow_private_networks": True,
                "webhook_allow_http": True,
            }
            if node is self.buyer:
                values["use_gateway"] = True
                values.update(self.buyer_settings)
            else:
                values["regions"] = node.regions  # what ``seller subscribe`` declares
            if self.transcript_dir is not None:
                values["transcript_path"] = str(node.transcript_file(self.transcript_dir))
            node.config_file.write_text(_toml(values), "utf-8")

    # --- processes ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start every process (registry first), wait until each answers, subscribe them."""
        busy = [p for p in self.participants if not _port_free(p.port)]
        if busy:
            ports = ", ".join(f"{p.port} ({p.name})" for p in busy)
            raise DemoError(
                f"port(s) déjà pris : {ports}. Une démo tourne peut-être déjà ; sinon choisissez "
                f"d'autres ports avec --base-port (ex. --base-port {self.base_port + 100})."
            )
        if self.transcript_dir is not None:
            private_folder(self.transcript_dir)
        # All at once: the nodes know the registry's key from their configuration and need
        # the registry only when they subscribe, after every process answers.
        for participant in self.participants:
            self._spawn(participant)
        self._wait_healthy(self.participants)
        self.import_catalogs()
        self.subscribe_all()

    def _spawn(self, participant: Participant) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RESEAU_POLES_")}
        env["PYTHONUNBUFFERED"] = "1"
        command = [
            sys.executable,
            "-m",
            "reseau_poles.cli",
            participant.role,
            "serve",
            "--config",
            str(participant.config_file),
        ]
        with participant.log_file.open("ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(command)}\n".encode())
            log.flush()
            participant.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.root,
                # Own process group: Ctrl-C reaches the demo only, which then stops each
                # child in order; PDEATHSIG covers a demo killed without a chance to clean up.
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )

    def _wait_healthy(self, participants: Sequence[Participant]) -> None:
        deadline = time.monotonic() + self.start_timeout
        waiting = list(participants)
        with httpx.Client(timeout=1.0) as http:
            while waiting:
                for participant in list(waiting):
                    self._check_alive(participant)
                    with contextlib.suppress(httpx.HTTPError):
                        if http.get(f"{participant.url}/health").status_code == 200:
                            waiting.remove(participant)
                if waiting and time.monotonic() > deadline:
                    names = ", ".join(p.name for p in waiting)
                    logs = ", ".join(str(p.log_file) for p in waiting)
                    raise DemoError(
                        f"{names} ne répond pas après {self.start_timeout:.0f} s : voir {logs}"
                    )
                if waiting:
                    time.sleep(0.1)

    def _check_alive(self, participant: Participant) -> None:
        process = participant.process
        if process is None or process.poll() is None:
            return
        raise DemoError(
            f"{participant.name} ({participant.role}) s'est arrêté (code {process.returncode}). "
            f"Son journal : {participant.log_file}\n{_tail(participant.log_file)}"
        )

    def check_children(self) -> None:
        """Raise :class:`DemoError` naming the log file of a child that died."""
        for participant in self.participants:
            self._check_alive(participant)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to every child (sellers first, registry last), then SIGKILL to any left."""
        running = [p for p in reversed(self.participants) if p.process and p.process.poll() is None]
        for participant in running:
            assert participant.process is not None
            with contextlib.suppress(ProcessLookupError):
                participant.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for participant in running:
            assert participant.process is not None
            try:
                participant.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    participant.process.kill()
                participant.process.wait()

    def __enter__(self) -> DemoNetwork:
        try:
            self.prepare()
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def import_catalogs(self) -> None:
        """First run: each pôle's products go in as its software would send them, a CSV file
        posted to its node's management API (all rows or nothing, each row validated); the
        seller nodes import at the same time."""
        from concurrent.futures import ThreadPoolExecutor

        todo = [s for s in self.sellers if any(self._to_import(s))]
        if not todo:
            return
        with ThreadPoolExecutor(len(todo)) as pool:
            for seller, count, seconds in pool.map(self._import_catalog, todo):
                self.say(
                    f"Catalogue importé dans {seller.name} (CSV, API de gestion) : "
                    f"{count} produits ({seconds:.1f} s)"
                )
        self._write_state()

    def _to_import(self, seller: Participant) -> list[SamplePole]:
        return [p for p in seller.poles if not self.state["poles"][p.id].get("imported")]

    def _import_catalog(self, seller: Participant) -> tuple[Participant, int, float]:
        from reseau_poles.seller.services.csv_export import items_to_csv

        started = time.monotonic()
        count = 0
        with httpx.Client(timeout=60) as http:
            for pole in self._to_import(seller):
                response = http.post(
                    f"{seller.url}/api/providers/{pole.id}/products/import",
                    content=items_to_csv(pole.items).encode("utf-8"),
                    headers={
                        "Content-Type": "text/csv; charset=utf-8",
                        "X-API-Key": self.pole_api_key(pole.id),
                    },
                )
                if response.status_code != 200:
                    raise DemoError(
                        f"import du catalogue de {pole.id} refusé par {seller.name} "
                        f"(HTTP {response.status_code}) : {response.text[:500]}"
                    )
                self.state["poles"][pole.id]["imported"] = len(pole.items)
                count += len(pole.items)
        return seller, count, time.monotonic() - started

    # --- joining the registry -----------------------------------------------------------------

    def subscribe_all(self) -> None:
        """Each member subscribes (signed, challenge answered by the running node): the nodes
        as ``reseau-poles seller|buyer subscribe`` does, from their own configuration file, the
        gateway as its self-registration does; the operator approves. Already subscribed at the
        same URL: nothing to do."""
        from reseau_poles.network.registry_client import AdminClient, RegistryRefusal, signer_for

        operator = signer_for(KeyFiles(self.operator_keys_dir).read())
        with AdminClient(self.registry.url, operator) as admin:
            for member in self.members:
                try:
                    known = admin.subscriber(member.subscriber_id)
                except RegistryRefusal as exc:
                    if exc.status != 404:
                        raise DemoError(f"registre : {exc}") from None
                    known = None
                if (
                    known
                    and known["status"] == "SUBSCRIBED"
                    and known["url"] == member.url
                    and sorted(known["regions"]) == sorted(member.regions)
                ):
                    continue
                try:
                    status = self._subscribe(member)
                    if status == "UNDER_SUBSCRIPTION":
                        status = admin.change(
                            "approve", member.subscriber_id, "réseau de démonstration"
                        )["status"]
                except RegistryRefusal as exc:
                    raise DemoError(
                        f"inscription de {member.name} refusée : {exc} (journaux : "
                        f"{self.registry.log_file}, {member.log_file})"
                    ) from None
                self.say(f"  {member.name} inscrit au registre ({member.beckn_type}) : {status}")

    def _subscribe(self, member: Participant) -> str | None:
        """The member's own subscription; its status, or :class:`DemoError` naming the logs.
        Raises ``RegistryRefusal`` for the gateway."""
        if member is self.gateway:
            from reseau_poles.network.registry_client import subscribe

            keys = KeyFiles(member.key_dir).read()
            answer = subscribe(
                self.registry.url,
                keys,
                url=member.url,
                type="BG",
                domains=[DOMAIN],
                regions=member.regions,
            )
            return answer.get("status")
        import tomllib

        from reseau_poles.buyer.settings import BuyerSettings
        from reseau_poles.participant.subscription import subscribe_node
        from reseau_poles.seller.settings import SellerSettings

        # The node's own file, given as values so that RESEAU_POLES_… variables of the shell
        # running the demo do not leak in (the children's environment is cleaned likewise).
        values = tomllib.loads(member.config_file.read_text("utf-8"))
        settings = (BuyerSettings if member is self.buyer else SellerSettings)(**values)
        outcome = subscribe_node(
            settings,
            member.beckn_type or "",
            serve_command=f"reseau-poles {member.role} serve --config {member.config_file}",
        )
        if not outcome.ok:
            raise DemoError(
                f"inscription de {member.name} refusée : {outcome.message} {outcome.advice} "
                f"(journaux : {self.registry.log_file}, {member.log_file})"
            )
        return outcome.status

    # --- what to show -------------------------------------------------------------------------

    def describe(self) -> list[tuple[str, str, str, str]]:
        """(name, what, url, subscriber id) of each process."""
        what = {
            "registry": "registre (politique approval)",
            "gateway": "passerelle (BG)",
            "buyer": "nœud acheteur (BAP)",
        }
        rows = []
        for p in self.participants:
            label = what.get(p.role) or "nœud vendeur (BPP) : " + ", ".join(x.id for x in p.poles)
            rows.append((p.name, label, p.url, p.subscriber_id))
        return rows


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line for line in text[-lines:])


def _prepare_buyer(buyer: Participant) -> dict[str, str]:
    """Buyer database migrated, the demo organisation and its API key."""
    from reseau_poles.buyer.app import migrate
    from reseau_poles.buyer.repositories import organisations as repo
    from reseau_poles.storage import make_engine, make_session_factory, write_session

    engine = make_engine(buyer.database_url)
    try:
        migrate(engine)
        with write_session(make_session_factory(engine)) as session:
            if repo.get_organisation(session, BUYER_ORGANISATION) is None:
                repo.add_organisation(session, BUYER_ORGANISATION, BUYER_ORGANISATION_NAME)
            key = repo.create_api_key(session, BUYER_ORGANISATION, "démo")
    finally:
        engine.dispose()
    return {"organisation": BUYER_ORGANISATION, "api_key": key}


def _prepare_seller(seller: Participant) -> dict[str, str]:
    """Seller database migrated; each pôle, its places and fulfilment options written through
    the seller's repository, and one management API key per pôle (what ``reseau-poles seller
    provider create`` and ``key create`` do). The products come later, through the API."""
    from reseau_poles.seller.app import migrate
    from reseau_poles.seller.repositories import api_keys as key_repo
    from reseau_poles.storage import make_engine, make_session_factory, write_session

    engine = make_engine(seller.database_url)
    keys: dict[str, str] = {}
    try:
        migrate(engine)
        factory = make_session_factory(engine)
        for pole in seller.poles:
            with write_session(factory) as session:
                _load_pole(session, pole)
                keys[pole.id] = key_repo.create_api_key(session, pole.id, "démo")
    finally:
        engine.dispose()
    return keys


def _load_pole(session: Any, pole: SamplePole) -> None:
    from sqlalchemy import select

    from reseau_poles.seller.repositories import places as place_repo
    from reseau_poles.seller.repositories import providers as provider_repo
    from reseau_poles.seller.tables import fulfillment_options, locations

    provider_repo.upsert_provider(session, pole.provider)
    have_locations = set(
        session.scalars(select(locations.c.id).where(locations.c.provider_id == pole.id))
    )
    for location in pole.locations:
        if location.id not in have_locations:
            place_repo.add_location(session, pole.id, location)
    have_options = set(
        session.scalars(
            select(fulfillment_options.c.id).where(fulfillment_options.c.provider_id == pole.id)
        )
    )
    for option in pole.fulfillment_options:
        if option.id not in have_options:
            place_repo.add_fulfillment_option(session, pole.id, option)


@contextlib.contextmanager
def terminating_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise KeyboardInterrupt like Ctrl-C, so one ``finally`` cleans up
    (SIGINT too, even when started in the background of a script, where it is ignored)."""

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = {
        sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
