"""Signing a body on behalf of one subscriber key."""

from __future__ import annotations

import base64
import time

from nacl.bindings import crypto_sign

from ..keys import SigningKeyPair
from .header import DEFAULT_TTL_SECONDS, build_header, digest, signing_string


class Signer:
    """Signs bodies on behalf of one subscriber key."""

    __slots__ = ("_secret", "default_ttl", "key_id", "subscriber_id")

    def __init__(
        self,
        subscriber_id: str,
        key_id: str,
        key: SigningKeyPair,
        *,
        default_ttl: int = DEFAULT_TTL_SECONDS,
    ) -> None:
        if "|" in subscriber_id or "|" in key_id:
            raise ValueError("subscriber_id et key_id ne peuvent contenir « | »")
        self.subscriber_id = subscriber_id
        self.key_id = key_id
        self._secret = key.secret_key
        self.default_ttl = default_ttl

    def sign(
        self,
        body: bytes,
        *,
        created: int | None = None,
        expires: int | None = None,
        ttl: int | None = None,
    ) -> str:
        """The header value for ``body``. ``expires`` defaults to ``created + ttl``."""
        if created is None:
            created = int(time.time())
        if expires is None:
            expires = created + (self.default_ttl if ttl is None else ttl)
        text = signing_string(created, expires, digest(body)).encode("ascii")
        signature = base64.b64encode(crypto_sign(text, self._secret)[:64]).decode("ascii")
        return build_header(
            self.subscriber_id, self.key_id, signature, created=created, expires=expires
        )
