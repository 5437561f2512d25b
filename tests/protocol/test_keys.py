"""Key forms from every tool of the ecosystem and the sealed-box challenge (the key files:
``tests/test_keystore.py``)."""

from __future__ import annotations

import base64
import contextlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from hypothesis import given
from hypothesis import strategies as st

from reseau_poles.protocol import keys
from reseau_poles.protocol.errors import KeyFormatError

DER = serialization.Encoding.DER
RAW = serialization.Encoding.Raw


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_seed_and_libsodium_secret_key_give_the_same_pair():
    pair = keys.SigningKeyPair.generate()
    from_seed = keys.SigningKeyPair.from_private(b64(pair.seed))
    from_sodium = keys.SigningKeyPair.from_private(pair.private_key_b64)
    assert from_seed == from_sodium == pair
    assert len(base64.b64decode(pair.private_key_b64)) == 64


def test_libsodium_key_with_a_foreign_public_half_is_refused():
    one, two = keys.SigningKeyPair.generate(), keys.SigningKeyPair.generate()
    with pytest.raises(KeyFormatError, match="incohérente"):
        keys.SigningKeyPair.from_private(b64(one.seed + two.public_key))


def test_pkcs8_and_spki_der_ed25519_keys_are_accepted():
    private = ed25519.Ed25519PrivateKey.generate()
    der_private = private.private_bytes(
        DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    der_public = private.public_key().public_bytes(
        DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw_public = private.public_key().public_bytes(RAW, serialization.PublicFormat.Raw)
    pair = keys.SigningKeyPair.from_private(b64(der_private))
    assert pair.public_key == raw_public
    assert keys.decode_signing_public_key(b64(der_public)) == raw_public


def test_ondc_der_encryption_keys_are_accepted():
    private = x25519.X25519PrivateKey.generate()
    der_private = private.private_bytes(
        DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    der_public = private.public_key().public_bytes(
        DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw_public = private.public_key().public_bytes(RAW, serialization.PublicFormat.Raw)
    pair = keys.EncryptionKeyPair.from_private(b64(der_private))
    assert pair.public_key == raw_public
    assert keys.decode_encryption_public_key(b64(der_public)) == raw_public
    assert keys.decode_encryption_public_key(pair.public_key_der_b64) == raw_public


def test_an_ed25519_der_is_not_taken_for_an_x25519_key():
    private = ed25519.Ed25519PrivateKey.generate()
    der_public = private.public_key().public_bytes(
        DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(KeyFormatError):
        keys.decode_encryption_public_key(b64(der_public))


@pytest.mark.parametrize("text", ["", "   ", "pas du base64 !", b64(b"x" * 17), b64(b"y" * 63)])
def test_bad_private_keys_are_refused_clearly(text):
    with pytest.raises(KeyFormatError):
        keys.SigningKeyPair.from_private(text)


def test_url_safe_and_unpadded_base64_are_accepted():
    pair = keys.SigningKeyPair.generate()
    urlsafe = base64.urlsafe_b64encode(pair.public_key).decode().rstrip("=")
    assert keys.decode_signing_public_key(urlsafe) == pair.public_key


@given(st.text(min_size=1, max_size=200))
def test_sealed_challenge_round_trip(challenge):
    pair = keys.EncryptionKeyPair.from_private(bytes(range(32)))
    sealed = keys.seal_challenge(pair.public_key_b64, challenge)
    assert keys.open_challenge(pair, sealed) == challenge


def test_challenge_sealed_for_another_key_cannot_be_opened():
    sealed = keys.seal_challenge(keys.EncryptionKeyPair.generate().public_key, keys.new_challenge())
    with pytest.raises(KeyFormatError, match="défi"):
        keys.open_challenge(keys.EncryptionKeyPair.generate(), sealed)


def test_challenge_comparison():
    challenge = keys.new_challenge()
    assert len(challenge) >= 40
    assert keys.challenge_matches(challenge, challenge)
    assert not keys.challenge_matches(challenge, challenge[:-1])
    assert not keys.challenge_matches(challenge, None)
    assert not keys.challenge_matches(challenge, 42)


# --- ONDC's challenge scheme -------------------------------------------------------------------


def test_ondc_challenge_round_trip_matches_an_independent_x25519():
    registry, participant = keys.EncryptionKeyPair.generate(), keys.EncryptionKeyPair.generate()
    challenge = keys.new_challenge()
    encrypted = keys.ondc_encrypt_challenge(registry, participant.public_key_der_b64, challenge)
    assert len(base64.b64decode(encrypted)) == 48  # 43 bytes padded to three AES blocks
    assert (
        keys.ondc_open_challenge(participant, registry.public_key_der_b64, encrypted) == challenge
    )
    # The shared key is the raw X25519 secret, as `cryptography` computes it (ONDC's tools).
    mine = x25519.X25519PrivateKey.from_private_bytes(participant.private_key)
    theirs = x25519.X25519PublicKey.from_public_bytes(registry.public_key)
    assert keys.x25519_shared_key(participant.private_key, registry.public_key) == mine.exchange(
        theirs
    )
    # The PKCS#8 form reads back as the same pair.
    assert keys.EncryptionKeyPair.from_private(participant.private_key_der_b64) == participant
    with pytest.raises(KeyFormatError):
        keys.ondc_open_challenge(
            keys.EncryptionKeyPair.generate(), registry.public_key_b64, encrypted
        )


@given(st.text(max_size=200))
def test_opening_any_text_as_an_ondc_challenge_is_a_key_format_error_or_text(text):
    pair, registry = keys.EncryptionKeyPair.from_private(b"\x01" * 32), b"\x09" + b"\x00" * 31
    with contextlib.suppress(KeyFormatError):
        assert isinstance(keys.ondc_open_challenge(pair, registry, text), str)
