"""The folder that keeps a subscriber's keys on disk: :class:`KeyFiles`, and
:func:`read_private_key_file` for a lone signing key handed to the CLI.

The keys themselves (decoding, generation, the registry's challenge) are
:mod:`reseau_poles.protocol.keys`, which does no I/O.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from .files import open_private, private_folder, tighten
from .protocol.errors import KeyFormatError
from .protocol.keys import EncryptionKeyPair, SigningKeyPair, SubscriberKeys

__all__ = ["KeyFiles", "read_private_key_file"]


class KeyFiles:
    """A folder holding one subscriber's keys, one base64 value per file.

    Every file is written mode 0600 and the folder made 0700, whatever the umask
    (:mod:`reseau_poles.files`); ``keys.json`` holds the public record (ids and public keys),
    to send to the registry's operator. The node keeps other secrets beside them (the webhook
    secrets' key, ``webhook-secrets.key``): back the folder up whole.
    """

    SIGNING_PRIVATE = "signing_private_key"
    SIGNING_PUBLIC = "signing_public_key"
    ENCRYPTION_PRIVATE = "encryption_private_key"
    ENCRYPTION_PUBLIC = "encryption_public_key"
    RECORD = "keys.json"

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def exists(self) -> bool:
        return (self.folder / self.RECORD).is_file()

    def write(self, keys: SubscriberKeys, *, overwrite: bool = False) -> None:
        if self.exists() and not overwrite:
            raise FileExistsError(f"{self.folder} contient déjà des clés (keys.json)")
        private_folder(self.folder)
        self._write(self.SIGNING_PRIVATE, keys.signing.private_key_b64)
        self._write(self.ENCRYPTION_PRIVATE, keys.encryption.private_key_b64)
        self._write(self.SIGNING_PUBLIC, keys.signing.public_key_b64)
        self._write(self.ENCRYPTION_PUBLIC, keys.encryption.public_key_b64)
        self._write(self.RECORD, json.dumps(keys.public_record(), indent=2, ensure_ascii=False))

    def read(self) -> SubscriberKeys:
        for name in (self.SIGNING_PRIVATE, self.ENCRYPTION_PRIVATE):
            tighten(self.folder / name)  # written readable by others by an earlier version
        try:
            record = json.loads((self.folder / self.RECORD).read_text("utf-8"))
            signing = SigningKeyPair.from_private(
                (self.folder / self.SIGNING_PRIVATE).read_text("ascii")
            )
            encryption = EncryptionKeyPair.from_private(
                (self.folder / self.ENCRYPTION_PRIVATE).read_text("ascii")
            )
        except FileNotFoundError as exc:
            raise KeyFormatError(f"fichier de clé manquant : {exc.filename}") from None
        except (ValueError, KeyError) as exc:
            raise KeyFormatError(
                f"fichiers de clés illisibles dans {self.folder} : {exc}"
            ) from None
        if record.get("signing_public_key") not in (None, signing.public_key_b64):
            raise KeyFormatError("keys.json ne correspond pas à la clé privée de signature")
        created = record.get("created")
        return SubscriberKeys(
            subscriber_id=record["subscriber_id"],
            key_id=record["key_id"],
            signing=signing,
            encryption=encryption,
            created=datetime.fromisoformat(created) if created else datetime.now(UTC),
        )

    def load_or_generate(self, subscriber_id: str) -> SubscriberKeys:
        """Reuse the folder's keys, or create them at first run."""
        if self.exists():
            keys = self.read()
            if keys.subscriber_id != subscriber_id:
                raise KeyFormatError(
                    f"{self.folder} contient les clés de {keys.subscriber_id!r}, pas de {subscriber_id!r}"
                )
            return keys
        keys = SubscriberKeys.generate(subscriber_id)
        self.write(keys)
        return keys

    def _write(self, name: str, text: str) -> None:
        path = self.folder / name
        tmp = path.with_suffix(".tmp")
        # A leftover .tmp keeps its mode through O_CREAT: open_private sets 0600 on it anyway.
        with open_private(tmp, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        os.replace(tmp, path)


def read_private_key_file(path: str | os.PathLike[str]) -> SigningKeyPair:
    """A signing private key from a file holding base64 (seed, libsodium 64-byte, or PKCS#8)."""
    try:
        text = Path(path).read_text("ascii")
    except FileNotFoundError:
        raise KeyFormatError(f"fichier introuvable : {path}") from None
    except UnicodeDecodeError:
        raise KeyFormatError(f"{path} ne contient pas du base64") from None
    return SigningKeyPair.from_private(text)
