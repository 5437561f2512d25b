"""The registry's commands, against a registry running on loopback."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from reseau_poles.keystore import KeyFiles
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.registry import cli
from reseau_poles.registry.cli import app
from tests.conftest import free_port

from .conftest import RunningRegistry

runner = CliRunner()


def test_migrate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registre.sqlite'}"
    result = runner.invoke(app, ["migrate", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "0003_suspension_grace" in result.output


def test_subscribe_then_administer(registry_factory, tmp_path: Path, monkeypatch) -> None:
    # A wide terminal, so that table cells are not wrapped.
    monkeypatch.setattr(cli, "out", Console(width=250))
    monkeypatch.setattr(cli, "err", Console(width=250, stderr=True))
    operator_folder = tmp_path / "cles-operateur"
    registry: RunningRegistry = registry_factory(policy="approval")
    KeyFiles(operator_folder).write(registry.operator)

    port = free_port()
    config = tmp_path / "participant.toml"
    config.write_text(
        f"""
[participant]
subscriber_id = "cooperative-beauce.example"
url = "http://127.0.0.1:{port}/beckn"
type = "BPP"
domains = ["PLA:ALIMENTS"]
regions = ["QC-12", "QC-03"]
keys = "cles"
""",
        "utf-8",
    )
    result = runner.invoke(app, ["subscribe", "--registry", registry.url, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "UNDER_SUBSCRIPTION" in result.output
    assert (tmp_path / "cles" / "keys.json").is_file()

    admin = ["admin", "--registry", registry.url, "--keys", str(operator_folder)]
    result = runner.invoke(app, [*admin, "list", "--status", "UNDER_SUBSCRIPTION"])
    assert result.exit_code == 0, result.output
    assert "cooperative-beauce.example" in result.output

    result = runner.invoke(app, [*admin, "approve", "cooperative-beauce.example", "--reason", "ok"])
    assert result.exit_code == 0, result.output
    assert "SUBSCRIBED" in result.output
    assert registry.lookup({"subscriber_id": "cooperative-beauce.example"}).json()

    result = runner.invoke(app, [*admin, "audit"])
    assert result.exit_code == 0, result.output
    assert "approve" in result.output and "subscribe" in result.output

    result = runner.invoke(app, [*admin, "stats"])
    assert result.exit_code == 0, result.output
    assert "QC-12" in result.output

    key_id = KeyFiles(tmp_path / "cles").read().key_id
    result = runner.invoke(app, [*admin, "show", "cooperative-beauce.example"])
    assert result.exit_code == 0 and key_id in result.output, result.output
    result = runner.invoke(app, [*admin, "revoke-key", "cooperative-beauce.example", key_id])
    assert result.exit_code == 0, result.output
    assert registry.lookup({"subscriber_id": "cooperative-beauce.example"}).json() == []

    # A refusal is a readable message and a non-zero exit, not a traceback.
    result = runner.invoke(app, [*admin, "approve", "inconnu.example"])
    assert result.exit_code == 1
    assert "15005" in result.output

    # Somebody else's key folder is not an operator.
    stranger = tmp_path / "cles-curieux"
    KeyFiles(stranger).write(SubscriberKeys.generate("curieux.example", "k"))
    result = runner.invoke(
        app, ["admin", "--registry", registry.url, "--keys", str(stranger), "list"]
    )
    assert result.exit_code == 1
    assert "15001" in result.output

    result = runner.invoke(app, [*admin, "operator-entry"])
    assert result.exit_code == 0
    assert registry.operator.signing.public_key_b64 in result.output


def test_example_configuration_loads(monkeypatch) -> None:
    from reseau_poles.registry.settings import Policy, load_settings

    kit = Path(__file__).resolve().parents[2] / "registry"
    settings = load_settings(kit / "registry.example.toml")
    assert settings.policy == Policy.APPROVAL
    assert settings.subscriber_id == "registre.mon-reseau.example"
    assert [op.key_id for op in settings.operators] == ["op-1"]
    # The environment wins over the file.
    monkeypatch.setenv("RESEAU_POLES_POLICY", "open")
    assert load_settings(kit / "registry.example.toml").policy == Policy.OPEN
    participant = cli._participant_config(kit / "participant.example.toml")
    assert participant["regions"] == ["QC-03", "QC-12"]


def test_suspend_tells_the_operator_the_grace_period_and_the_delay(
    registry_factory, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(cli, "out", Console(width=250))
    operator_folder = tmp_path / "cles-operateur"
    registry: RunningRegistry = registry_factory()
    KeyFiles(operator_folder).write(registry.operator)
    sid = registry.join().keys.subscriber_id
    admin = ["admin", "--registry", registry.url, "--keys", str(operator_folder)]

    result = runner.invoke(app, [*admin, "suspend", sid, "--reason", "plainte"])
    assert result.exit_code == 0, result.output
    assert "SUSPENDED" in result.output and "période de grâce" in result.output
    grace_until = registry.admin.get(f"/admin/subscribers/{sid}")["grace_until"]
    assert grace_until in result.output and "quelques secondes" in result.output

    result = runner.invoke(app, [*admin, "reactivate", sid])
    assert result.exit_code == 0, result.output
    assert "SUBSCRIBED" in result.output and "quelques secondes" in result.output


def test_subscribe_asks_for_ondc_and_its_listener_answers_it(registry_factory, tmp_path: Path):
    """participant.toml's challenge_scheme goes in the signed subscribe; the temporary
    listener opens the ONDC challenge with the registry's key from its well-known document."""
    registry: RunningRegistry = registry_factory()
    port = free_port()
    config = tmp_path / "participant.toml"
    config.write_text(
        f"""
[participant]
subscriber_id = "pile-ondc-cli.example"
url = "http://127.0.0.1:{port}/beckn"
type = "BPP"
domains = ["PLA:ALIMENTS"]
regions = ["QC-03"]
keys = "cles"
challenge_scheme = "ondc"
""",
        "utf-8",
    )
    result = runner.invoke(app, ["subscribe", "--registry", registry.url, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "SUBSCRIBED" in result.output
    assert registry.lookup({"subscriber_id": "pile-ondc-cli.example"}).json()
