"""The converters that ``reseau-poles`` spares Typer (cli_typer.py) give what Typer's own would:
the same value, or the same refusal, for any value of a str, int, float or Path option, Path
options with every combination of checks."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

import reseau_poles.cli  # noqa: F401 - installs the spared converters

# Typer's converters as of 0.29 (another Typer converts otherwise: nothing is spared there).
build_runtime_param = pytest.importorskip("typer._coercion").build_runtime_param
Context = pytest.importorskip("typer._click").Context
BadParameter = pytest.importorskip("typer._click.exceptions").BadParameter

CHECKS = list(itertools.product([False, True], repeat=4))  # exists, file_okay, dir_okay, resolve


def _command() -> Any:
    """One command with a str, an int, a float, and a Path option per combination of checks."""
    app = typer.Typer()
    options = [
        "text: Annotated[str, typer.Option()] = 'a'",
        "count: Annotated[int, typer.Option()] = 1",
        "ratio: Annotated[float, typer.Option()] = 1.0",
        "bounded: Annotated[int, typer.Option(min=0, max=10)] = 1",
    ]
    for index, (exists, file_okay, dir_okay, resolve) in enumerate(CHECKS):
        options.append(
            f"path{index}: Annotated[Path, typer.Option(exists={exists}, file_okay={file_okay}, "
            f"dir_okay={dir_okay}, resolve_path={resolve})] = Path('.')"
        )
    namespace: dict[str, Any] = {"Annotated": Annotated, "typer": typer, "Path": Path}
    exec(f"def command({', '.join(options)}) -> None: pass", namespace)
    app.command()(namespace["command"])
    return typer.main.get_command(app)


COMMAND = _command()
PARAMS = {param.name: param for param in COMMAND.params}


def _outcome(converter: Any, param: Any, value: Any) -> tuple[str, Any]:
    try:
        result = converter.coerce(value, param=param, ctx=Context(COMMAND))
    except BadParameter as exc:
        return "refused", exc.format_message()
    except Exception as exc:
        return type(exc).__name__, str(exc)
    return type(result).__name__, result


def _same_as_typer(name: str, value: Any) -> None:
    param = PARAMS[name]
    param._runtime_param = None
    spared = _outcome(param.get_runtime_param(), param, value)
    typers = _outcome(build_runtime_param(param.type_descriptor), param, value)
    assert spared == typers, (name, value)


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    base = tmp_path_factory.mktemp("chemins")
    (base / "fichier.toml").write_text("x = 1\n")
    (base / "dossier").mkdir()
    return [
        str(base / "fichier.toml"),
        str(base / "dossier"),
        str(base / "absent"),
        f"{base}//dossier/../fichier.toml",
        "./relatif",
        "",
        ".",
        "-",
    ]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_spared_converters_give_what_typers_give(places: list[str], data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(PARAMS)))
    if name.startswith("path"):
        text = data.draw(st.sampled_from(places) | st.text(max_size=12))
        value = data.draw(st.sampled_from([text, Path(text) if text else Path()]))
    else:
        value = data.draw(
            st.text(max_size=8)
            | st.integers(-100, 100)
            | st.floats(allow_nan=False)
            | st.sampled_from(["12", "1.5", "abc", b"octets"])
        )
    _same_as_typer(name, value)


def test_a_value_that_needs_a_converter_gets_typers() -> None:
    """A value of another type (the text of an int) gets the converter Typer builds, kept."""
    param = PARAMS["count"]
    param._runtime_param = None
    converter = param.get_runtime_param()
    assert converter.coerce("42", param=param, ctx=Context(COMMAND)) == 42
    assert param._runtime_param is not converter  # Typer's own, from now on
    assert param.get_runtime_param().coerce("7", param=param, ctx=Context(COMMAND)) == 7
