"""The pôles' rows: profiles written and read, and a search page's pôles with their places and
fulfilment options in one statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from reseau_poles.storage import all_rows, one_or_none_row, row_count, utcnow

from ..requests import ProviderIn
from ..tables import (
    fulfillment_options,
    locations,
    providers,
)
from .columns import codes, split_codes


def upsert_provider(session: Session, provider: ProviderIn) -> None:
    now = utcnow()
    values = {
        "name": provider.name,
        "short_desc": provider.short_desc,
        "legal_form": provider.legal_form.value,
        "neq": provider.neq,
        "region": provider.region,
        "served_regions": codes(provider.served_regions or [provider.region]),
        "email": provider.email,
        "phone": provider.phone,
        "opening_hours": provider.opening_hours,
        "payment_types": codes(t.value for t in provider.payment_types),
        "net_days": provider.net_days,
        "cancellation_fee_percentage": provider.cancellation_fee_percentage,
        "active": True,
        "updated_at": now,
    }
    done = session.execute(update(providers).where(providers.c.id == provider.id).values(values))
    if row_count(done) == 0:
        session.execute(insert(providers).values(id=provider.id, created_at=now, **values))


def provider(session: Session, provider_id: str) -> Mapping[str, Any] | None:
    """The provider's row, active or not."""
    return one_or_none_row(session.execute(select(providers).where(providers.c.id == provider_id)))


def save_provider(session: Session, profile: ProviderIn) -> bool:
    """Create or update a provider's whole profile; ``True`` when it is new."""
    created = provider(session, profile.id) is None
    upsert_provider(session, profile)
    session.execute(
        update(providers)
        .where(providers.c.id == profile.id)
        .values(contact_name=profile.contact_name, website=profile.website)
    )
    return created


def provider_in_from_row(row: Mapping[str, Any]) -> ProviderIn:
    """The stored profile as its model (unvalidated if today's rules refuse it)."""
    values: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "short_desc": row["short_desc"],
        "legal_form": row["legal_form"],
        "neq": row["neq"],
        "region": row["region"],
        "served_regions": split_codes(row["served_regions"]),
        "contact_name": row["contact_name"],
        "email": row["email"],
        "phone": row["phone"],
        "website": row["website"],
        "opening_hours": row["opening_hours"],
        "payment_types": split_codes(row["payment_types"]),
        "net_days": row["net_days"],
        "cancellation_fee_percentage": row["cancellation_fee_percentage"],
    }
    try:
        return ProviderIn.model_validate(values)
    except ValidationError:
        return ProviderIn.model_construct(**values)


def provider_exists(session: Session, provider_id: str) -> bool:
    return (
        session.execute(select(providers.c.id).where(providers.c.id == provider_id)).first()
        is not None
    )


def get_provider(session: Session, provider_id: str) -> Mapping[str, Any] | None:
    return one_or_none_row(
        session.execute(
            select(providers).where(providers.c.id == provider_id, providers.c.active.is_(True))
        )
    )


# Built once: SQLAlchemy reuses their cache keys and compiled SQL; id lists are expanded.
_PROVIDERS_BY_ID = (
    select(providers)
    .where(providers.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(providers.c.id)
)


def get_providers(session: Session, provider_ids: Iterable[str]) -> list[Mapping[str, Any]]:
    return all_rows(session.execute(_PROVIDERS_BY_ID, {"ids": list(provider_ids)}))


# (column name, label in the joined row)
_PROVIDER_NAMES = tuple(column.name for column in providers.c)


_LOCATION_LABELS = tuple((column.name, f"location_{column.name}") for column in locations.c)


_OPTION_LABELS = tuple((column.name, f"option_{column.name}") for column in fulfillment_options.c)


_PROFILES_BY_ID = (
    select(
        providers,
        *(locations.c[name].label(label) for name, label in _LOCATION_LABELS),
        *(fulfillment_options.c[name].label(label) for name, label in _OPTION_LABELS),
    )
    .select_from(
        providers.outerjoin(locations, locations.c.provider_id == providers.c.id).outerjoin(
            fulfillment_options,
            and_(
                fulfillment_options.c.provider_id == providers.c.id,
                fulfillment_options.c.active.is_(True),
            ),
        )
    )
    .where(providers.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(providers.c.id, locations.c.id, fulfillment_options.c.id)
)


@dataclass(frozen=True, slots=True)
class Profile:
    """A provider's row with its locations and active fulfilment options, each in id order:
    what a search page shows of a pôle besides its items."""

    provider: dict[str, Any]
    locations: list[dict[str, Any]]
    options: list[dict[str, Any]]


def get_profiles(session: Session | Connection, provider_ids: Iterable[str]) -> list[Profile]:
    """:func:`get_providers`, :func:`get_locations` and :func:`get_fulfillment_options` of
    these providers in one statement (a pôle has a few of each: the join is small)."""
    found: dict[str, Profile] = {}
    places: set[tuple[str, str]] = set()
    offered: set[tuple[str, str]] = set()
    for row in session.execute(_PROFILES_BY_ID, {"ids": list(provider_ids)}):
        values = row._mapping
        provider_id = values["id"]
        profile = found.get(provider_id)
        if profile is None:
            profile = found[provider_id] = Profile(
                {name: values[name] for name in _PROVIDER_NAMES}, [], []
            )
        location_id = values["location_id"]
        if location_id is not None and (provider_id, location_id) not in places:
            places.add((provider_id, location_id))
            profile.locations.append({name: values[label] for name, label in _LOCATION_LABELS})
        option_id = values["option_id"]
        if option_id is not None and (provider_id, option_id) not in offered:
            offered.add((provider_id, option_id))
            profile.options.append({name: values[label] for name, label in _OPTION_LABELS})
    return list(found.values())
