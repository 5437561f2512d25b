"""A pôle's API keys: listed by prefix, created (shown once), revoked; who holds a key."""

from __future__ import annotations

from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.storage import read_session, write_session

from ..repositories import api_keys as key_repo


class ApiKeys:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    @staticmethod
    def holder(session: Session, key: str) -> str | None:
        """The pôle a live key belongs to (``None``: unknown or revoked), in ``session``."""
        return key_repo.provider_for_api_key(session, key)

    def keys(self, provider_id: str) -> list[RowMapping]:
        with read_session(self.factory) as session:
            return key_repo.list_api_keys(session, provider_id)

    def create(self, provider_id: str, label: str | None) -> str:
        """A new key, returned once (only its hash is kept)."""
        with write_session(self.factory) as session:
            return key_repo.create_api_key(session, provider_id, label)

    def revoke(self, provider_id: str, prefix: str) -> bool:
        with write_session(self.factory) as session:
            return key_repo.revoke_api_key(session, prefix, provider_id)
