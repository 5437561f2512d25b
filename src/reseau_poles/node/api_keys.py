"""API keys of the client and management APIs: random, shown once, kept only as a hash.

A key is ``<prefix><43 url-safe characters>`` (256 bits); its first 12 characters are kept in
clear so a person can tell their keys apart and revoke one. SHA-256 is enough for a secret of
this entropy (no dictionary to slow down), and lets the lookup be one indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets

DISPLAY_PREFIX_LENGTH = 12


def new_api_key(prefix: str) -> str:
    """A fresh key, e.g. ``rpv_…`` for a pôle or ``rpa_…`` for a buyer organisation."""
    return prefix + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
