"""API keys of the client and management APIs: random, shown once, kept only as a hash.

A key is ``<prefix><43 url-safe characters>`` (256 bits); its first 12 characters are kept in
clear so a person can tell their keys apart and revoke one. SHA-256 is enough for a secret of
this entropy (no dictionary to slow down), and lets the lookup be one indexed equality.

:class:`ApiKeyStore` is the SQL of a node's keys, the same for every holder (a pôle, an
organisation).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from reseau_poles.storage import utcnow

DISPLAY_PREFIX_LENGTH = 12


def new_api_key(prefix: str) -> str:
    """A fresh key, e.g. ``rpv_…`` for a pôle or ``rpa_…`` for a buyer organisation."""
    return prefix + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeyStore:
    """The SQL of one node's API keys (a table such as ``seller_api_keys`` or
    ``buyer_api_keys``): ``owner`` is its holder column (``provider_id``,
    ``organisation_id``); ``live``, a condition the holder must meet for its keys to open the
    API (an active organisation), joined through ``join``. Sessions from
    :func:`reseau_poles.storage.write_session` or ``read_session``; nothing is committed."""

    def __init__(
        self,
        table: sa.Table,
        owner: sa.Column[str],
        key_prefix: str,
        *,
        join: tuple[sa.Table, sa.ColumnElement[bool]] | None = None,
        live: sa.ColumnElement[bool] | None = None,
    ) -> None:
        self.table = table
        self.owner = owner
        self.key_prefix = key_prefix
        self.join = join
        self.live = live

    def create(self, session: Session, owner_id: str, label: str | None = None) -> str:
        """A new key for the holder; returned once, only its hash is kept."""
        key = new_api_key(self.key_prefix)
        session.execute(
            sa.insert(self.table).values(
                {
                    self.owner.name: owner_id,
                    "prefix": key[:DISPLAY_PREFIX_LENGTH],
                    "key_hash": hash_api_key(key),
                    "label": label,
                    "created_at": utcnow(),
                }
            )
        )
        return key

    def owner_of(self, session: Session, key: str) -> str | None:
        """The holder of a live key (``None``: unknown, revoked, or a holder not live)."""
        c = self.table.c
        query = sa.select(self.owner).where(c.key_hash == hash_api_key(key), c.revoked_at.is_(None))
        if self.join is not None:
            query = query.join(*self.join)
        if self.live is not None:
            query = query.where(self.live)
        return session.execute(query).scalar_one_or_none()

    def list(self, session: Session, owner_id: str) -> Sequence[sa.RowMapping]:
        """The holder's keys, oldest first: prefix, label, created_at, revoked_at."""
        c = self.table.c
        return (
            session.execute(
                sa.select(c.prefix, c.label, c.created_at, c.revoked_at)
                .where(self.owner == owner_id)
                .order_by(c.id)
            )
            .mappings()
            .all()
        )

    def revoke(self, session: Session, owner_id: str, prefix: str) -> bool:
        """Revoke the holder's live key of this prefix; ``False`` if there is none."""
        c = self.table.c
        result = session.execute(
            sa.update(self.table)
            .where(self.owner == owner_id, c.prefix == prefix, c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return bool(getattr(result, "rowcount", 0))
