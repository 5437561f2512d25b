"""Webhook secrets at rest: encrypted with a key kept beside the node's private keys.

The signing secret of a webhook subscription (:mod:`reseau_poles.participant.webhooks`) must be
readable by the node (it signs every delivery with it) but not by whoever reads the database
(a backup, a copy of the SQLite file, a PostgreSQL dump). It is stored sealed::

    rpsb1:<key id>:<shown prefix>:<base64 of nonce + XSalsa20-Poly1305 ciphertext>

``rpsb1`` is the version of the form; the key id (8 hex digits of a BLAKE2b hash of the key)
says which key sealed it, so a secret sealed by another key is known unreadable without trying;
the shown prefix (``whsec_`` and 4 characters) is what the API lists to tell subscriptions
apart. The key (32 random bytes, base64) is ``webhook-secrets.key`` in the node's ``key_dir``,
mode 0600, made at the first start. It must be backed up with the private keys: without it,
the secrets are lost (the subscriptions are then listed as ``needs_new_secret`` and their
deliveries fail with ``secret_illisible``; the owner subscribes again).

A value without the ``rpsb1:`` marker is a clear secret stored by an earlier version: the node
seals every such value at start (:meth:`Webhooks.install`), idempotently.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path
from typing import Final

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from reseau_poles.files import open_private, tighten
from reseau_poles.protocol.errors import KeyFormatError
from reseau_poles.protocol.keys import b64decode, b64encode

log = logging.getLogger(__name__)

KEY_FILE: Final = "webhook-secrets.key"
SEALED: Final = "rpsb1:"


class SecretUnreadable(Exception):
    """A stored secret this node's key cannot open (lost or changed key, damaged value)."""


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED)


def shown_prefix(stored: str, length: int) -> str:
    """What the API shows of a stored secret: its first ``length`` characters."""
    if is_sealed(stored):
        return stored[len(SEALED) :].split(":", 2)[1] if stored.count(":") >= 3 else ""
    return stored[:length]


class SecretCipher:
    """Seals and opens webhook secrets with one 32-byte key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != SecretBox.KEY_SIZE:
            raise KeyFormatError(f"une clé de secrets fait 32 octets, reçu {len(key)}")
        self._box = SecretBox(key)
        self.key_id = hashlib.blake2b(key, digest_size=4).hexdigest()

    @classmethod
    def load_or_create(cls, key_dir: str | os.PathLike[str]) -> SecretCipher:
        """The key of ``key_dir/webhook-secrets.key``, made (0600) if the file is missing."""
        path = Path(key_dir) / KEY_FILE
        try:
            with open_private(path, "x", encoding="ascii") as handle:
                handle.write(b64encode(secrets.token_bytes(SecretBox.KEY_SIZE)) + "\n")
            log.info(
                "clé des secrets de webhooks créée : %s (à sauvegarder avec les clés privées)",
                path,
            )
        except FileExistsError:
            tighten(path)
        try:
            return cls(b64decode(path.read_text("ascii")))
        except (KeyFormatError, UnicodeDecodeError) as exc:
            raise KeyFormatError(
                f"clé des secrets de webhooks illisible ({path}) : {exc}. Remettez la copie "
                "sauvegardée avec les clés privées ; sinon supprimez ce fichier (une clé neuve "
                "sera créée) et faites recréer les abonnements webhook."
            ) from None

    def seal(self, secret: str, shown: str) -> str:
        """The stored form of ``secret``; ``shown`` is the part the API may list."""
        shown = shown.replace(":", "")
        sealed = b64encode(bytes(self._box.encrypt(secret.encode("utf-8"))))
        return f"{SEALED}{self.key_id}:{shown}:{sealed}"

    def readable(self, stored: str) -> bool:
        """Whether :meth:`open` can be expected to work (clear, or sealed by this key)."""
        return not is_sealed(stored) or stored[len(SEALED) :].startswith(self.key_id + ":")

    def open(self, stored: str) -> str:
        """The secret of a stored value (a clear one is returned as it is), or
        :class:`SecretUnreadable`."""
        if not is_sealed(stored):
            return stored
        parts = stored[len(SEALED) :].split(":", 2)
        if len(parts) != 3:
            raise SecretUnreadable("secret scellé mal formé")
        key_id, _shown, sealed = parts
        if key_id != self.key_id:
            raise SecretUnreadable(
                f"secret scellé par une autre clé ({key_id}, clé actuelle {self.key_id})"
            )
        try:
            return self._box.decrypt(b64decode(sealed)).decode("utf-8")
        except (CryptoError, KeyFormatError, UnicodeDecodeError):
            raise SecretUnreadable("secret scellé endommagé") from None
