"""What a role writes on disk is its own user's only: SQLite databases and their -wal/-shm,
transcripts, key files (and the webhook secrets' key) are 0600, the folders made for them
0700, whatever the umask (run in a child process, where the umask can be set); files of an
earlier version left readable by others are tightened when opened, and it is logged."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from reseau_poles.keystore import KeyFiles
from reseau_poles.network.transcript import Transcript
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.storage import make_engine

_CHILD = r"""
import json, os, stat, sys
from pathlib import Path

os.umask(int(sys.argv[2], 8))
from sqlalchemy import text

from reseau_poles.network.transcript import Transcript
from reseau_poles.participant.webhook_secrets import SecretCipher
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.keystore import KeyFiles
from reseau_poles.storage import make_engine

root = Path(sys.argv[1])
modes = {}

def note(path):
    modes[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)

database = root / "data" / "noeud" / "vendeur.sqlite"
engine = make_engine(f"sqlite:///{database}")
with engine.begin() as connection:
    connection.execute(text("CREATE TABLE contacts (id INTEGER PRIMARY KEY, courriel TEXT)"))
    connection.execute(text("INSERT INTO contacts (courriel) VALUES ('factures@pole.example')"))
with engine.connect() as connection:  # open: the -wal and -shm files exist
    connection.execute(text("SELECT count(*) FROM contacts")).scalar()
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        note(path)
engine.dispose()
note(root / "data")
note(root / "data" / "noeud")

transcript = Transcript(root / "journaux" / "echanges.jsonl")
transcript.record(action="search", direction="out")
transcript.close()
note(root / "journaux")
note(root / "journaux" / "echanges.jsonl")

keys = root / "cles" / "vendeur"
KeyFiles(keys).write(SubscriberKeys.generate("vendeur.example"))
SecretCipher.load_or_create(keys)
note(root / "cles")
for path in [keys, *keys.iterdir()]:
    note(path)
print(json.dumps(modes))
"""


@pytest.mark.parametrize("umask", ["022", "000"])
def test_files_are_private_whatever_the_umask(tmp_path: Path, umask: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path), umask],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modes = json.loads(done.stdout.strip().splitlines()[-1])
    expected = {
        "data/noeud/vendeur.sqlite-wal",
        "data/noeud/vendeur.sqlite-shm",
        "cles/vendeur/webhook-secrets.key",
        "cles/vendeur/signing_private_key",
        "cles/vendeur/keys.json",
    }
    assert expected <= set(modes)
    wrong = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (tmp_path / name).is_dir() else 0o600)
    }
    assert not wrong, f"umask {umask}: {wrong}"


def test_loose_files_of_an_earlier_version_are_tightened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "ancien.sqlite"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    journal = tmp_path / "echanges.jsonl"
    journal.write_text("", "utf-8")
    for path in (database, journal):
        os.chmod(path, 0o644)

    with caplog.at_level(logging.WARNING, logger="reseau_poles.files"):
        engine = make_engine(f"sqlite:///{database}")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0
            wal = Path(f"{database}-wal")
            assert stat.S_IMODE(wal.stat().st_mode) == 0o600  # follows the database file
        engine.dispose()
        Transcript(journal).close()
    for path in (database, journal):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    tightened = [r.getMessage() for r in caplog.records if "resserrées" in r.getMessage()]
    assert len(tightened) == 2 and "644 → 600" in tightened[0]


def test_an_existing_shared_folder_is_left_alone(tmp_path: Path) -> None:
    shared = tmp_path / "partage"
    shared.mkdir()
    os.chmod(shared, 0o755)
    engine = make_engine(f"sqlite:///{shared / 'noeud.sqlite'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # the administrator's choice
    assert stat.S_IMODE((shared / "noeud.sqlite").stat().st_mode) == 0o600


def test_loose_private_keys_are_tightened_when_read(tmp_path: Path) -> None:
    files = KeyFiles(tmp_path / "cles")
    files.write(SubscriberKeys.generate("vendeur.example"))
    private = tmp_path / "cles" / KeyFiles.SIGNING_PRIVATE
    os.chmod(private, 0o644)
    assert files.read().subscriber_id == "vendeur.example"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
