"""The front-end files the portal serves, and axe-core for the browser tests, taken from their
npm packages at pinned versions (never a CDN at run time).

    python -m tools.vendor_assets           fetch the pinned tarballs with npm, check each
                                            against the sha512 integrity the registry publishes,
                                            write the files, their licences and VERSIONS.json
    python -m tools.vendor_assets --check   only check the committed files against VERSIONS.json

Raising a version: change it in ``PINS``, run the script, read the diff, commit. The registry
is the one npm is configured with (``npm config get registry``); nothing else is contacted.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PORTAL_VENDOR = REPO / "src" / "reseau_poles" / "portal" / "static" / "vendor"
TEST_VENDOR = REPO / "tests" / "browser" / "vendor"
VERSIONS = "VERSIONS.json"


class VendorError(Exception):
    """A tarball or a committed file is not what it must be; nothing was written."""


@dataclass(frozen=True)
class Pin:
    """One npm package at one version: which of its files go where, under which names."""

    package: str
    version: str
    destination: Path
    files: dict[str, str]  # path in the tarball → file name in ``destination``
    purpose: str


PINS: tuple[Pin, ...] = (
    Pin(
        "htmx.org",
        "2.0.11",
        PORTAL_VENDOR,
        {"package/dist/htmx.min.js": "htmx.min.js", "package/LICENSE": "LICENSE-htmx.org.txt"},
        "the portal's pages: requests from attributes, fragments swapped in place",
    ),
    Pin(
        "htmx-ext-sse",
        "2.2.4",
        PORTAL_VENDOR,
        {"package/dist/sse.js": "htmx-ext-sse.js", "package/LICENSE": "LICENSE-htmx-ext-sse.txt"},
        "htmx's Server-Sent Events extension: search results and order timelines, live",
    ),
    Pin(
        "axe-core",
        "4.14.1",
        TEST_VENDOR,
        {
            "package/axe.min.js": "axe.min.js",
            "package/LICENSE": "LICENSE-axe-core.txt",
            "package/LICENSE-3RD-PARTY.txt": "LICENSE-axe-core-3RD-PARTY.txt",
        },
        "tests only: the accessibility check run inside each page in Chromium",
    ),
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_integrity(tarball: bytes, integrity: str) -> None:
    """Refuse ``tarball`` unless its sha512 is the one in ``integrity`` (the registry's
    Subresource Integrity form, ``sha512-<base64>``)."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512" or not expected:
        raise VendorError(f"intégrité illisible ou pas en sha512 : {integrity!r}")
    actual = base64.b64encode(hashlib.sha512(tarball).digest()).decode("ascii")
    if actual != expected:
        raise VendorError(f"l'archive ne correspond pas à son intégrité : {actual} ≠ {expected}")


def extract(tarball: bytes, members: list[str]) -> dict[str, bytes]:
    """The bytes of each of ``members`` (regular files) of a gzipped tarball."""
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in members:
            try:
                info = archive.getmember(member)
            except KeyError:
                raise VendorError(f"{member} manque dans l'archive") from None
            handle = archive.extractfile(info) if info.isfile() else None
            if handle is None:
                raise VendorError(f"{member} n'est pas un fichier ordinaire dans l'archive")
            found[member] = handle.read()
    return found


def entries(
    pin: Pin, integrity: str, licence: str, contents: dict[str, bytes]
) -> list[dict[str, str]]:
    """The lines of VERSIONS.json for ``pin``: one per file written."""
    return [
        {
            "package": pin.package,
            "version": pin.version,
            "license": licence,
            "file": name,
            "source": member,
            "sha256": sha256(contents[member]),
            "integrity": integrity,
            "purpose": pin.purpose,
        }
        for member, name in pin.files.items()
    ]


def read_versions(folder: Path) -> list[dict[str, str]]:
    path = folder / VERSIONS
    if not path.exists():
        return []
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return list(data["files"])


def write_versions(folder: Path, files: list[dict[str, str]]) -> None:
    document = {
        "about": "Written by tools/vendor_assets.py from the npm packages named here; "
        "tests/test_vendored_assets.py checks each file against its sha256.",
        "files": sorted(files, key=lambda entry: (entry["package"], entry["file"])),
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    (folder / VERSIONS).write_text(text, encoding="utf-8")


def install(pin: Pin, tarball: bytes, integrity: str, licence: str) -> list[dict[str, str]]:
    """Check ``tarball`` against ``integrity`` (and against the integrity VERSIONS.json already
    records for this version, if any), then write its files and update VERSIONS.json."""
    verify_integrity(tarball, integrity)
    recorded = read_versions(pin.destination)
    for entry in recorded:
        same = entry["package"] == pin.package and entry["version"] == pin.version
        if same and entry["integrity"] != integrity:
            raise VendorError(
                f"{pin.package}@{pin.version} : le registre publie une autre archive que celle "
                f"déjà vendue ({integrity} ≠ {entry['integrity']})"
            )
    contents = extract(tarball, list(pin.files))
    pin.destination.mkdir(parents=True, exist_ok=True)
    for member, name in pin.files.items():
        (pin.destination / name).write_bytes(contents[member])
    mine = entries(pin, integrity, licence, contents)
    others = [entry for entry in recorded if entry["package"] != pin.package]
    write_versions(pin.destination, others + mine)
    return mine


def npm(*args: str, cwd: Path | None = None) -> Any:
    """Run npm with ``--json`` and give its parsed answer."""
    executable = shutil.which("npm")
    if executable is None:
        raise VendorError("npm est introuvable : installez Node.js et npm")
    done = subprocess.run(
        [executable, *args, "--json"], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise VendorError(f"npm {' '.join(args)} a échoué : {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def fetch(pin: Pin) -> list[dict[str, str]]:
    """The registry's metadata (integrity, licence), then the tarball itself, through npm."""
    spec = f"{pin.package}@{pin.version}"
    manifest = npm("view", spec)
    integrity = manifest["dist"]["integrity"]
    # htmx-ext-sse declares none in its package.json; its LICENSE file (shipped) says 0BSD.
    licence = manifest.get("license") or "non déclarée : voir le fichier LICENSE livré"
    with tempfile.TemporaryDirectory() as folder:
        packed = npm("pack", spec, "--pack-destination", folder, cwd=Path(folder))
        tarball = (Path(folder) / packed[0]["filename"]).read_bytes()
    return install(pin, tarball, integrity, licence)


def check(folder: Path) -> list[str]:
    """What is wrong with the committed files of ``folder``: a file listed in VERSIONS.json
    missing or with another sha256, or a file in the folder that VERSIONS.json does not list."""
    problems = []
    recorded = read_versions(folder)
    if not recorded:
        return [f"{folder}: pas de {VERSIONS}"]
    listed = {entry["file"] for entry in recorded}
    for entry in recorded:
        path = folder / entry["file"]
        if not path.is_file():
            problems.append(f"{entry['file']} manque ({entry['package']}@{entry['version']})")
        elif sha256(path.read_bytes()) != entry["sha256"]:
            problems.append(
                f"{entry['file']} a changé depuis {entry['package']}@{entry['version']} : "
                "relancez python -m tools.vendor_assets"
            )
    for path in sorted(folder.iterdir()):
        if path.name != VERSIONS and path.name not in listed:
            problems.append(f"{path.name} n'est pas dans {VERSIONS}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="vérifier seulement")
    options = parser.parse_args(argv)
    folders = sorted({pin.destination for pin in PINS})
    if not options.check:
        for pin in PINS:
            for entry in fetch(pin):
                print(f"{pin.package}@{pin.version} → {entry['file']} ({entry['sha256'][:12]}…)")
    problems = [f"{folder.name}/{p}" for folder in folders for p in check(folder)]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
