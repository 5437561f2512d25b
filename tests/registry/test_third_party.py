"""A third-party stack that cannot answer the challenge: keys made for it and exported in the
forms its tools read, then registered by the operator without a challenge, audited."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from nacl.signing import SigningKey
from typer.testing import CliRunner

from reseau_poles.cli import app as main_app
from reseau_poles.keystore import KeyFiles
from reseau_poles.network.registry_client import RegistryRefusal
from reseau_poles.protocol.signing import Signer, parse_header, verify_signature
from reseau_poles.registry.cli import app

from .conftest import RunningRegistry, new_keys
from .test_operator import admin_args, refusal

runner = CliRunner()


def test_keys_export_writes_the_forms_third_party_tools_read(tmp_path: Path) -> None:
    folder, exported = tmp_path / "cles-pile", tmp_path / "pile-cles.json"
    made = runner.invoke(
        main_app,
        ["keys", "generate", "--out", str(folder), "--subscriber-id", "pile.example"],
    )
    assert made.exit_code == 0, made.output
    result = runner.invoke(
        main_app, ["keys", "export", "--keys", str(folder), "--out", str(exported)]
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    data = json.loads(exported.read_text())
    keys = KeyFiles(folder).read()
    assert (data["subscriber_id"], data["key_id"]) == ("pile.example", keys.key_id)

    # Ed25519: libsodium's 64 bytes (seed + public), as ONDC's and Beckn's tools take it.
    secret = base64.b64decode(data["signing_private_key"])
    assert len(secret) == 64
    signing = SigningKey(secret[:32])
    assert bytes(signing.verify_key) == secret[32:] == base64.b64decode(data["signing_public_key"])
    assert data["signing_public_key"] == keys.signing.public_key_b64
    # X25519: PKCS#8 and SPKI DER that `cryptography` (ONDC's Python tool) loads, and raw.
    private = serialization.load_der_private_key(
        base64.b64decode(data["encryption_private_key"]), password=None
    )
    public = serialization.load_der_public_key(base64.b64decode(data["encryption_public_key"]))
    assert isinstance(private, x25519.X25519PrivateKey)
    assert isinstance(public, x25519.X25519PublicKey)
    raw = serialization.Encoding.Raw
    assert public.public_bytes(raw, serialization.PublicFormat.Raw) == keys.encryption.public_key
    assert base64.b64decode(data["encryption_private_key_raw"]) == keys.encryption.private_key
    # A signature by the exported key checks against the registered public key.
    ours = ed25519.Ed25519PrivateKey.from_private_bytes(secret[:32])
    assert ours.sign(b"x") == signing.sign(b"x").signature

    again = runner.invoke(
        main_app, ["keys", "export", "--keys", str(folder), "--out", str(exported)]
    )
    assert again.exit_code != 0 and "--force" in again.output


def test_the_operator_registers_a_stack_without_a_challenge(
    registry: RunningRegistry, tmp_path: Path
) -> None:
    keys = new_keys("pile-tierce")
    folder = tmp_path / "cles-pile"
    KeyFiles(folder).write(keys)
    admin = admin_args(registry, tmp_path)
    url = "http://127.0.0.1:9/pile-sans-on_subscribe"  # nothing listens: no challenge is sent
    command = [
        *admin,
        "register",
        keys.subscriber_id,
        "--keys-json",
        str(folder / "keys.json"),
        "--url",
        url,
        "--type",
        "BPP",
        "--domain",
        "PLA:ALIMENTS",
        "--region",
        "QC-03",
        "--region",
        "QC-12",
    ]
    missing = runner.invoke(app, command)
    assert missing.exit_code == 2 and "motif" in missing.output

    result = runner.invoke(app, [*command, "--reason", "pile X : clés remises en main propre"])
    assert result.exit_code == 0, result.output
    assert "SUBSCRIBED" in result.output and "operator_register" in result.output

    found = registry.lookup({"subscriber_id": keys.subscriber_id}).json()
    assert len(found) == 1, found
    assert found[0]["url"] == url
    assert found[0]["signing_public_key"] == keys.signing.public_key_b64
    assert sorted(found[0]["regions"]) == ["QC-03", "QC-12"]
    entry = registry.admin.audit(subscriber_id=keys.subscriber_id)[0]
    assert entry["action"] == "operator_register"
    operator = registry.operator
    assert entry["actor"] == f"operator:{operator.subscriber_id}|{operator.key_id}"
    assert entry["reason"] == "pile X : clés remises en main propre"
    assert entry["before"] is None and entry["after"]["status"] == "SUBSCRIBED"

    # The stack now signs as itself: its key is the registered one.
    signer = Signer(keys.subscriber_id, keys.key_id, keys.signing)
    header = parse_header(signer.sign(b"{}"))
    verify_signature(b"{}", header, found[0]["signing_public_key"])

    # Once more: refused, its keys go through add-key / reset-key.
    record = json.loads((folder / "keys.json").read_text())
    again = refusal(
        lambda: registry.admin.register(
            keys.subscriber_id,
            record,
            url=url,
            type="BPP",
            domains=["PLA:ALIMENTS"],
            regions=["QC-03"],
            reason="encore",
        )
    )
    assert (again.status, again.code, again.path) == (409, "15007", "subscriber_id")
    assert "add-key" in again.message


@pytest.mark.parametrize(
    "change,path",
    [
        ({"reason": None}, "reason"),
        ({"reason": "  "}, "reason"),
        ({"url": "http://169.254.169.254/latest"}, "url"),
        ({"type": "BXX"}, "type"),
        ({"regions": ["QC-99"]}, "regions[0]"),
        ({"subscriber_id": "pas un nom"}, "subscriber_id"),
        ({"signing_public_key": "pas une clé"}, "signing_public_key"),
    ],
)
def test_a_bad_registration_is_refused_with_its_path(
    registry: RunningRegistry, change: dict, path: str
) -> None:
    keys = new_keys("pile-tierce")
    sid = change.get("subscriber_id", keys.subscriber_id)
    body = {
        "action": "register",
        "subscriber_id": sid,
        "key_id": keys.key_id,
        "signing_public_key": keys.signing.public_key_b64,
        "encr_public_key": keys.encryption.public_key_b64,
        "url": "http://127.0.0.1:9/pile",
        "type": "BPP",
        "domains": ["PLA:ALIMENTS"],
        "regions": ["QC-03"],
        "reason": "pile X",
        **change,
    }
    with pytest.raises(RegistryRefusal) as caught:
        registry.admin.post(f"/admin/subscribers/{sid}/register", body)
    assert caught.value.status == 400, caught.value
    assert (caught.value.code, caught.value.path) == ("15000", path)
    assert registry.admin.subscribers()["total"] == 0
