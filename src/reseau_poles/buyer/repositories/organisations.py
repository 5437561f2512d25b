"""The buyer node's organisations and their API keys (one or more per organisation; only a
key's hash is kept).

Functions take a SQLAlchemy session (from :func:`reseau_poles.storage.write_session` or
``read_session``); they never commit.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, RowMapping, insert, select, update
from sqlalchemy.orm import Session

from reseau_poles.node.api_keys import DISPLAY_PREFIX_LENGTH, hash_api_key, new_api_key
from reseau_poles.storage import utcnow

from ..tables import api_keys, organisations

KEY_PREFIX = "rpa_"

# --- organisations and API keys --------------------------------------------------------------


def add_organisation(session: Session, organisation_id: str, name: str) -> None:
    session.execute(
        insert(organisations).values(
            id=organisation_id, name=name, active=True, created_at=utcnow()
        )
    )


def get_organisation(session: Session, organisation_id: str) -> RowMapping | None:
    return (
        session.execute(select(organisations).where(organisations.c.id == organisation_id))
        .mappings()
        .first()
    )


def create_api_key(session: Session, organisation_id: str, label: str | None = None) -> str:
    """A new key for the organisation; returned once, only its hash is kept."""
    key = new_api_key(KEY_PREFIX)
    session.execute(
        insert(api_keys).values(
            organisation_id=organisation_id,
            prefix=key[:DISPLAY_PREFIX_LENGTH],
            key_hash=hash_api_key(key),
            label=label,
            created_at=utcnow(),
        )
    )
    return key


def organisation_for_api_key(session: Session, key: str) -> str | None:
    """The active organisation that holds this (unrevoked) key, or ``None``."""
    return session.execute(
        select(api_keys.c.organisation_id)
        .join(organisations, organisations.c.id == api_keys.c.organisation_id)
        .where(
            api_keys.c.key_hash == hash_api_key(key),
            api_keys.c.revoked_at.is_(None),
            organisations.c.active.is_(True),
        )
    ).scalar_one_or_none()


def revoke_api_key(session: Session, organisation_id: str, prefix: str) -> bool:
    result = cast(
        "CursorResult[Any]",
        session.execute(
            update(api_keys)
            .where(
                api_keys.c.organisation_id == organisation_id,
                api_keys.c.prefix == prefix,
                api_keys.c.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        ),
    )
    return bool(result.rowcount)
