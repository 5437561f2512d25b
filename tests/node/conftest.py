"""Real parts for the node tests: the registry on loopback (tests/registry helpers), and a
seller or buyer node served by uvicorn from a TOML file, as an operator runs it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from reseau_poles.participant import cli as node_cli
from tests.conftest import free_port, migrated_sqlite
from tests.registry.conftest import (  # noqa: F401  (fixtures)
    RunningRegistry,
    UvicornThread,
    operator_keys,
    participant_host,
    registry_factory,
)

REGISTRY_ID = "registre.test.example"


def toml_text(values: dict[str, Any]) -> str:
    import json

    return "".join(
        f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in values.items()
    )


@dataclass
class NodeFiles:
    """One node's configuration file and folders, as its operator keeps them."""

    role: str  # seller, buyer
    subscriber_id: str
    root: Path
    port: int
    registry_url: str | None

    @property
    def config(self) -> Path:
        return self.root / f"{self.role}.toml"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write(self, **extra: Any) -> Path:
        values: dict[str, Any] = {
            "database_url": migrated_sqlite(self.root / f"{self.role}.sqlite"),
            "subscriber_id": self.subscriber_id,
            "key_dir": str(self.root / "cles"),
            "public_url": self.url,
            "port": self.port,
            "regions": ["QC-03", "QC-12"],
        }
        if self.registry_url is not None:
            values["registry_url"] = self.registry_url
            values["registry_subscriber_id"] = REGISTRY_ID
        values.update(extra)
        self.config.write_text(toml_text({k: v for k, v in values.items() if v is not None}))
        return self.config

    def serve(self) -> UvicornThread:
        """The node from its own file, as ``reseau-poles <role> serve --config`` runs it."""
        if self.role == "seller":
            from reseau_poles.seller.app import create_app
            from reseau_poles.seller.settings import load_settings
        else:
            from reseau_poles.buyer.app import create_app
            from reseau_poles.buyer.settings import load_settings
        app = create_app(load_settings(self.config))
        return UvicornThread(app, self.port).start()


@pytest.fixture
def node_files(tmp_path: Path) -> Callable[..., NodeFiles]:
    made = 0

    def make(role: str, registry: RunningRegistry | None, name: str | None = None) -> NodeFiles:
        nonlocal made
        made += 1
        root = tmp_path / f"{role}-{made}"
        root.mkdir()
        subscriber_id = name or f"{role}-{made}.noeud.example"
        return NodeFiles(role, subscriber_id, root, free_port(), registry.url if registry else None)

    return make


@pytest.fixture
def servers() -> Iterator[list[UvicornThread]]:
    """Nodes started by a test, stopped at its end."""
    started: list[UvicornThread] = []
    yield started
    for server in started:
        server.stop()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages on one line each, so that tests can look for whole sentences."""
    monkeypatch.setattr(node_cli, "out", Console(width=400))
    monkeypatch.setattr(node_cli, "err", Console(width=400, stderr=True))
