"""The vendored front-end files are exactly those of their npm packages at the pinned versions
(tools/vendor_assets.py): each committed file has the sha256 VERSIONS.json records, the
script refuses a tarball whose sha512 is not the registry's, and the package ships them."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import tomllib
from pathlib import Path

import pytest

from tools import vendor_assets
from tools.vendor_assets import PINS, Pin, VendorError

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "reseau_poles"


@pytest.mark.parametrize("folder", sorted({pin.destination for pin in PINS}), ids=str)
def test_the_committed_files_are_those_versions_json_records(folder: Path) -> None:
    assert vendor_assets.check(folder) == []


@pytest.mark.parametrize("pin", PINS, ids=lambda pin: pin.package)
def test_versions_json_records_each_pinned_version(pin: Pin) -> None:
    recorded = [
        e for e in vendor_assets.read_versions(pin.destination) if e["package"] == pin.package
    ]
    assert {e["file"] for e in recorded} == set(pin.files.values())
    assert {e["version"] for e in recorded} == {pin.version}, (
        f"{pin.package} : la version épinglée a changé, relancez python -m tools.vendor_assets"
    )
    for entry in recorded:
        assert entry["integrity"].startswith("sha512-")
        assert len(entry["sha256"]) == 64


def test_the_portal_has_htmx_2_and_its_sse_extension() -> None:
    vendor = PACKAGE / "portal" / "static" / "vendor"
    assert 'version:"2.' in (vendor / "htmx.min.js").read_text("utf-8")
    assert "htmx.defineExtension('sse'" in (vendor / "htmx-ext-sse.js").read_text("utf-8")
    for licence in ("LICENSE-htmx.org.txt", "LICENSE-htmx-ext-sse.txt"):
        assert "Permission to use, copy, modify" in (vendor / licence).read_text("utf-8")


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture
def pin(tmp_path: Path) -> Pin:
    return Pin(
        "exemple",
        "1.0.0",
        tmp_path / "vendor",
        {"package/dist/a.min.js": "a.js", "package/LICENSE": "LICENSE-exemple.txt"},
        "un essai",
    )


TARBALL = _tarball({"package/dist/a.min.js": b"var a=1;", "package/LICENSE": b"0BSD"})


def test_a_tarball_matching_its_integrity_is_written_with_its_record(pin: Pin) -> None:
    written = vendor_assets.install(pin, TARBALL, _integrity(TARBALL), "0BSD")
    assert (pin.destination / "a.js").read_bytes() == b"var a=1;"
    assert (pin.destination / "LICENSE-exemple.txt").read_bytes() == b"0BSD"
    recorded = json.loads((pin.destination / "VERSIONS.json").read_text("utf-8"))["files"]
    assert recorded == sorted(written, key=lambda e: e["file"])
    assert {e["sha256"] for e in recorded} == {
        hashlib.sha256(b"var a=1;").hexdigest(),
        hashlib.sha256(b"0BSD").hexdigest(),
    }
    assert vendor_assets.check(pin.destination) == []


def test_a_tarball_that_is_not_the_registrys_is_refused_and_nothing_written(pin: Pin) -> None:
    tampered = _tarball({"package/dist/a.min.js": b"steal();", "package/LICENSE": b"0BSD"})
    with pytest.raises(VendorError, match="ne correspond pas"):
        vendor_assets.install(pin, tampered, _integrity(TARBALL), "0BSD")
    assert not pin.destination.exists()
    with pytest.raises(VendorError, match="sha512"):
        vendor_assets.install(pin, TARBALL, "sha1-" + _integrity(TARBALL)[7:], "0BSD")


def test_another_archive_for_a_version_already_vendored_is_refused(pin: Pin) -> None:
    vendor_assets.install(pin, TARBALL, _integrity(TARBALL), "0BSD")
    other = _tarball({"package/dist/a.min.js": b"var a=2;", "package/LICENSE": b"0BSD"})
    with pytest.raises(VendorError, match="autre archive"):
        vendor_assets.install(pin, other, _integrity(other), "0BSD")
    assert (pin.destination / "a.js").read_bytes() == b"var a=1;"


def test_a_file_missing_from_the_tarball_is_named(pin: Pin) -> None:
    partial = _tarball({"package/LICENSE": b"0BSD"})
    with pytest.raises(VendorError, match=r"package/dist/a\.min\.js manque"):
        vendor_assets.install(pin, partial, _integrity(partial), "0BSD")


def test_check_names_a_changed_file_and_a_stray_one(pin: Pin) -> None:
    vendor_assets.install(pin, TARBALL, _integrity(TARBALL), "0BSD")
    (pin.destination / "a.js").write_bytes(b"var a=3;")
    (pin.destination / "b.js").write_bytes(b"")
    problems = vendor_assets.check(pin.destination)
    assert any(p.startswith("a.js a changé") for p in problems), problems
    assert "b.js n'est pas dans VERSIONS.json" in problems


def test_the_package_data_ships_the_portals_files() -> None:
    """Every file of portal/ but its Python modules matches a pattern of package-data (the
    patterns setuptools globs from src/reseau_poles)."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["reseau_poles"]
    shipped = {path for pattern in patterns for path in PACKAGE.glob(pattern)}
    portal = [
        path
        for path in (PACKAGE / "portal").rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"}
    ]
    assert portal, "portal/ n'a aucun fichier"
    assert [path for path in portal if path not in shipped] == []
    for name in ("index.html", "messages.toml", "LICENSE-x.txt"):
        assert any(Path("portal/templates", name).match(p) for p in patterns), name
