"""The sealed form of webhook secrets under hypothesis: any secret comes back from its sealed
value, nothing of it shows in clear past the shown prefix, and any damaged or foreign value is
refused with ``SecretUnreadable`` (never another exception); a damaged key file is named."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reseau_poles.participant.webhook_secrets import (
    KEY_FILE,
    SEALED,
    SecretCipher,
    SecretUnreadable,
    shown_prefix,
)
from reseau_poles.protocol.errors import KeyFormatError

CIPHER = SecretCipher(secrets.token_bytes(32))
OTHER = SecretCipher(secrets.token_bytes(32))


@given(st.text(min_size=1, max_size=128))
def test_any_secret_round_trips_and_stays_hidden(secret: str) -> None:
    stored = CIPHER.seal(secret, secret[:10])
    assert stored.startswith(SEALED)
    assert CIPHER.readable(stored) and CIPHER.open(stored) == secret
    assert shown_prefix(stored, 10) == secret[:10].replace(":", "")
    assert not OTHER.readable(stored)
    with pytest.raises(SecretUnreadable):
        OTHER.open(stored)


def test_a_new_secret_fits_the_column() -> None:
    secret = "whsec_" + secrets.token_urlsafe(32)
    assert len(CIPHER.seal(secret, secret[:10])) <= 255
    assert len(CIPHER.seal("x" * 128, "x" * 10)) <= 255  # the longest clear value of old


@given(st.text(max_size=200))
def test_damaged_values_are_refused_cleanly(tail: str) -> None:
    for stored in (SEALED + tail, f"{SEALED}{CIPHER.key_id}:{tail}"):
        with pytest.raises(SecretUnreadable):
            CIPHER.open(stored)
        shown_prefix(stored, 10)  # never raises


def test_a_damaged_key_file_is_named(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_text("pas une clé\n", "utf-8")
    with pytest.raises(KeyFormatError, match=KEY_FILE):
        SecretCipher.load_or_create(tmp_path)
    (tmp_path / KEY_FILE).unlink()
    made = SecretCipher.load_or_create(tmp_path)
    assert SecretCipher.load_or_create(tmp_path).key_id == made.key_id  # kept, not remade
