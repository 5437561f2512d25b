"""Who runs in the demo network: the fixed names and ports, one :class:`Participant` per process
(its configuration, keys, database and log under the data folder), and :class:`DemoError`."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .sample import SamplePole

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
