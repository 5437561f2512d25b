"""Private files and folders: what a role writes on disk is readable by its own user only.

A node's files hold what must not leak to the other accounts of the machine: the SQLite
database (webhook secrets, API key hashes, billing contacts, signed transcripts), the JSONL
transcripts, the private keys. Whatever the process umask (``022`` on most systems, sometimes
``000``), a file made here is ``0600`` and a folder ``0700``.

Existing files are tightened when a role opens them (a database or a transcript made ``0644``
by an earlier version): group and other bits are removed and a warning says so. Existing
folders are left as they are: the folder of a database may be a shared one (the current
directory, ``/var/lib``), which is the administrator's choice; only the folders made here are
``0700``.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: str | os.PathLike[str]) -> Path:
    """``path`` as a folder; the missing ones on the way are made ``0700`` (existing ones
    are not changed)."""
    folder = Path(path).expanduser()
    missing: list[Path] = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for part in reversed(missing):
        try:
            part.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # made by another process meanwhile
            continue
        os.chmod(part, FOLDER_MODE)  # mkdir's mode is cut by the umask; this is not
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} n'est pas un dossier")
    return folder


def tighten(path: str | os.PathLike[str]) -> bool:
    """Remove the group and other bits of an existing file; ``True`` if it had any (logged)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return False
    if not mode & 0o077:
        return False
    os.chmod(path, mode & 0o700)
    log.warning(
        "permissions resserrées sur %s : %o → %o (lisible par son seul propriétaire)",
        path,
        mode,
        mode & 0o700,
    )
    return True


def private_file(path: str | os.PathLike[str]) -> Path:
    """Make ``path`` (empty, ``0600``) if missing, in a private folder; tighten it otherwise."""
    file = Path(path).expanduser()
    private_folder(file.parent)
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        tighten(file)
        return file
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return file


def open_private(path: str | os.PathLike[str], mode: str = "a", **kwargs: Any) -> IO[Any]:
    """``open(path, mode)`` for writing (``w``, ``a``, ``x``, text or binary), the file made
    ``0600`` if new and tightened if it exists."""
    file = Path(path).expanduser()
    private_folder(file.parent)
    flags = os.O_WRONLY | os.O_CREAT
    if "a" in mode:
        flags |= os.O_APPEND
    elif "x" in mode:
        flags |= os.O_EXCL
    else:
        flags |= os.O_TRUNC
    tighten(file)
    fd = os.open(file, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, mode.replace("x", "w"), **kwargs)
    except BaseException:
        os.close(fd)
        raise
