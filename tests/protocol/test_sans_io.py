"""``reseau_poles.protocol`` does no I/O: no network, no database, no file, no framework.

Two checks. The source of every protocol module is read (its syntax tree, without importing
it): no import of an I/O or framework module, nor of another part of the package, and no call
that reads or writes a file. Then the whole protocol package is imported in a fresh
interpreter: none of those modules may come in through a dependency either.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import reseau_poles.protocol

PACKAGE = "reseau_poles.protocol"
ROOT = Path(reseau_poles.protocol.__file__).parent

# Imported directly by a protocol module: I/O (network, processes, files, databases, event
# loops) or a framework. Data lookups of the standard library (zoneinfo's tz files) and the
# crypto libraries are allowed.
FORBIDDEN_DIRECT = frozenset(
    {
        "aiosqlite",
        "anyio",
        "asyncio",
        "fastapi",
        "http.client",
        "http.cookiejar",
        "http.server",
        "httpcore",
        "httpx",
        "hypothesis",
        "io",
        "multiprocessing",
        "os",
        "pathlib",
        "psycopg",
        "psycopg2",
        "requests",
        "selectors",
        "shutil",
        "sniffio",
        "socket",
        "sqlalchemy",
        "sqlite3",
        "ssl",
        "starlette",
        "subprocess",
        "tempfile",
        "threading",
        "urllib.request",
        "uvicorn",
    }
)
# Not even through a dependency (the standard library's own socket, threading… may).
FORBIDDEN_LOADED = (
    "aiosqlite",
    "anyio",
    "asyncio",
    "fastapi",
    "httpcore",
    "httpx",
    "hypothesis",
    "psycopg",
    "sniffio",
    "sqlalchemy",
    "sqlite3",
    "starlette",
    "subprocess",
    "uvicorn",
)
# Calls that read or write files, whatever the object they are called on.
FILE_METHODS = frozenset(
    {"read_bytes", "read_text", "write_bytes", "write_text", "mkdir", "touch", "unlink"}
)
FILE_FUNCTIONS = frozenset({"open", "print", "input"})


@dataclass(frozen=True)
class Module:
    name: str
    path: Path

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


def _modules() -> list[Module]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append(Module(".".join((PACKAGE, *parts)), path))
    return found


def _imported(module: Module, tree: ast.AST) -> list[tuple[int, str]]:
    """Every module name the source imports, relative imports resolved."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.name.split(".")
                if not module.is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            names.append((node.lineno, target))
            # ``from pkg import sub`` may name a module too.
            names.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
    return names


def _is_forbidden(name: str) -> bool:
    parts = name.split(".")
    if parts[0] == "reseau_poles":
        return not (name == PACKAGE or name.startswith(PACKAGE + ".") or name == "reseau_poles")
    return any(".".join(parts[:i]) in FORBIDDEN_DIRECT for i in range(1, len(parts) + 1))


def _file_calls(tree: ast.AST) -> list[tuple[int, str]]:
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id in FILE_FUNCTIONS:
            calls.append((node.lineno, f"{node.func.id}("))
        elif isinstance(node.func, ast.Attribute) and node.func.attr in FILE_METHODS:
            calls.append((node.lineno, f".{node.func.attr}("))
    return calls


MODULES = _modules()


def test_the_walk_sees_the_protocol_modules():
    names = {module.name for module in MODULES}
    assert {
        "reseau_poles.protocol",
        "reseau_poles.protocol.keys",
        "reseau_poles.protocol.signing",
        "reseau_poles.protocol.models.codec",
        "reseau_poles.protocol.profile.money",
    } <= names
    assert len(names) > 30


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.name)
def test_protocol_module_imports_no_io_and_calls_no_file(module: Module):
    tree = ast.parse(module.path.read_text("utf-8"), filename=str(module.path))
    bad_imports = [
        f"ligne {n} : import {name}" for n, name in _imported(module, tree) if _is_forbidden(name)
    ]
    assert not bad_imports, f"{module.name} importe de l'I/O ou un cadre : {bad_imports}"
    calls = [f"ligne {n} : {call}" for n, call in _file_calls(tree)]
    assert not calls, f"{module.name} lit ou écrit des fichiers : {calls}"


def test_the_checks_catch_what_they_forbid():
    module = Module("reseau_poles.protocol.models.example", ROOT / "models" / "example.py")
    tree = ast.parse(
        "import httpx\n"
        "from ...network import client\n"
        "from .. import keys\n"
        "from os import path\n"
        "import urllib.parse\n"
        "x = open('f')\n"
        "y = p.write_text('t')\n"
    )
    imported = [name for _, name in _imported(module, tree)]
    assert "reseau_poles.network" in imported
    assert "reseau_poles.protocol.keys" in imported
    forbidden = {name for name in imported if _is_forbidden(name)}
    assert {"httpx", "reseau_poles.network", "reseau_poles.network.client", "os"} <= forbidden
    assert not any(name.startswith("reseau_poles.protocol") for name in forbidden)
    assert "urllib.parse" not in forbidden
    assert [call for _, call in _file_calls(tree)] == ["open(", ".write_text("]


def test_importing_all_of_protocol_loads_no_io_or_framework_module():
    script = (
        "import importlib, json, pkgutil, sys\n"
        f"import {PACKAGE} as package\n"
        f"for info in pkgutil.walk_packages(package.__path__, {PACKAGE + '.'!r}):\n"
        "    importlib.import_module(info.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(json.loads(done.stdout))
    assert {module.name for module in MODULES} <= loaded
    leaks = sorted(
        name
        for name in loaded
        if name.split(".")[0] in FORBIDDEN_LOADED
        or (name.startswith("reseau_poles.") and not name.startswith(PACKAGE))
    )
    assert not leaks, f"importer {PACKAGE} charge : {leaks}"
