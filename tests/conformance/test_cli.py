"""``reseau-poles conformance``: the command in its own process against a running node, its
exit code and its JSON report."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port

CLI = str(Path(sys.executable).with_name("reseau-poles"))


def _run(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "conformance", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )


def test_the_command_passes_our_seller_and_writes_the_json_report(
    start_seller, registry, tmp_path
) -> None:
    node = start_seller()
    port = free_port()
    report_file = tmp_path / "rapport.json"
    result = _run(
        "seller",
        "--registry",
        registry.url,
        "--subscriber-id",
        "testeur-cli.example",
        "--target",
        node.subscriber_id,
        "--keys",
        str(tmp_path / "testeur-cles"),
        "--listen",
        f"127.0.0.1:{port}",
        "--json",
        str(report_file),
        "--lang",
        "en",
        "--ttl",
        "5",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Conformant: every check passed." in result.stdout
    report = json.loads(report_file.read_text("utf-8"))
    assert report["ok"] is True and report["role"] == "seller"
    assert report["target"] == node.subscriber_id
    assert report["summary"] == {"pass": 14, "fail": 0, "skip": 0}
    assert {c["id"] for c in report["checks"]} >= {"devis.taxes", "refus.rejeu"}
    # The keys stay for the next run (the registry knows the tester by them).
    assert (tmp_path / "testeur-cles").is_dir()


def test_the_command_fails_when_the_target_is_not_in_the_registry(registry, tmp_path) -> None:
    result = _run(
        "seller",
        "--registry",
        registry.url,
        "--subscriber-id",
        "testeur-cli-2.example",
        "--target",
        "absent.example",
        "--keys",
        str(tmp_path / "cles"),
        "--listen",
        f"127.0.0.1:{free_port()}",
        "--json",
        str(tmp_path / "r.json"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[ÉCHEC] registre.inscription" in result.stdout
    assert "absent.example est absent du lookup du registre" in result.stdout
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert report["ok"] is False
    assert report["checks"][0]["findings"][0]["path"] == "subscriber_id"
    skipped = [c for c in report["checks"] if c["outcome"] == "skip"]
    assert len(skipped) == 13 and all(c["findings"][0]["text_en"] for c in skipped)


def test_the_command_says_when_the_registry_cannot_be_reached(tmp_path) -> None:
    result = _run(
        "buyer",
        "--registry",
        f"http://127.0.0.1:{free_port()}",
        "--subscriber-id",
        "testeur-cli-3.example",
        "--target",
        "acheteur.example",
        "--keys",
        str(tmp_path / "cles"),
        "--listen",
        f"127.0.0.1:{free_port()}",
    )
    assert result.returncode == 2
    assert "registre injoignable" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_buyer_command_starts_a_search_with_trigger(start_buyer, registry, tmp_path) -> None:
    node = start_buyer()
    search = (
        f"import httpx; httpx.post('{node.url}/api/searches', json={{'region': 'QC-03'}}, "
        f"headers={{'X-API-Key': '{node.api_key}'}}, timeout=10)"
    )
    result = _run(
        "buyer",
        "--registry",
        registry.url,
        "--subscriber-id",
        "testeur-cli-bpp.example",
        "--target",
        node.subscriber_id,
        "--keys",
        str(tmp_path / "cles"),
        "--listen",
        f"127.0.0.1:{free_port()}",
        "--wait",
        "20",
        "--trigger",
        shlex.join([sys.executable, "-c", search]),
        "--json",
        str(tmp_path / "r.json"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "En attente d'une recherche (search)" in result.stderr
    assert "Conforme : toutes les vérifications ont réussi." in result.stdout
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert report["role"] == "buyer" and report["summary"] == {"pass": 11, "fail": 0, "skip": 0}
