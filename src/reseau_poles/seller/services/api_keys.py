"""A pôle's API keys: listed by prefix, created (shown once), revoked; who holds a key."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.storage import read_session, write_session

from ..repositories.api_keys import KEYS


class ApiKeys:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    @staticmethod
    def holder(session: Session, key: str) -> str | None:
        """The pôle a live key belongs to (``None``: unknown or revoked), in ``session``."""
        return KEYS.owner_of(session, key)

    def keys(self, provider_id: str) -> Sequence[RowMapping]:
        with read_session(self.factory) as session:
            return KEYS.list(session, provider_id)

    def create(self, provider_id: str, label: str | None) -> str:
        """A new key, returned once (only its hash is kept)."""
        with write_session(self.factory) as session:
            return KEYS.create(session, provider_id, label)

    def revoke(self, provider_id: str, prefix: str) -> bool:
        with write_session(self.factory) as session:
            return KEYS.revoke(session, provider_id, prefix)
