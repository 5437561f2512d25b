"""The buyer node's queries: organisations and their API keys, searches, callbacks, results.

Functions take a SQLAlchemy session (from :func:`reseau_poles.storage.write_session` or
``read_session``); they never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, update

from reseau_poles.node.api_keys import DISPLAY_PREFIX_LENGTH, hash_api_key, new_api_key
from reseau_poles.storage import utcnow

from .tables import api_keys, callbacks, organisations, search_results, searches

KEY_PREFIX = "rpa_"

# --- organisations and API keys --------------------------------------------------------------


def add_organisation(session: Any, organisation_id: str, name: str) -> None:
    session.execute(
        insert(organisations).values(
            id=organisation_id, name=name, active=True, created_at=utcnow()
        )
    )


def get_organisation(session: Any, organisation_id: str) -> RowMapping | None:
    return (
        session.execute(select(organisations).where(organisations.c.id == organisation_id))
        .mappings()
        .first()
    )


def create_api_key(session: Any, organisation_id: str, label: str | None = None) -> str:
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


def organisation_for_api_key(session: Any, key: str) -> str | None:
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


def revoke_api_key(session: Any, organisation_id: str, prefix: str) -> bool:
    result = session.execute(
        update(api_keys)
        .where(
            api_keys.c.organisation_id == organisation_id,
            api_keys.c.prefix == prefix,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)


# --- searches --------------------------------------------------------------------------------


def insert_search(
    session: Any,
    *,
    transaction_id: str,
    message_id: str,
    organisation_id: str,
    params: Mapping[str, Any],
) -> None:
    session.execute(
        insert(searches).values(
            transaction_id=transaction_id,
            message_id=message_id,
            organisation_id=organisation_id,
            params=dict(params),
            dispatch="envoi",
            targets={},
            created_at=utcnow(),
        )
    )


def mark_dispatched(
    session: Any,
    transaction_id: str,
    targets: Mapping[str, Any],
    *,
    via_gateway: str | None,
    failed: bool,
) -> None:
    session.execute(
        update(searches)
        .where(searches.c.transaction_id == transaction_id)
        .values(
            targets=dict(targets),
            via_gateway=via_gateway,
            dispatch="echec" if failed else "envoyee",
            dispatched_at=utcnow(),
        )
    )


def add_pages(session: Any, transaction_id: str, pages: Iterable[Mapping[str, Any]]) -> None:
    """Record follow-up pages asked for (``buyer_searches.pages``, a JSON list)."""
    current = session.execute(
        select(searches.c.pages).where(searches.c.transaction_id == transaction_id)
    ).scalar_one()
    session.execute(
        update(searches)
        .where(searches.c.transaction_id == transaction_id)
        .values(pages=[*(current or []), *(dict(page) for page in pages)])
    )


def get_search(session: Any, transaction_id: str) -> RowMapping | None:
    return (
        session.execute(select(searches).where(searches.c.transaction_id == transaction_id))
        .mappings()
        .first()
    )


# --- callbacks and results -------------------------------------------------------------------


def insert_callback(
    session: Any,
    *,
    action: str,
    transaction_id: str,
    message_id: str,
    bpp_id: str,
    bpp_uri: str | None,
    body: bytes,
    received_at: datetime,
) -> int | None:
    """Keep a verified callback; ``None`` when the same one (action, sender, message id) is
    already kept. One ``INSERT … ON CONFLICT DO NOTHING``: the caller's transaction goes on
    either way (no savepoint, no error to catch)."""
    statement = _insert_callback(session).values(
        action=action,
        transaction_id=transaction_id,
        message_id=message_id,
        bpp_id=bpp_id,
        bpp_uri=bpp_uri,
        body=body.decode("utf-8"),
        received_at=received_at,
    )
    found = session.execute(statement).scalar()
    return None if found is None else int(found)


def _insert_callback(session: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - the two databases we ship for
        raise RuntimeError(f"base non prise en charge : {dialect}")
    return (
        dialect_insert(callbacks)
        .on_conflict_do_nothing(index_elements=["action", "bpp_id", "message_id"])
        .returning(callbacks.c.id)
    )


def search_exists(session: Any, transaction_id: str) -> bool:
    """Whether this node started the search (one indexed read, no JSON decoded)."""
    return (
        session.execute(
            select(searches.c.transaction_id).where(searches.c.transaction_id == transaction_id)
        ).first()
        is not None
    )


def insert_results(
    session: Any,
    *,
    transaction_id: str,
    callback_id: int,
    bpp_id: str,
    bpp_uri: str | None,
    providers: Iterable[tuple[str, dict[str, Any], list[Any]]],
    received_at: datetime,
) -> list[dict[str, Any]]:
    """Store one callback's catalogue, one row per provider; returns the rows written."""
    rows = [
        {
            "transaction_id": transaction_id,
            "callback_id": callback_id,
            "bpp_id": bpp_id,
            "bpp_uri": bpp_uri,
            "provider_id": provider_id,
            "provider": provider,
            "items": items,
            "received_at": received_at,
        }
        for provider_id, provider, items in providers
    ]
    if rows:
        session.execute(insert(search_results), rows)
    return rows


def results_of(session: Any, transaction_id: str) -> list[RowMapping]:
    return list(
        session.execute(
            select(search_results)
            .where(search_results.c.transaction_id == transaction_id)
            .order_by(search_results.c.id)
        ).mappings()
    )


def callbacks_of(session: Any, transaction_id: str, action: str) -> list[RowMapping]:
    """Who answered and when (without the bodies)."""
    return list(
        session.execute(
            select(
                callbacks.c.bpp_id,
                callbacks.c.bpp_uri,
                callbacks.c.message_id,
                callbacks.c.received_at,
            )
            .where(callbacks.c.transaction_id == transaction_id, callbacks.c.action == action)
            .order_by(callbacks.c.id)
        ).mappings()
    )


def count_callbacks(session: Any, transaction_id: str | None = None) -> int:
    query = select(func.count()).select_from(callbacks)
    if transaction_id is not None:
        query = query.where(callbacks.c.transaction_id == transaction_id)
    return int(session.execute(query).scalar_one())
