"""The buyer node's organisations and their API keys (one or more per organisation; only a
key's hash is kept).

Functions take a SQLAlchemy session (from :func:`reseau_poles.storage.write_session` or
``read_session``); they never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from reseau_poles.participant.api_keys import ApiKeyStore
from reseau_poles.storage import first_row, utcnow

from ..tables import api_keys, organisations

KEY_PREFIX = "rpa_"

# --- organisations and API keys --------------------------------------------------------------


def add_organisation(session: Session, organisation_id: str, name: str) -> None:
    session.execute(
        insert(organisations).values(
            id=organisation_id, name=name, active=True, created_at=utcnow()
        )
    )


def get_organisation(session: Session, organisation_id: str) -> Mapping[str, Any] | None:
    return first_row(
        session.execute(select(organisations).where(organisations.c.id == organisation_id))
    )


def requires_approval(session: Session, organisation_id: str) -> bool:
    """Whether the organisation's carts need an approver's approval before they are ordered."""
    return bool(
        session.scalar(
            select(organisations.c.requires_approval).where(organisations.c.id == organisation_id)
        )
    )


def set_requires_approval(session: Session, organisation_id: str, required: bool) -> bool:
    """Change the setting; ``False`` when there is no such organisation."""
    result = session.execute(
        update(organisations)
        .where(organisations.c.id == organisation_id)
        .values(requires_approval=required)
    )
    return bool(getattr(result, "rowcount", 0))


# The organisations' keys: the frame's store; a key opens the API while its organisation is
# active.
KEYS = ApiKeyStore(
    api_keys,
    api_keys.c.organisation_id,
    KEY_PREFIX,
    join=(organisations, organisations.c.id == api_keys.c.organisation_id),
    live=organisations.c.active.is_(True),
)
create_api_key = KEYS.create  # (session, organisation_id, label=None) -> the key, shown once
organisation_for_api_key = KEYS.owner_of  # (session, key) -> its active organisation, or None
revoke_api_key = KEYS.revoke  # (session, organisation_id, prefix) -> whether one was revoked
