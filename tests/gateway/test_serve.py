"""``reseau-poles gateway serve --workers 2``: the frame's serve_role hands the configuration
file and the command line's overrides to uvicorn's worker processes, each of which builds the
gateway from its factory with the same settings."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port


def test_two_workers_serve_the_gateway_of_the_configuration_file(tmp_path: Path) -> None:
    port = free_port()
    transcript = tmp_path / "messages.jsonl"
    config = tmp_path / "passerelle.toml"
    config.write_text(
        f'subscriber_id = "passerelle.workers.example"\n'
        f'key_dir = "{tmp_path / "keys"}"\n'
        f'registry_url = "http://127.0.0.1:{free_port()}"\n'
        'log_level = "WARNING"\n',
        "utf-8",
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RESEAU_POLES_")}
    command = [sys.executable, "-m", "reseau_poles.cli", "gateway", "serve", "--config"]
    command += [str(config), "--port", str(port), "--workers", "2"]
    command += ["--transcript", str(transcript)]
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        health = None
        # Two worker processes each import the web stack: on a loaded machine that takes a while.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        if health is None:
            # Its output ends when it does: stopped first, or the read would wait forever.
            process.terminate()
            output, _ = process.communicate(timeout=20)
            raise AssertionError(f"la passerelle n'a pas répondu :\n{output}")
        assert health.status_code == 200, health.text
        assert health.json()["subscriber_id"] == "passerelle.workers.example"
        # A search the workers refuse is written to the transcript named on the command line.
        httpx.post(f"http://127.0.0.1:{port}/search", content=b"{}", timeout=5)
        deadline = time.monotonic() + 5
        while not transcript.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert transcript.exists()
    finally:
        process.terminate()
        process.wait(timeout=20)
