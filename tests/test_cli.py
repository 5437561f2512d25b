"""The protocol commands as a vendor's developer uses them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from reseau_poles.cli import app
from reseau_poles.keystore import KeyFiles

runner = CliRunner()
BODY = json.dumps(
    {"context": {"action": "search", "domain": "PLA:ALIMENTS"}, "message": {}},
    separators=(",", ":"),
).encode()


def generate(tmp_path: Path) -> Path:
    folder = tmp_path / "cles"
    result = runner.invoke(
        app, ["keys", "generate", "--out", str(folder), "--subscriber-id", "pole.example"]
    )
    assert result.exit_code == 0, result.output
    assert "signing_public_key=" in result.output
    return folder


def sign(folder: Path, body: bytes, *extra: str) -> str:
    keys = KeyFiles(folder).read()
    result = runner.invoke(
        app,
        [
            "sign",
            "--subscriber-id",
            keys.subscriber_id,
            "--key-id",
            keys.key_id,
            "--private-key",
            str(folder / KeyFiles.SIGNING_PRIVATE),
            *extra,
        ],
        input=body,
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def verify(folder: Path, header: str, body: bytes, *extra: str):
    public = KeyFiles(folder).read().signing.public_key_b64
    return runner.invoke(
        app, ["verify", "--public-key", public, "--header", header, *extra], input=body
    )


def test_generate_sign_verify(tmp_path):
    folder = generate(tmp_path)
    header = sign(folder, BODY)
    assert header.startswith('Signature keyId="pole.example|')
    result = verify(folder, header, BODY)
    assert result.exit_code == 0
    assert result.stdout.strip() == "valid"
    # The header may be pasted with its name.
    assert verify(folder, f"Authorization: {header}", BODY).exit_code == 0


def test_generate_refuses_to_overwrite(tmp_path):
    folder = generate(tmp_path)
    again = runner.invoke(
        app, ["keys", "generate", "--out", str(folder), "--subscriber-id", "pole.example"]
    )
    assert again.exit_code == 2
    assert "--force" in again.output


def test_verify_says_why(tmp_path):
    folder = generate(tmp_path)
    header = sign(folder, BODY, "--created", "1000", "--expires", "1030")
    expired = verify(folder, header, BODY)
    assert expired.exit_code == 1
    assert "invalid: expired" in expired.stdout
    reserialised = json.dumps(json.loads(BODY), indent=2).encode()
    digest = verify(folder, header, reserialised, "--now", "1010")
    assert digest.exit_code == 1
    assert "invalid: digest_mismatch" in digest.stdout
    bad = verify(folder, 'Signature keyId="x"', BODY)
    assert bad.exit_code == 1
    assert "invalid: malformed" in bad.stdout
    assert "manquant" in bad.stderr


def test_sign_with_a_bad_key_file(tmp_path):
    key_file = tmp_path / "cle"
    key_file.write_text("pas une clé")
    result = runner.invoke(
        app,
        ["sign", "--subscriber-id", "a", "--key-id", "b", "--private-key", str(key_file)],
        input=b"{}",
    )
    assert result.exit_code == 2
    assert "base64" in result.output


def test_console_script_signs_exact_bytes(tmp_path):
    folder = generate(tmp_path)
    keys = KeyFiles(folder).read()
    exe = Path(sys.executable).parent / "reseau-poles"
    body = BODY + b"\n"  # a trailing newline is part of the body: it must be signed too
    signed = subprocess.run(
        [
            str(exe),
            "sign",
            "--subscriber-id",
            keys.subscriber_id,
            "--key-id",
            keys.key_id,
            "--private-key",
            str(folder / KeyFiles.SIGNING_PRIVATE),
        ],
        input=body,
        capture_output=True,
        check=True,
    )
    header = signed.stdout.decode().strip()
    now = str(int(time.time()))
    checked = subprocess.run(
        [
            str(exe),
            "verify",
            "--public-key",
            keys.signing.public_key_b64,
            "--header",
            header,
            "--now",
            now,
        ],
        input=body,
        capture_output=True,
    )
    assert checked.returncode == 0, checked.stderr
    stripped = subprocess.run(
        [str(exe), "verify", "--public-key", keys.signing.public_key_b64, "--header", header],
        input=BODY,
        capture_output=True,
    )
    assert stripped.returncode == 1
    assert b"digest_mismatch" in stripped.stdout


def test_demo_protocol_walks_through_sign_verify_and_refusals():
    result = runner.invoke(app, ["demo", "protocol"])
    assert result.exit_code == 0, result.output
    assert "valide" in result.output
    assert "signature_mismatch" in result.output
    assert "expired" in result.output


def test_verify_accepts_the_ondc_quoted_form_and_says_so(tmp_path):
    folder = generate(tmp_path)
    header = sign(folder, BODY)
    quoted = verify(folder, f'Authorization: "{header}"', BODY)
    assert quoted.exit_code == 0, quoted.output
    assert quoted.stdout.strip() == "valid"
    assert "guillemets englobants retirés" in quoted.stderr
    plain = verify(folder, header, BODY)
    assert "guillemets" not in plain.stderr
    # Anything looser stays malformed.
    for wrapped in (f"'{header}'", f'""{header}""', f'"{header}'):
        refused = verify(folder, wrapped, BODY)
        assert refused.exit_code == 1
        assert "invalid: malformed" in refused.stdout


def test_verify_explain_shows_the_evidence_on_success_and_failure(tmp_path):
    from reseau_poles.protocol import signing

    folder = generate(tmp_path)
    keys = KeyFiles(folder).read()
    header = sign(folder, BODY, "--created", "1000", "--expires", "1030")
    good = verify(
        folder, f'X-Gateway-Authorization: "{header}"', BODY, "--now", "1010", "--explain"
    )
    assert good.exit_code == 0, good.output
    text = good.stdout
    assert "En-tête / header : X-Gateway-Authorization" in text
    assert "outer quotes removed" in text
    assert f"keyId       : pole.example|{keys.key_id}|ed25519" in text
    assert "created     : 1000 (1970-01-01T00:16:40Z)" in text
    # The signing string exactly as signed: three lines, the body's digest on the last.
    body_digest = signing.digest(BODY)
    assert f"  (created): 1000\n  (expires): 1030\n  digest: BLAKE-512={body_digest}\n" in text
    assert f"BLAKE-512={body_digest}" in text.split("Corps / body")[1].splitlines()[0]
    assert keys.signing.public_key_b64 in text
    assert text.rstrip().endswith("Verdict : valide / valid")

    reserialised = json.dumps(json.loads(BODY), indent=2).encode()
    bad = verify(folder, header, reserialised, "--now", "1010", "--explain")
    assert bad.exit_code == 1
    assert "Verdict : invalide / invalid : digest_mismatch" in bad.stdout
    assert f"BLAKE-512={signing.digest(reserialised)}" in bad.stdout
    # What the sender really signed: the compact body's digest.
    assert f"  digest: BLAKE-512={body_digest}" in bad.stdout.split("réellement signée")[1]
    assert "outer quotes" not in bad.stdout

    unreadable = verify(folder, 'Signature keyId="x"', BODY, "--explain")
    assert unreadable.exit_code == 1
    assert "(illisible / unreadable)" in unreadable.stdout
    assert "invalid : malformed" in unreadable.stdout and "manquant" in unreadable.stdout
