"""Roles share code through the shared packages only: no role package imports another role
package, and the shared packages import no role.

Roles: ``registry``, ``gateway``, ``seller``, ``buyer``. Shared: ``protocol`` (sans I/O),
``network`` (calls in and out, the registry's client), ``participant`` (the frame of the seller,
the buyer and the gateway), ``portal`` (the web pages' frame of the seller and the buyer),
``storage``. The demo and the conformance tester run several roles and are
neither. Every import is read from the source (the syntax tree, imports inside functions and
under ``TYPE_CHECKING`` included), so a lazy import cannot hide a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import reseau_poles

ROOT = Path(reseau_poles.__file__).parent
ROLES = frozenset({"registry", "gateway", "seller", "buyer"})
SHARED = frozenset({"protocol", "network", "participant", "portal", "storage"})


def imported_modules(source: str, package: list[str]) -> list[tuple[int, str]]:
    """``(line, module)`` for every import in ``source``, a file of ``package`` (its dotted
    parts), relative imports made absolute."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # ``from reseau_poles import gateway`` names a package in the alias.
            if module == "reseau_poles":
                found.extend((node.lineno, f"reseau_poles.{a.name}") for a in node.names)
    return found


def top_package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "reseau_poles" else None


def crossings(package: str, allowed: frozenset[str]) -> list[str]:
    """Imports of role packages, other than ``allowed``, from the files of ``package``."""
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts[:-1])
        for line, module in imported_modules(path.read_text(encoding="utf-8"), parts):
            target = top_package(module)
            if target in ROLES and target not in allowed:
                bad.append(f"{path.relative_to(ROOT)}:{line} importe {module}")
    return bad


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_role_imports_no_other_role(role: str) -> None:
    assert crossings(role, frozenset({role})) == []


@pytest.mark.parametrize("package", sorted(SHARED))
def test_a_shared_package_imports_no_role(package: str) -> None:
    assert crossings(package, frozenset()) == []


def test_every_package_is_classified() -> None:
    """A new package must be placed: a role, shared, or a tool over several roles."""
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages - ROLES - SHARED <= {"cli", "demo", "conformance"}, packages


def test_the_walk_sees_relative_lazy_and_type_checking_imports() -> None:
    """The checker itself: a relative import two levels up, one inside a function and one
    under ``TYPE_CHECKING`` are all read as the modules they name."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "from ..registry.client import subscribe\n"
        "def later():\n"
        "    from reseau_poles.seller import app\n"
        "if TYPE_CHECKING:\n"
        "    import reseau_poles.buyer.orders\n"
        "from reseau_poles import gateway\n"
    )
    modules = [module for _, module in imported_modules(source, ["reseau_poles", "participant"])]
    assert "reseau_poles.registry.client" in modules
    assert "reseau_poles.seller" in modules
    assert "reseau_poles.buyer.orders" in modules
    assert "reseau_poles.gateway" in modules
    assert top_package("reseau_poles.registry.client") == "registry"
    assert top_package("httpx") is None


# Modules stay small enough to read in one sitting; Alembic migrations, written once for the
# database and never extended, are left out.
MAX_LINES = 600


def oversized(root: Path, limit: int = MAX_LINES) -> list[str]:
    """``"path : n lignes"`` for each Python file under ``root`` longer than ``limit`` lines,
    outside the ``migrations`` folders."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if "migrations" in relative.parts:
            continue
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > limit:
            found.append(f"{relative.as_posix()} : {count} lignes")
    return found


def test_no_source_file_is_over_600_lines() -> None:
    over = oversized(ROOT)
    assert over == [], (
        f"Fichiers de plus de {MAX_LINES} lignes (à découper en modules nommés pour ce qu'ils "
        "contiennent) :\n" + "\n".join(over)
    )


def test_the_size_check_names_long_files_and_skips_migrations(tmp_path: Path) -> None:
    """The checker itself: a long module is named with its length, a file of exactly the limit
    passes, a long migration is left out."""
    (tmp_path / "role" / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "role" / "long.py").write_text("x = 1\n" * 601, encoding="utf-8")
    (tmp_path / "role" / "limit.py").write_text("x = 1\n" * 600, encoding="utf-8")
    (tmp_path / "role" / "migrations" / "versions" / "0001_initial.py").write_text(
        "x = 1\n" * 900, encoding="utf-8"
    )
    assert oversized(tmp_path) == ["role/long.py : 601 lignes"]
