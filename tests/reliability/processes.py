"""Real processes for the fault tests: each role started with the ``reseau-poles`` command,
configured by environment variables, killed with a real signal and started again on the same
port, database and keys."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from reseau_poles.network.registry_client import build_record, encode, signer_for
from reseau_poles.protocol.keys import SubscriberKeys
from tests.conftest import free_port

CLI = str(Path(sys.executable).with_name("reseau-poles"))


def _clean_environment() -> dict[str, str]:
    """The parent's environment without its own RESEAU_POLES_* settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("RESEAU_POLES_")}


@dataclass
class Process:
    """One ``reseau-poles <role> serve`` process."""

    name: str
    role: str
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Process:
        env = {
            **_clean_environment(),
            **self.env,
            "RESEAU_POLES_HOST": "127.0.0.1",
            "RESEAU_POLES_PORT": str(self.port),
            # Every process listens on loopback: a network declared private.
            "RESEAU_POLES_PRIVATE_NETWORK": "true",
        }
        self.starts += 1
        log = (self.log_dir / f"{self.name}-{self.starts}.log").open("wb")
        self.popen = subprocess.Popen(
            [CLI, self.role, "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} s'est arrêté au démarrage :\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code < 500:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} n'a pas démarré :\n{self.log()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(sig)
        try:
            self.popen.wait(15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def log(self) -> str:
        path = self.log_dir / f"{self.name}-{self.starts}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def registry_process(tmp: Path, subscriber_id: str, **env: str) -> Process:
    return Process(
        "registre",
        "registry",
        {
            "RESEAU_POLES_DATABASE_URL": f"sqlite:///{tmp / 'registry.sqlite'}",
            "RESEAU_POLES_KEY_DIR": str(tmp / "registry-keys"),
            "RESEAU_POLES_SUBSCRIBER_ID": subscriber_id,
            "RESEAU_POLES_CHALLENGE_TIMEOUT_SECONDS": "3",
            "RESEAU_POLES_SNAPSHOT_REFRESH_SECONDS": "0.2",
            **env,
        },
        tmp,
    )


def node_process(
    tmp: Path,
    name: str,
    role: str,
    *,
    database_url: str,
    subscriber_id: str,
    key_dir: Path,
    registry: Process,
    registry_id: str,
    **env: str,
) -> Process:
    process = Process(name, role, {}, tmp)
    process.env = {
        "RESEAU_POLES_DATABASE_URL": database_url,
        "RESEAU_POLES_SUBSCRIBER_ID": subscriber_id,
        "RESEAU_POLES_KEY_DIR": str(key_dir),
        "RESEAU_POLES_PUBLIC_URL": process.url,
        "RESEAU_POLES_REGISTRY_URL": registry.url,
        "RESEAU_POLES_REGISTRY_SUBSCRIBER_ID": registry_id,
        "RESEAU_POLES_OUTBOX_POLL_INTERVAL": "0.1",
        "RESEAU_POLES_OUTBOX_BASE_DELAY": "0.2",
        "RESEAU_POLES_OUTBOX_MAX_DELAY": "1.0",
        **env,
    }
    return process


def subscribe(registry_url: str, keys: SubscriberKeys, url: str, **record: Any) -> None:
    """``/subscribe`` as a participant does (the registry's challenge goes to ``url``)."""
    values: dict[str, Any] = {
        "type": "BPP",
        "domains": ["PLA:ALIMENTS"],
        "regions": ["QC-03"],
        **record,
    }
    body = encode({k: v for k, v in build_record(keys, url=url, **values).items() if v is not None})
    response = httpx.post(
        f"{registry_url}/subscribe",
        content=body,
        headers={"Authorization": signer_for(keys).sign(body), "Content-Type": "application/json"},
        timeout=15,
    )
    assert response.status_code == 200, response.text


def postgres_binaries() -> Path | None:
    """Where initdb and pg_ctl are (Debian puts them under /usr/lib/postgresql/N/bin)."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb in a temporary folder, a free port): it can be
    restarted without touching the shared server other tests use. As root, the server runs
    as the ``postgres`` system user (PostgreSQL refuses to run as root)."""

    def __init__(self, root: Path) -> None:
        binaries = postgres_binaries()
        if binaries is None:
            raise FileNotFoundError("initdb introuvable")
        self.bin = binaries
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                raise FileNotFoundError("runuser introuvable (PostgreSQL refuse root)")
            self.prefix = ["runuser", "-u", "postgres", "--"]
            root.chmod(0o755)
            shutil.chown(root, "postgres")

    def _run(self, *args: str, timeout: float = 60) -> None:
        completed = subprocess.run(
            [*self.prefix, *args], capture_output=True, timeout=timeout, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args[:2])} : {completed.stdout.decode()} {completed.stderr.decode()}"
            )

    def init(self) -> PrivatePostgres:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=50"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "immediate") -> None:
        self.stop(mode)
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
