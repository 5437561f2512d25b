"""``reseau-poles --help`` stays fast: the help loads neither FastAPI, SQLAlchemy, Alembic,
httpx nor the cryptography, and a role's commands are loaded only when the role is named.

Timing a command is noisy on a shared machine; the modules a command loads are not, and they
are what the time goes to (FastAPI and SQLAlchemy alone took about 1 s of the 1.3 s).
Each case runs in a fresh interpreter, as a user's command does."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("fastapi", "starlette", "sqlalchemy", "alembic", "httpx", "uvicorn", "nacl")

_PROBE = """
import json, sys
from reseau_poles.cli import app
try:
    app(sys.argv[1:], prog_name="reseau-poles")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))
roles = sorted(
    name.split(".")[1] for name in sys.modules
    if name.count(".") >= 1 and name.split(".")[1] in ("registry", "gateway", "seller", "buyer")
    and name.startswith("reseau_poles.")
)
print("\\n@@" + json.dumps({"code": code, "heavy": heavy, "roles": sorted(set(roles))}))
"""


def _run(*args: str) -> tuple[dict, str]:
    probe = f"HEAVY = {HEAVY!r}\n" + _PROBE
    result = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"},
    )
    output, _, report = result.stdout.rpartition("\n@@")
    assert report, result.stderr
    return json.loads(report), output


def test_importing_the_cli_loads_nothing_heavy() -> None:
    code = (
        "import sys, reseau_poles.cli; "
        f"print(sorted({{n.split('.')[0] for n in sys.modules}} & set({HEAVY!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "args", [["--help"], ["keys", "--help"], ["schemas", "--help"], ["openapi", "--help"]]
)
def test_top_level_help_loads_no_role_and_nothing_heavy(args: list[str]) -> None:
    report, output = _run(*args)
    assert report["code"] == 0, output
    assert report["heavy"] == [] and report["roles"] == [], report
    if args == ["--help"]:
        # Every role is listed, from its stand-in, with its French description.
        for role, words in (
            ("registry", "Registre"),
            ("gateway", "Passerelle"),
            ("seller", "Nœud vendeur"),
            ("buyer", "Nœud acheteur"),
        ):
            assert role in output and words in output


@pytest.mark.parametrize(
    "role",
    [
        "registry",
        "gateway",
        "seller",
        "buyer",
    ],
)
def test_a_role_help_loads_only_that_role_and_nothing_heavy(role: str) -> None:
    report, output = _run(role, "--help")
    assert report["code"] == 0, output
    assert "serve" in output  # the role's real commands, not the stand-in
    assert report["roles"] == [role]
    assert report["heavy"] == [], report


def test_a_role_command_still_runs_with_everything_it_needs() -> None:
    report, output = _run("registry", "admin", "--help")
    assert report["code"] == 0 and "approve" in output


def test_an_unknown_command_is_refused_in_french_without_loading_the_roles() -> None:
    from typer.testing import CliRunner

    from reseau_poles.cli import app

    report, _output = _run("registre")
    assert report["code"] == 2
    assert report["roles"] == []
    for typed, meant in (("registre", "registry"), ("acheteur", "buyer"), ("sgn", "sign")):
        result = CliRunner().invoke(app, [typed])
        assert result.exit_code == 2
        assert f"Commande inconnue : « {typed} »" in result.output
        assert f"Vouliez-vous dire « {meant} »" in result.output


def test_defaults_written_in_the_cli_are_those_of_the_modules() -> None:
    from reseau_poles import cli
    from reseau_poles.config import CONFIG_FILE_ENV
    from reseau_poles.gateway import cli as gateway_cli
    from reseau_poles.protocol import signing

    assert cli.DEFAULT_TTL_SECONDS == signing.DEFAULT_TTL_SECONDS
    assert cli.DEFAULT_SKEW_SECONDS == signing.DEFAULT_SKEW_SECONDS
    assert gateway_cli.CONFIG_FILE_ENV == CONFIG_FILE_ENV
