"""A pôle's profile, as its management API reads and replaces it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.storage import read_session, write_session

from ..repositories import providers as provider_repo
from ..requests import ProviderIn


class ProviderProfiles:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def profile(self, provider_id: str) -> Mapping[str, Any] | None:
        """The pôle's row, active or not."""
        with read_session(self.factory) as session:
            return provider_repo.provider(session, provider_id)

    def replace(self, profile: ProviderIn) -> Mapping[str, Any]:
        """Create or replace the whole profile; the row as stored."""
        with write_session(self.factory) as session:
            provider_repo.save_provider(session, profile)
            row = provider_repo.provider(session, profile.id)
            assert row is not None
            return row
