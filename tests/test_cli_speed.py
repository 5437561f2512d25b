"""``reseau-poles --help`` stays fast: a help page loads neither FastAPI, SQLAlchemy, Alembic,
httpx, the cryptography, pydantic nor rich's Markdown and Pygments, and a role's commands are
loaded only when the role is named; an operator's command talking to the registry loads the
HTTP client and the keys, not the database layer.

Timing a command is noisy on a shared machine; the modules a command loads are not, and they
are what the time goes to (FastAPI and SQLAlchemy alone took about 1 s of the 1.3 s; pydantic,
markdown-it and Pygments, loaded by Typer itself, half of what was left). bench/cli_start.py
measures the time. Each case runs in a fresh interpreter, as a user's command does."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

HEAVY = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "httpx",
    "uvicorn",
    "nacl",
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "markdown_it",
    "pygments",
)
# What a command talking to the registry may load, out of HEAVY: the HTTP client and the keys.
CLIENT = {"httpx", "nacl"}

_PROBE = """
import json, sys
from reseau_poles.cli import app
try:
    app(sys.argv[1:], prog_name="reseau-poles")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
loaded = [name for name, module in sys.modules.items() if module is not None]
heavy = sorted({name.split(".")[0] for name in loaded} & set(HEAVY))
roles = sorted(
    name.split(".")[1] for name in loaded
    if name.count(".") >= 1 and name.split(".")[1] in ("registry", "gateway", "seller", "buyer")
    and name.startswith("reseau_poles.")
)
print("\\n@@" + json.dumps({"code": code, "heavy": heavy, "roles": sorted(set(roles))}))
"""


def _run(*args: str, prelude: str = "") -> tuple[dict, str]:
    probe = f"HEAVY = {HEAVY!r}\n" + prelude + _PROBE
    result = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"},
    )
    output, _, report = result.stdout.rpartition("\n@@")
    assert report, result.stderr
    return json.loads(report), output + result.stderr


def test_importing_the_cli_loads_nothing_heavy() -> None:
    code = (
        "import sys, reseau_poles.cli; "
        "print(sorted({n.split('.')[0] for n, m in sys.modules.items() if m is not None} "
        f"& set({HEAVY!r})))"
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


@pytest.mark.parametrize(
    ("args", "role", "shown"),
    [
        (["registry", "admin", "--help"], "registry", "approve"),
        (["registry", "admin", "list", "--help"], "registry", "--status"),
        (["seller", "import", "--help"], "seller", "--provider"),
        (["seller", "provider", "create", "--help"], "seller", "--legal-form"),
        (["buyer", "key", "--help"], "buyer", "revoke"),
        (["gateway", "serve", "--help"], "gateway", "--config"),
        (["keys", "generate", "--help"], None, "--subscriber-id"),
        (["conformance", "seller", "--help"], None, "--target"),
        (["conformance", "buyer", "--help"], None, "--trigger"),
    ],
)
def test_a_sub_command_help_loads_nothing_heavy(
    args: list[str], role: str | None, shown: str
) -> None:
    report, output = _run(*args)
    assert report["code"] == 0 and shown in output, output
    assert report["roles"] == ([role] if role else [])
    assert report["heavy"] == [], report


def test_an_operator_command_loads_the_client_not_the_database(tmp_path) -> None:
    """``registry admin list`` signs a request and reads the answer: no SQLAlchemy, Alembic,
    FastAPI or uvicorn (the registry client, in network/, loads neither the package's web parts
    nor the tables)."""
    from reseau_poles.keystore import KeyFiles
    from reseau_poles.protocol.keys import SubscriberKeys
    from tests.conftest import free_port

    KeyFiles(tmp_path).write(SubscriberKeys.generate("operateur.test.example", "op-1"))
    url = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    report, output = _run("registry", "admin", "--registry", url, "--keys", str(tmp_path), "list")
    assert report["code"] == 1 and "registre injoignable" in output, output
    assert set(report["heavy"]) <= CLIENT, report


def test_the_operator_client_verifies_tls_except_on_plain_http() -> None:
    """AdminClient spares loading the certificate authorities only where there is no TLS."""
    import ssl

    from reseau_poles.network.registry_client import AdminClient, signer_for
    from reseau_poles.protocol.keys import SubscriberKeys

    signer = signer_for(SubscriberKeys.generate("operateur.test.example", "op-1"))
    for url, mode in (
        ("https://registre.example", ssl.CERT_REQUIRED),
        ("HTTPS://registre.example", ssl.CERT_REQUIRED),
        ("http://127.0.0.1:8000", ssl.CERT_NONE),
    ):
        with AdminClient(url, signer) as client:
            assert client.http._transport._pool._ssl_context.verify_mode == mode, url


def test_markdown_help_and_exception_pages_still_use_rich() -> None:
    """What rich_utils imports later (cli_typer.py) still works when a Typer app uses it: a
    help page in the markdown mode, and the page of an uncaught exception."""
    script = """
import sys
import reseau_poles.cli
import typer

app = typer.Typer(rich_markup_mode="markdown")

@app.command()
def boom(fail: bool = False) -> None:
    \"\"\"Une aide en **Markdown** avec une liste :

    * premier point
    \"\"\"
    if fail:
        raise RuntimeError("échec voulu")

app()
"""
    env = {"COLUMNS": "100", "PATH": "/usr/bin:/bin", "_TYPER_FORCE_DISABLE_TERMINAL": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "Une aide en Markdown" in result.stdout and "**" not in result.stdout
    assert "• premier point" in result.stdout
    result = subprocess.run(
        [sys.executable, "-c", script, "--fail"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr  # rich's own page
    assert "RuntimeError: échec voulu" in result.stderr


def test_rich_modules_imported_after_the_cli_are_the_real_ones() -> None:
    code = (
        "import reseau_poles.cli, typer.rich_utils as r; import rich.markdown, rich.traceback; "
        "print(type(rich.markdown.Markdown).__name__, type(rich.traceback.Traceback).__name__, "
        "isinstance(rich.markdown.Markdown('x'), r.Markdown))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["type", "type", "True"]


def test_the_deferral_acts_where_typer_builds_converters() -> None:
    """``cli_typer.convert_on_first_value``: a Typer that builds a pydantic converter for every
    parameter it processes (0.29) loads pydantic for a sub-command's help page without the
    deferral, and not with it. A Typer that converts otherwise (0.27, the development
    environment's) has nothing to defer: the function says so, and the page loads no pydantic
    all the same. Either way the page reads the same."""
    acts = subprocess.run(
        [
            sys.executable,
            "-c",
            "from reseau_poles.cli_typer import convert_on_first_value; "
            "print(convert_on_first_value())",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    without = "import reseau_poles.cli_typer as t\nt.convert_on_first_value = lambda: False\n"
    deferred, output = _run("seller", "--help")
    plain, plain_output = _run("seller", "--help", prelude=without)
    assert deferred["code"] == plain["code"] == 0, output
    assert "pydantic" not in deferred["heavy"], deferred
    if acts == "True":
        assert "pydantic" in plain["heavy"], plain  # what the deferral spares
    else:
        assert acts == "False"
        assert importlib.util.find_spec("typer._coercion") is None
        assert "pydantic" not in plain["heavy"], plain  # nothing to spare on this Typer
    assert output == plain_output


def test_option_values_are_still_converted_and_checked() -> None:
    """Converters are built at a parameter's first value (cli_typer.py): a value still gets
    converted, a bad one refused, an unset one left to its default."""
    from typer.testing import CliRunner

    from reseau_poles.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["demo", "--base-port", "80"])
    assert result.exit_code == 2 and "--base-port" in result.output
    result = runner.invoke(app, ["verify", "--public-key", "x", "--header", "y", "--skew", "abc"])
    assert result.exit_code == 2 and "--skew" in result.output
    result = runner.invoke(
        app, ["verify", "--public-key", "x", "--header", "y", "--skew", "2.5"], input=b"{}"
    )
    assert result.exit_code == 1 and "invalid: malformed" in result.output


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
    from reseau_poles.cli import signatures as cli_signatures
    from reseau_poles.config import CONFIG_FILE_ENV
    from reseau_poles.gateway import cli as gateway_cli
    from reseau_poles.protocol import signing

    assert cli_signatures.DEFAULT_TTL_SECONDS == signing.DEFAULT_TTL_SECONDS
    assert cli_signatures.DEFAULT_SKEW_SECONDS == signing.DEFAULT_SKEW_SECONDS
    assert gateway_cli.CONFIG_FILE_ENV == CONFIG_FILE_ENV
