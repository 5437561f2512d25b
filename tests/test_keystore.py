"""The key folder: files written 0600, read back, reused, and refused when they do not match."""

from __future__ import annotations

import stat

import pytest

from reseau_poles.keystore import KeyFiles
from reseau_poles.protocol import keys
from reseau_poles.protocol.errors import KeyFormatError


def test_key_files_write_read_and_protect_private_keys(tmp_path):
    folder = tmp_path / "cles"
    generated = keys.SubscriberKeys.generate("marche-quebec.example")
    files = KeyFiles(folder)
    files.write(generated)
    for name in (files.SIGNING_PRIVATE, files.ENCRYPTION_PRIVATE):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    read = files.read()
    assert read.signing == generated.signing
    assert read.encryption == generated.encryption
    assert (read.subscriber_id, read.key_id) == ("marche-quebec.example", generated.key_id)
    with pytest.raises(FileExistsError):
        files.write(keys.SubscriberKeys.generate("marche-quebec.example"))


def test_load_or_generate_reuses_keys(tmp_path):
    files = KeyFiles(tmp_path)
    first = files.load_or_generate("pole-estrie.example")
    assert files.load_or_generate("pole-estrie.example").signing == first.signing
    with pytest.raises(KeyFormatError, match="pole-estrie"):
        files.load_or_generate("autre.example")


def test_missing_or_mismatched_key_files(tmp_path):
    files = KeyFiles(tmp_path)
    files.write(keys.SubscriberKeys.generate("a.example"))
    (tmp_path / files.SIGNING_PRIVATE).write_text(keys.SigningKeyPair.generate().private_key_b64)
    with pytest.raises(KeyFormatError, match=r"keys\.json"):
        files.read()
    (tmp_path / files.ENCRYPTION_PRIVATE).unlink()
    with pytest.raises(KeyFormatError, match="manquant"):
        files.read()
