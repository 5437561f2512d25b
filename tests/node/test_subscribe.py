"""``reseau-poles seller subscribe`` / ``buyer subscribe``: a real node, served from its TOML
file, subscribes itself to a real registry on loopback (SQLite and PostgreSQL), answering the
registry's challenge; refusals say what to do."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from reseau_poles.buyer.cli import app as buyer_cli
from reseau_poles.seller.cli import app as seller_cli
from tests.conftest import free_port

from .conftest import NodeFiles, RunningRegistry, UvicornThread

runner = CliRunner()
CLI = {"seller": seller_cli, "buyer": buyer_cli}


def subscribe(node: NodeFiles, *extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(CLI[node.role], ["subscribe", "--config", str(node.config), *extra])


def one_line(text: str) -> str:
    return " ".join(text.split())


def listed(registry: RunningRegistry, subscriber_id: str) -> list[dict]:
    return registry.lookup({"subscriber_id": subscriber_id}).json()


@pytest.mark.parametrize("role,beckn_type", [("seller", "BPP"), ("buyer", "BAP")])
def test_open_registry_subscribes_the_running_node(
    registry_factory: Callable[..., RunningRegistry],
    node_files: Callable[..., NodeFiles],
    servers: list[UvicornThread],
    role: str,
    beckn_type: str,
) -> None:
    registry = registry_factory(policy="open")
    node = node_files(role, registry)
    node.write(domain="PLA:ALIMENTS", regions=["QC-03", "QC-12"])
    servers.append(node.serve())

    result = subscribe(node)
    assert result.exit_code == 0, result.output
    assert "SUBSCRIBED" in result.output
    assert "est inscrit" in result.output and "Attention" not in result.output

    # The registry saw the node's own record, with its key, and lists it.
    records = listed(registry, node.subscriber_id)
    assert len(records) == 1, records
    record = records[0]
    assert record["type"] == beckn_type
    assert record["url"] == node.url
    assert sorted(record["regions"]) == ["QC-03", "QC-12"]
    from reseau_poles.keystore import KeyFiles

    keys = KeyFiles(node.root / "cles").read()
    assert record["key_id"] == keys.key_id
    assert record["signing_public_key"] == keys.signing.public_key_b64

    # Again, with a region more: an update, still subscribed, the registry has the new list.
    node.write(regions=["QC-03", "QC-12", "QC-05"])
    result = subscribe(node)
    assert result.exit_code == 0, result.output
    assert "SUBSCRIBED" in result.output
    deadline = time.monotonic() + 5
    while sorted(listed(registry, node.subscriber_id)[0]["regions"]) != ["QC-03", "QC-05", "QC-12"]:
        assert time.monotonic() < deadline, listed(registry, node.subscriber_id)
        time.sleep(0.1)


def test_approval_waits_for_the_operator(
    registry_factory: Callable[..., RunningRegistry],
    node_files: Callable[..., NodeFiles],
    servers: list[UvicornThread],
) -> None:
    registry = registry_factory(policy="approval")
    node = node_files("buyer", registry)
    node.write()
    servers.append(node.serve())

    # Without --wait: the outcome and what comes next, exit 0.
    result = subscribe(node)
    assert result.exit_code == 0, result.output
    text = one_line(result.output)
    assert "UNDER_SUBSCRIPTION" in text
    assert "attend l'approbation de l'opérateur" in text
    assert f"reseau-poles registry admin approve {node.subscriber_id}" in text
    assert listed(registry, node.subscriber_id) == []

    # --wait with nobody approving: gives up after the timeout, exit 3.
    started = time.monotonic()
    result = subscribe(node, "--wait", "--wait-timeout", "0.6", "--interval", "0.1")
    assert result.exit_code == 3, result.output
    assert "Toujours en attente" in result.output
    assert time.monotonic() - started < 10

    # --wait while the operator approves: returns once the registry lists the node. The
    # operator approves once this subscription is written (a new audit line), so that the
    # command is told UNDER_SUBSCRIPTION and waits, however slow the machine.
    lines = len(registry.admin.audit(subscriber_id=node.subscriber_id))

    def approve() -> None:
        deadline = time.monotonic() + 20
        while len(registry.admin.audit(subscriber_id=node.subscriber_id)) == lines:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.3)
        registry.admin.change("approve", node.subscriber_id, "entente signée")

    approver = threading.Thread(target=approve)
    approver.start()
    result = subscribe(node, "--wait", "--wait-timeout", "30", "--interval", "0.1")
    approver.join()
    assert result.exit_code == 0, result.output
    assert "approuvé" in result.output
    assert listed(registry, node.subscriber_id)[0]["status"] == "SUBSCRIBED"


def test_node_not_running_is_told_to_start_first(
    registry_factory: Callable[..., RunningRegistry], node_files: Callable[..., NodeFiles]
) -> None:
    registry = registry_factory(policy="open")
    node = node_files("seller", registry)
    node.write()

    result = subscribe(node)
    assert result.exit_code == 1, result.output
    text = one_line(result.output)
    assert "Attention" in text and "ne répond pas" in text  # before asking the registry
    assert "code 15003" in text  # the registry's one answer to any failed challenge
    assert "Démarrez d'abord le nœud (reseau-poles seller serve --config" in text
    assert listed(registry, node.subscriber_id) == []


def test_another_service_at_the_public_url_fails_the_challenge(
    registry_factory: Callable[..., RunningRegistry],
    node_files: Callable[..., NodeFiles],
    servers: list[UvicornThread],
) -> None:
    registry = registry_factory(policy="open")
    running = node_files("seller", registry)
    running.write()
    servers.append(running.serve())
    # Same address, another identity and other keys: the running node cannot open the
    # challenge sealed for them (and says the challenge is for another subscriber).
    other = node_files("seller", registry)
    other.port = running.port
    other.write()

    result = subscribe(other)
    assert result.exit_code == 1, result.output
    text = one_line(result.output)
    assert f"répond au nom de '{running.subscriber_id}'" in text
    assert "code 15003" in text
    assert "public_url doit mener à lui" in text
    assert listed(registry, other.subscriber_id) == []


def test_suspended_node_is_sent_to_the_operator(
    registry_factory: Callable[..., RunningRegistry],
    node_files: Callable[..., NodeFiles],
    servers: list[UvicornThread],
) -> None:
    registry = registry_factory(policy="open")
    node = node_files("seller", registry)
    node.write()
    servers.append(node.serve())
    assert subscribe(node).exit_code == 0
    registry.admin.change("suspend", node.subscriber_id, "factures impayées")

    result = subscribe(node)
    assert result.exit_code == 1, result.output
    text = one_line(result.output)
    assert "code 15007" in text
    assert "Seul l'opérateur du réseau peut réactiver ce participant" in text


def test_bad_settings_are_named(
    registry_factory: Callable[..., RunningRegistry],
    node_files: Callable[..., NodeFiles],
    servers: list[UvicornThread],
) -> None:
    registry = registry_factory(policy="open")
    node = node_files("seller", registry)
    node.write()
    servers.append(node.serve())

    # A region the registry does not know: its refusal names the field.
    node.write(regions=["QC-99"])
    result = subscribe(node)
    assert result.exit_code == 1, result.output
    text = one_line(result.output)
    assert "code 15000" in text and "regions" in text
    assert "Corrigez ce réglage dans le fichier de configuration du nœud" in text

    # No registry configured.
    bare = node_files("buyer", None)
    bare.write()
    result = subscribe(bare)
    assert result.exit_code == 1, result.output
    assert "registry_url n'est pas configuré" in one_line(result.output)

    # A registry nobody answers at: --registry overrides the file.
    result = subscribe(node, "--registry", f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 1, result.output
    assert "registre injoignable" in one_line(result.output)

    # A value of the wrong type: named, no traceback.
    node.write(regions="QC-03")
    result = subscribe(node)
    assert result.exit_code == 1, result.output
    assert "configuration invalide" in one_line(result.output) and "regions" in result.output


@pytest.mark.parametrize("role", ["seller", "buyer"])
@pytest.mark.parametrize("scheme", ["ondc", "sealed_box"])
def test_the_running_node_answers_either_challenge_scheme(
    registry_factory: Callable[..., RunningRegistry],
    node_files: Callable[..., NodeFiles],
    servers: list[UvicornThread],
    role: str,
    scheme: str,
) -> None:
    """No setting on the node: a sealed box opens with its key; an ONDC challenge (AES blocks)
    with the registry's encryption key read from its well-known document."""
    registry = registry_factory(challenge_scheme=scheme)
    node = node_files(role, registry)
    node.write()
    servers.append(node.serve())

    result = subscribe(node)
    assert result.exit_code == 0, result.output
    assert "SUBSCRIBED" in result.output
    assert len(listed(registry, node.subscriber_id)) == 1


def test_a_node_with_the_registry_key_configured_answers_ondc(
    registry_factory: Callable[..., RunningRegistry],
    node_files: Callable[..., NodeFiles],
    servers: list[UvicornThread],
) -> None:
    """As with ONDC's own registry (no well-known document): the key from the settings, here
    in the SPKI DER form ONDC publishes; a wrong one makes the challenge fail (15003)."""
    registry = registry_factory(challenge_scheme="ondc")
    der = registry.service.identity.encryption.public_key_der_b64
    node = node_files("seller", registry)
    from reseau_poles.protocol.keys import EncryptionKeyPair

    node.write(registry_encryption_public_key=EncryptionKeyPair.generate().public_key_der_b64)
    server = node.serve()
    servers.append(server)
    refused = subscribe(node)
    assert refused.exit_code != 0
    assert "15003" in one_line(refused.output)
    server.stop()
    servers.remove(server)

    node.write(registry_encryption_public_key=der)
    servers.append(node.serve())
    result = subscribe(node)
    assert result.exit_code == 0, result.output
    assert "SUBSCRIBED" in result.output
