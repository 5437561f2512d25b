"""Generated artefact folders (``schemas/``, ``openapi/``): write the expected files, and tell
which ones drifted from what the code generates today."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def write_files(folder: str | Path, files: Mapping[str, str]) -> list[Path]:
    """Write each ``name → text`` of ``files`` into ``folder`` (made if missing); return the
    paths written. Nothing else in the folder is touched."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def drifted_files(folder: str | Path, files: Mapping[str, str]) -> list[str]:
    """Names of the files that are missing or different in ``folder``, and of the ``*.json``
    there that ``files`` does not have, sorted."""
    folder = Path(folder)
    drift = []
    for name, text in files.items():
        try:
            if (folder / name).read_text("utf-8") != text:
                drift.append(name)
        except (OSError, UnicodeDecodeError):
            drift.append(name)
    present = {path.name for path in folder.glob("*.json")} if folder.is_dir() else set()
    drift.extend(present - set(files))
    return sorted(drift)
