"""A pôle's API keys: only their hash is kept, shown by prefix."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from reseau_poles.participant.api_keys import DISPLAY_PREFIX_LENGTH, hash_api_key, new_api_key
from reseau_poles.storage import utcnow

from ..tables import (
    api_keys,
)

API_KEY_PREFIX = "rpv_"


def create_api_key(session: Session, provider_id: str, label: str | None = None) -> str:
    """A new key for the provider; returned once, only its hash is kept."""
    key = new_api_key(API_KEY_PREFIX)
    session.execute(
        insert(api_keys).values(
            provider_id=provider_id,
            prefix=key[:DISPLAY_PREFIX_LENGTH],
            key_hash=hash_api_key(key),
            label=label,
            created_at=utcnow(),
        )
    )
    return key


def provider_for_api_key(session: Session, key: str) -> str | None:
    """The provider a live key belongs to (``None`` for an unknown or revoked key)."""
    return session.execute(
        select(api_keys.c.provider_id).where(
            api_keys.c.key_hash == hash_api_key(key), api_keys.c.revoked_at.is_(None)
        )
    ).scalar_one_or_none()


def revoke_api_key(session: Session, prefix: str, provider_id: str) -> bool:
    result = session.execute(
        update(api_keys)
        .where(
            api_keys.c.prefix == prefix,
            api_keys.c.provider_id == provider_id,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return result.rowcount > 0


def list_api_keys(session: Session, provider_id: str) -> list[RowMapping]:
    return list(
        session.execute(
            select(
                api_keys.c.prefix, api_keys.c.label, api_keys.c.created_at, api_keys.c.revoked_at
            )
            .where(api_keys.c.provider_id == provider_id)
            .order_by(api_keys.c.id)
        ).mappings()
    )
