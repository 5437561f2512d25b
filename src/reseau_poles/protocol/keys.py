"""Key pairs and the registry's sealed-box challenge. No network and no file: the folder that
keeps a subscriber's keys is :class:`reseau_poles.keystore.KeyFiles`.

Forms accepted (PROTOCOL.md, "Working with existing Beckn tools"):

* Ed25519 private keys as the 32-byte seed (beckn-onix) or the 64-byte libsodium secret key
  (beckn protocol-server, ONDC tools), or a PKCS#8 DER; public keys as raw 32 bytes or SPKI DER.
* X25519 keys as raw 32 bytes, or ONDC's DER forms (SPKI for public, PKCS#8 for private).

All of them in standard base64 (url-safe base64 is accepted too, since some tools write it).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from nacl.bindings import crypto_scalarmult, crypto_sign_seed_keypair
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from .errors import KeyFormatError

# DER prefixes of the fixed-size forms (RFC 8410); anything longer goes through `cryptography`.
_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
_X25519_SPKI_PREFIX = bytes.fromhex("302a300506032b656e032100")
_ED25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")
_X25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b656e04220420")


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def b64decode(text: str | bytes) -> bytes:
    """Standard or url-safe base64, padding optional, surrounding whitespace ignored."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise KeyFormatError("la clé n'est pas du texte base64") from None
    cleaned = "".join(text.split())
    if not cleaned:
        raise KeyFormatError("clé vide")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        if "-" in cleaned or "_" in cleaned:
            return base64.urlsafe_b64decode(cleaned)
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError("la clé n'est pas du base64 valide") from None


def _raw_from_der_public(raw: bytes, prefix: bytes, kind: str) -> bytes:
    if raw.startswith(prefix) and len(raw) == len(prefix) + 32:
        return raw[len(prefix) :]
    raise KeyFormatError(f"DER de clé publique {kind} non reconnu ({len(raw)} octets)")


def _raw_from_der_private(raw: bytes, prefix: bytes, kind: str) -> bytes:
    if raw.startswith(prefix) and len(raw) >= len(prefix) + 32:
        return raw[len(prefix) : len(prefix) + 32]
    # PKCS#8 v2 (with the public key attached) and other encodings: let `cryptography` decide.
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

        key = serialization.load_der_private_key(raw, password=None)
    except Exception:  # any parsing failure is a format error for the user
        raise KeyFormatError(f"DER de clé privée {kind} non reconnu ({len(raw)} octets)") from None
    expected = ed25519.Ed25519PrivateKey if kind == "Ed25519" else x25519.X25519PrivateKey
    if not isinstance(key, expected):
        raise KeyFormatError(f"la clé DER n'est pas une clé {kind}")
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def decode_signing_public_key(value: bytes | str) -> bytes:
    """Raw 32-byte Ed25519 public key from raw bytes, base64, or base64 SPKI DER."""
    raw = value if isinstance(value, bytes) and len(value) == 32 else b64decode(value)
    if len(raw) == 32:
        return raw
    return _raw_from_der_public(raw, _ED25519_SPKI_PREFIX, "Ed25519")


def decode_encryption_public_key(value: bytes | str) -> bytes:
    """Raw 32-byte X25519 public key from raw bytes, base64, or base64 SPKI DER (ONDC)."""
    raw = value if isinstance(value, bytes) and len(value) == 32 else b64decode(value)
    if len(raw) == 32:
        return raw
    return _raw_from_der_public(raw, _X25519_SPKI_PREFIX, "X25519")


@dataclass(frozen=True, slots=True)
class SigningKeyPair:
    """An Ed25519 key pair. ``secret_key`` is libsodium's 64-byte form (seed + public key)."""

    seed: bytes
    public_key: bytes

    @classmethod
    def generate(cls) -> SigningKeyPair:
        return cls.from_seed(secrets.token_bytes(32))

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKeyPair:
        if len(seed) != 32:
            raise KeyFormatError(f"une graine Ed25519 fait 32 octets, reçu {len(seed)}")
        public, _ = crypto_sign_seed_keypair(seed)
        return cls(seed=seed, public_key=public)

    @classmethod
    def from_private(cls, value: bytes | str) -> SigningKeyPair:
        """From the 32-byte seed, the 64-byte libsodium secret key, or PKCS#8 DER (base64 or raw)."""
        raw = value if isinstance(value, bytes) and len(value) in (32, 64) else b64decode(value)
        if len(raw) == 32:
            return cls.from_seed(raw)
        if len(raw) == 64:
            pair = cls.from_seed(raw[:32])
            if pair.public_key != raw[32:]:
                raise KeyFormatError(
                    "clé secrète de 64 octets incohérente : sa seconde moitié n'est pas la clé "
                    "publique de sa graine"
                )
            return pair
        return cls.from_seed(_raw_from_der_private(raw, _ED25519_PKCS8_PREFIX, "Ed25519"))

    @property
    def secret_key(self) -> bytes:
        return self.seed + self.public_key

    @property
    def public_key_b64(self) -> str:
        return b64encode(self.public_key)

    @property
    def private_key_b64(self) -> str:
        """The 64-byte libsodium form, which beckn protocol-server and ONDC tools read."""
        return b64encode(self.secret_key)


@dataclass(frozen=True, slots=True)
class EncryptionKeyPair:
    """An X25519 key pair, used by the registry to seal its challenge."""

    private_key: bytes
    public_key: bytes

    @classmethod
    def generate(cls) -> EncryptionKeyPair:
        key = PrivateKey.generate()
        return cls(private_key=bytes(key), public_key=bytes(key.public_key))

    @classmethod
    def from_private(cls, value: bytes | str) -> EncryptionKeyPair:
        """From the raw 32-byte private key or ONDC's PKCS#8 DER (base64 or raw)."""
        raw = value if isinstance(value, bytes) and len(value) == 32 else b64decode(value)
        if len(raw) != 32:
            raw = _raw_from_der_private(raw, _X25519_PKCS8_PREFIX, "X25519")
        key = PrivateKey(raw)
        return cls(private_key=raw, public_key=bytes(key.public_key))

    @property
    def public_key_b64(self) -> str:
        return b64encode(self.public_key)

    @property
    def public_key_der_b64(self) -> str:
        """The SPKI DER form that ONDC's registry shows."""
        return b64encode(_X25519_SPKI_PREFIX + self.public_key)

    @property
    def private_key_b64(self) -> str:
        return b64encode(self.private_key)

    @property
    def private_key_der_b64(self) -> str:
        """The PKCS#8 DER form that ONDC's tools read (``MC4CAQAwBQYDK2VuBCIEI…``)."""
        return b64encode(_X25519_PKCS8_PREFIX + self.private_key)


# --- the registry's challenge -----------------------------------------------------------------


def new_challenge() -> str:
    """A fresh random challenge: 32 bytes, url-safe text."""
    return secrets.token_urlsafe(32)


def seal_challenge(encryption_public_key: bytes | str, challenge: str) -> str:
    """Seal ``challenge`` to the participant's X25519 key (libsodium sealed box), base64."""
    box = SealedBox(PublicKey(decode_encryption_public_key(encryption_public_key)))
    return b64encode(box.encrypt(challenge.encode("utf-8")))


def open_challenge(keys: EncryptionKeyPair, sealed: str) -> str:
    """The participant's side: open the sealed challenge with its private key."""
    try:
        plain = SealedBox(PrivateKey(keys.private_key)).decrypt(b64decode(sealed))
    except CryptoError:
        raise KeyFormatError(
            "impossible d'ouvrir le défi : il n'a pas été scellé pour cette clé de chiffrement"
        ) from None
    return plain.decode("utf-8")


class ChallengeScheme(StrEnum):
    """How the registry encrypts its challenge (registry/README.md, "Le contrat /on_subscribe").

    ``sealed_box``: a libsodium sealed box (``crypto_box_seal``) to the participant's X25519
    ``encr_public_key``. ``ondc``: ONDC's scheme, AES-256-ECB with PKCS#7 padding under the raw
    X25519 shared secret of the registry's encryption key and the participant's."""

    SEALED_BOX = "sealed_box"
    ONDC = "ondc"


def x25519_shared_key(private_key: bytes, peer_public_key: bytes | str) -> bytes:
    """The raw 32-byte X25519 shared secret (no key derivation: ONDC uses it as is)."""
    try:
        return crypto_scalarmult(private_key, decode_encryption_public_key(peer_public_key))
    except (CryptoError, RuntimeError, ValueError):  # a low-order point gives all zeros
        raise KeyFormatError("clé publique X25519 inutilisable pour un échange") from None


def ondc_encrypt_challenge(
    registry_keys: EncryptionKeyPair, participant_public_key: bytes | str, challenge: str
) -> str:
    """ONDC's challenge: base64 of AES-256-ECB (PKCS#7) under the X25519 shared secret."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = x25519_shared_key(registry_keys.private_key, participant_public_key)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(challenge.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(
        algorithms.AES(key), modes.ECB()
    ).encryptor()  # ECB: ONDC's scheme, one random block
    return b64encode(encryptor.update(plain) + encryptor.finalize())


def ondc_open_challenge(
    keys: EncryptionKeyPair, registry_public_key: bytes | str, encrypted: str
) -> str:
    """The participant's side of ONDC's scheme: the shared secret with the registry's public
    key, then AES-256-ECB and PKCS#7 removed. ``KeyFormatError`` when it does not open."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    raw = b64decode(encrypted)
    if not raw or len(raw) % 16:
        raise KeyFormatError("défi ONDC illisible : un multiple de 16 octets est attendu")
    key = x25519_shared_key(keys.private_key, registry_public_key)
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    padded = decryptor.update(raw) + decryptor.finalize()
    try:
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise KeyFormatError(
            "impossible d'ouvrir le défi ONDC : autre clé (la nôtre ou celle du registre)"
        ) from None


def challenge_matches(expected: str, answer: object) -> bool:
    """Constant-time comparison of the registry's challenge and the participant's answer."""
    if not isinstance(answer, str):
        return False
    return secrets.compare_digest(expected.encode("utf-8"), answer.encode("utf-8"))


# --- a subscriber's identity --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriberKeys:
    """A subscriber's identity on the network: ids and both key pairs."""

    subscriber_id: str
    key_id: str
    signing: SigningKeyPair
    encryption: EncryptionKeyPair
    created: datetime

    @classmethod
    def generate(cls, subscriber_id: str, key_id: str | None = None) -> SubscriberKeys:
        return cls(
            subscriber_id=subscriber_id,
            key_id=key_id or str(uuid.uuid4()),
            signing=SigningKeyPair.generate(),
            encryption=EncryptionKeyPair.generate(),
            created=datetime.now(UTC).replace(microsecond=0),
        )

    def public_record(self) -> dict[str, str]:
        return {
            "subscriber_id": self.subscriber_id,
            "key_id": self.key_id,
            "signing_public_key": self.signing.public_key_b64,
            "encr_public_key": self.encryption.public_key_b64,
            "created": self.created.isoformat().replace("+00:00", "Z"),
        }
