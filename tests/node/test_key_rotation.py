"""A node's key over its life, against a real registry on loopback: revoking a node's only key
is not a lock-out (the operator registers its new key), ``rotate-key`` changes the key without
the operator (both valid during the overlap, then the old one ends), and a key that expires
soon is told in the node's log, its ``/health`` and the operator's ``expiring-keys``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from reseau_poles.buyer.cli import app as buyer_cli
from reseau_poles.keystore import KeyFiles
from reseau_poles.network.registry_client import subscribe as client_subscribe
from reseau_poles.network.rotation import PENDING_DIR, RETIRED_DIR
from reseau_poles.registry import admin_cli
from reseau_poles.registry.cli import app as registry_cli
from reseau_poles.seller.cli import app as seller_cli

from .conftest import NodeFiles, RunningRegistry, UvicornThread

runner = CliRunner()
CLI = {"seller": seller_cli, "buyer": buyer_cli}


def node_command(node: NodeFiles, command: str, *extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(CLI[node.role], [command, "--config", str(node.config), *extra])


def one_line(text: str) -> str:
    return " ".join(text.split())


def listed_keys(registry: RunningRegistry, subscriber_id: str) -> dict[str, dict]:
    return {r["key_id"]: r for r in registry.lookup({"subscriber_id": subscriber_id}).json()}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def operator_command(registry: RunningRegistry, folder: Path, *args: str):  # type: ignore[no-untyped-def]
    if not KeyFiles(folder).exists():
        KeyFiles(folder).write(registry.operator)
    return runner.invoke(
        registry_cli, ["admin", "--registry", registry.url, "--keys", str(folder), *args]
    )


def test_revoking_the_only_key_is_not_a_lock_out(
    registry_factory: Callable[..., RunningRegistry],
    node_files: Callable[..., NodeFiles],
    servers: list[UvicornThread],
    tmp_path: Path,
) -> None:
    registry = registry_factory(policy="open")
    node = node_files("seller", registry)
    node.write()
    servers.append(node.serve())
    assert node_command(node, "subscribe").exit_code == 0
    key_dir = node.root / "cles"
    old = KeyFiles(key_dir).read()
    registry.admin.revoke_key(node.subscriber_id, old.key_id, "clé compromise")

    # The same key: refused, and the node is told the way back.
    result = node_command(node, "subscribe")
    assert result.exit_code == 1, result.output
    text = one_line(result.output)
    assert "code 15001" in text
    assert "reseau-poles seller rotate-key --offline" in text
    assert f"registry admin add-key {node.subscriber_id}" in text

    # A new key, made on the node without the registry: still refused until the operator
    # vouches for it (anybody could present a new key), and told so.
    result = node_command(node, "rotate-key", "--offline")
    assert result.exit_code == 0, result.output
    new = KeyFiles(key_dir).read()
    assert new.key_id != old.key_id and new.key_id in one_line(result.output)
    assert KeyFiles(key_dir / RETIRED_DIR / old.key_id).read().key_id == old.key_id
    result = node_command(node, "subscribe")
    assert result.exit_code == 1, result.output
    text = one_line(result.output)
    assert "code 15006" in text and "n'a plus aucune clé valide" in text
    assert "révoquer l'ancienne clé" not in text  # the old advice, already done
    assert listed_keys(registry, node.subscriber_id) == {}

    # The operator registers the node's new public key (its keys.json), with a reason.
    operator = tmp_path / "cles-operateur"
    result = operator_command(
        registry,
        operator,
        "add-key",
        node.subscriber_id,
        "--keys-json",
        str(key_dir / "keys.json"),
        "--reason",
        "clé compromise remplacée",
    )
    assert result.exit_code == 0, result.output
    assert new.key_id in result.output
    assert list(listed_keys(registry, node.subscriber_id)) == [new.key_id]
    entry = registry.admin.audit(subscriber_id=node.subscriber_id, action="operator_add_key")[0]
    assert entry["actor"].startswith("operator:") and entry["key_id"] == new.key_id
    assert entry["reason"] == "clé compromise remplacée"

    # The node, still running on its old key, answers the challenge for the new one.
    result = node_command(node, "subscribe")
    assert result.exit_code == 0, result.output
    assert "SUBSCRIBED" in result.output

    # reset-key: a compromised participant's keys all replaced by one, in one action.
    result = node_command(node, "rotate-key", "--offline")
    assert result.exit_code == 0, result.output
    newest = KeyFiles(key_dir).read()
    result = operator_command(
        registry, operator, "reset-key", node.subscriber_id, "--keys-json", str(key_dir)
    )
    assert result.exit_code == 0, result.output
    assert new.key_id in result.output  # named as revoked
    assert list(listed_keys(registry, node.subscriber_id)) == [newest.key_id]
    shown = registry.admin.subscriber(node.subscriber_id)
    assert {k["key_id"]: k["status"] for k in shown["keys"]} == {
        old.key_id: "REVOKED",
        new.key_id: "REVOKED",
        newest.key_id: "ACTIVE",
    }
    assert registry.admin.audit(subscriber_id=node.subscriber_id, action="reset_key")


@pytest.mark.parametrize("role", ["seller", "buyer"])
def test_rotate_key_overlaps_then_the_old_key_ends(
    registry_factory: Callable[..., RunningRegistry],
    node_files: Callable[..., NodeFiles],
    servers: list[UvicornThread],
    role: str,
) -> None:
    registry = registry_factory(policy="approval")
    node = node_files(role, registry)
    node.write()
    servers.append(node.serve())
    assert node_command(node, "subscribe").exit_code == 0
    registry.admin.change("approve", node.subscriber_id, "entente signée")
    key_dir = node.root / "cles"
    old = KeyFiles(key_dir).read()

    started = datetime.now(UTC)
    result = node_command(node, "rotate-key", "--overlap-hours", "2")
    assert result.exit_code == 0, result.output
    text = one_line(result.output)
    new = KeyFiles(key_dir).read()
    assert new.key_id != old.key_id and new.subscriber_id == old.subscriber_id
    assert f"Nouvelle clé {new.key_id} inscrite (SUBSCRIBED)" in text
    assert f"l'ancienne clé {old.key_id} reste valide" in text and "Redémarrez" in text
    assert not (key_dir / PENDING_DIR).exists()
    assert KeyFiles(key_dir / RETIRED_DIR / old.key_id).read().key_id == old.key_id

    # Both keys are listed: the old one until the end of the overlap, the new one for a year.
    keys = listed_keys(registry, node.subscriber_id)
    assert set(keys) == {old.key_id, new.key_id}
    old_end = moment(keys[old.key_id]["valid_until"])
    assert (
        timedelta(hours=2) - timedelta(minutes=1)
        <= old_end - started
        <= timedelta(hours=2, minutes=1)
    )
    assert moment(keys[new.key_id]["valid_until"]) - started > timedelta(days=360)
    # No approval needed: the registry trusted the key vouched for by the current one.
    audit = registry.admin.audit(subscriber_id=node.subscriber_id)
    assert [e["action"] for e in audit[:2]] == ["update", "add_key"]
    assert audit[1]["actor"] == f"participant:{node.subscriber_id}|{old.key_id}"
    assert audit[0]["actor"] == f"participant:{node.subscriber_id}|{new.key_id}"

    # Restarted, the node signs with its new key: a subscribe signed by it is accepted.
    servers.pop().stop()
    servers.append(node.serve())
    health = httpx.get(f"{node.url}/health", timeout=5).json()
    assert health["key"]["key_id"] == new.key_id
    result = node_command(node, "subscribe")
    assert result.exit_code == 0, result.output

    # A registry that refuses leaves the key folder as it was; the pending key is reused.
    registry.admin.change("suspend", node.subscriber_id, "essai de refus")
    result = node_command(node, "rotate-key")
    assert result.exit_code == 1, result.output
    assert "15007" in one_line(result.output)
    assert KeyFiles(key_dir).read().key_id == new.key_id
    pending = KeyFiles(key_dir / PENDING_DIR).read().key_id
    registry.admin.change("reactivate", node.subscriber_id, "fin de l'essai")
    result = node_command(node, "rotate-key", "--overlap-hours", "0")
    assert result.exit_code == 0, result.output
    assert KeyFiles(key_dir).read().key_id == pending
    # An overlap of 0 still gives the old key a minute (the registry refuses a window over).
    end = moment(listed_keys(registry, node.subscriber_id)[new.key_id]["valid_until"])
    assert end - datetime.now(UTC) <= timedelta(minutes=1)


def test_a_key_expiring_soon_is_told(
    registry_factory: Callable[..., RunningRegistry],
    node_files: Callable[..., NodeFiles],
    servers: list[UvicornThread],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = registry_factory(policy="open")
    node = node_files("buyer", registry)
    node.write(key_expiry_warning_days=30, key_check_interval_hours=0.0003)  # ~1 s checks
    servers.append(node.serve())
    keys = KeyFiles(node.root / "cles").read()
    # Subscribed with a key that ends in ten days.
    client_subscribe(
        registry.url,
        keys,
        url=node.url,
        type="BAP",
        domains=["PLA:ALIMENTS"],
        regions=["QC-03"],
        valid_until=datetime.now(UTC) + timedelta(days=10),
    )

    # At start, the node asks the registry, warns in its log and shows it on /health.
    servers.pop().stop()
    with caplog.at_level(logging.WARNING, logger="reseau_poles.keys"):
        servers.append(node.serve())
        deadline = time.monotonic() + 10
        while (key := httpx.get(f"{node.url}/health", timeout=5).json()["key"])[
            "checked_at"
        ] is None:
            assert time.monotonic() < deadline, key
            time.sleep(0.05)
    assert key["key_id"] == keys.key_id and key["listed"] is True
    assert key["expires_soon"] is True and 9.5 <= key["days_left"] <= 10
    warnings = [r.getMessage() for r in caplog.records if r.name == "reseau_poles.keys"]
    assert any(
        keys.key_id in w and "expire" in w and "reseau-poles buyer rotate-key" in w
        for w in warnings
    ), warnings

    # The operator sees it among the keys expiring within 30 days (not within 5), with its
    # whole identifiers even when the output is piped (tab-separated lines).
    operator = tmp_path / "cles-operateur"
    KeyFiles(operator).write(registry.operator)
    admin = ["admin", "--registry", registry.url, "--keys", str(operator)]
    monkeypatch.setattr(admin_cli, "out", admin_cli.Console(width=40))  # a narrow pipe
    result = runner.invoke(registry_cli, [*admin, "expiring-keys", "--within-days", "30"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if keys.key_id in line)
    assert line.split("\t")[:3] == [node.subscriber_id, "SUBSCRIBED", keys.key_id]
    result = runner.invoke(registry_cli, [*admin, "expiring-keys", "--within-days", "5"])
    assert result.exit_code == 0 and keys.key_id not in result.output

    # Revoked while the node runs: its next check warns (once) and /health says not listed.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="reseau_poles.keys"):
        registry.admin.revoke_key(node.subscriber_id, keys.key_id, "essai")
        deadline = time.monotonic() + 10
        while httpx.get(f"{node.url}/health", timeout=5).json()["key"]["listed"] is not False:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(2.5)  # two more checks: not said again
    said = [r.getMessage() for r in caplog.records if "n'est pas listée" in r.getMessage()]
    assert len(said) == 1 and keys.key_id in said[0], said
