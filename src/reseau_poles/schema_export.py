"""The ``schemas/`` folder: write the JSON Schemas of the network's messages, and tell which
files drifted from the models (``make schemas``, ``reseau-poles schemas check``).

The schemas themselves are built, without I/O, by :mod:`reseau_poles.protocol.json_schemas`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from reseau_poles.generated import drifted_files, write_files
from reseau_poles.protocol.json_schemas import INDEX, expected_files


def _previous_files(folder: Path) -> set[str]:
    try:
        index = json.loads((folder / INDEX).read_text("utf-8"))
        return {entry["file"] for entry in index["schemas"]} | {INDEX}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def write_schemas(folder: str | Path) -> list[Path]:
    """Write every schema and ``index.json`` into ``folder``; return the paths written.

    Files the previous ``index.json`` listed and that are no longer generated are removed
    (an action renamed, say); nothing else in the folder is touched.
    """
    folder = Path(folder)
    files = expected_files()
    for stale in sorted(_previous_files(folder) - set(files)):
        (folder / stale).unlink(missing_ok=True)
    return write_files(folder, files)


def diff_schemas(folder: str | Path) -> list[str]:
    """Names of the files that are missing, different, or extra (``*.json`` not generated)."""
    return drifted_files(folder, expected_files())


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m reseau_poles.schema_export [FOLDER]``; ``--check`` only compares."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    folder = Path(next((a for a in args if not a.startswith("-")), "schemas"))
    if check:
        drift = diff_schemas(folder)
        for name in drift:
            print(f"différent : {folder / name}")
        return 1 if drift else 0
    for path in write_schemas(folder):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
