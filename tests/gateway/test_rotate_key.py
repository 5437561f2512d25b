"""``reseau-poles gateway rotate-key``: the running gateway, served from its TOML file, changes
its key with a real registry on loopback; both keys listed during the overlap; ``/health``
tells the key's end."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from typer.testing import CliRunner

from reseau_poles.gateway.app import create_app
from reseau_poles.gateway.cli import app as gateway_cli
from reseau_poles.gateway.settings import load_settings
from reseau_poles.keystore import KeyFiles
from reseau_poles.network.rotation import RETIRED_DIR
from tests.conftest import free_port
from tests.registry.conftest import (  # noqa: F401  (fixtures)
    RunningRegistry,
    UvicornThread,
    operator_keys,
    participant_host,
    registry_factory,
)

runner = CliRunner()
GATEWAY_ID = "passerelle-cles.test.example"


def test_gateway_rotates_its_key(
    registry_factory: Callable[..., RunningRegistry],  # noqa: F811
    tmp_path: Path,
) -> None:
    registry = registry_factory(policy="open")
    port = free_port()
    config = tmp_path / "passerelle.toml"
    config.write_text(
        f'subscriber_id = "{GATEWAY_ID}"\n'
        f'key_dir = "{tmp_path / "cles"}"\n'
        f'public_url = "http://127.0.0.1:{port}"\n'
        f'registry_url = "{registry.url}"\n'
        'registry_subscriber_id = "registre.test.example"\n'
        'log_level = "WARNING"\n'
        "key_check_interval_hours = 0.0003\n",  # about a second
        "utf-8",
    )
    server = UvicornThread(create_app(load_settings(config)), port).start()
    try:
        result = runner.invoke(gateway_cli, ["subscribe", "--config", str(config)])
        assert result.exit_code == 0, result.output
        old = KeyFiles(tmp_path / "cles").read()

        # /health tells the key's end, as the registry has it (a year from now).
        deadline = time.monotonic() + 10
        while (key := httpx.get(f"{server.url}/health", timeout=5).json()["key"])[
            "checked_at"
        ] is None or not key["listed"]:
            assert time.monotonic() < deadline, key
            time.sleep(0.1)
        assert key["key_id"] == old.key_id and key["expires_soon"] is False
        assert key["days_left"] > 360

        started = datetime.now(UTC)
        result = runner.invoke(
            gateway_cli, ["rotate-key", "--config", str(config), "--overlap-hours", "3"]
        )
        assert result.exit_code == 0, result.output
        assert "la passerelle" in result.output
        new = KeyFiles(tmp_path / "cles").read()
        assert new.key_id != old.key_id
        assert (tmp_path / "cles" / RETIRED_DIR / old.key_id / "keys.json").is_file()
        records = {r["key_id"]: r for r in registry.lookup({"subscriber_id": GATEWAY_ID}).json()}
        assert set(records) == {old.key_id, new.key_id}
        assert all(r["type"] == "BG" for r in records.values())
        old_end = datetime.fromisoformat(records[old.key_id]["valid_until"].replace("Z", "+00:00"))
        assert abs(old_end - (started + timedelta(hours=3))) < timedelta(minutes=1)
    finally:
        server.stop()
