"""A pôle's places (warehouse, pickup and drop points) and fulfilment options: written, read,
removed; a place still used by an active option is a :class:`~. Conflict`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from reseau_poles.storage import all_rows, one_or_none_row, row_count

from ..requests import FulfillmentOptionIn, LocationIn
from ..tables import (
    fulfillment_options,
    locations,
)
from . import Conflict
from .columns import codes


def add_location(session: Session, provider_id: str, location: LocationIn) -> None:
    session.execute(insert(locations).values(provider_id=provider_id, **location.model_dump()))


def option_values(option: FulfillmentOptionIn) -> dict[str, Any]:
    """The columns of a fulfilment option (without its pôle and id)."""
    return {
        "type": option.type.value,
        "name": option.name,
        "regions": codes(option.regions),
        "fee": option.fee,
        "fee_taxable": option.fee_taxable,
        "lead_time_hours": option.lead_time_hours,
        "cold_chain": codes(c.value for c in option.cold_chain),
        "location_id": option.location_id,
        "delivery_days": option.delivery_days,
        "delivery_hours": option.delivery_hours,
        "max_window_hours": option.max_window_hours,
        "minimum_order": option.minimum_order,
        "active": True,
    }


def add_fulfillment_option(session: Session, provider_id: str, option: FulfillmentOptionIn) -> None:
    session.execute(
        insert(fulfillment_options).values(
            provider_id=provider_id, id=option.id, **option_values(option)
        )
    )


_LOCATIONS_BY_PROVIDER = (
    select(locations)
    .where(locations.c.provider_id.in_(bindparam("ids", expanding=True)))
    .order_by(locations.c.provider_id, locations.c.id)
)


_OPTIONS_BY_PROVIDER = (
    select(fulfillment_options)
    .where(
        fulfillment_options.c.provider_id.in_(bindparam("ids", expanding=True)),
        fulfillment_options.c.active.is_(True),
    )
    .order_by(fulfillment_options.c.provider_id, fulfillment_options.c.id)
)


def get_locations(session: Session, provider_ids: Iterable[str]) -> list[Mapping[str, Any]]:
    return all_rows(session.execute(_LOCATIONS_BY_PROVIDER, {"ids": list(provider_ids)}))


def get_fulfillment_options(
    session: Session, provider_ids: Iterable[str]
) -> list[Mapping[str, Any]]:
    return all_rows(session.execute(_OPTIONS_BY_PROVIDER, {"ids": list(provider_ids)}))


def list_locations(session: Session, provider_id: str) -> list[Mapping[str, Any]]:
    return get_locations(session, [provider_id])


def location(session: Session, provider_id: str, location_id: str) -> Mapping[str, Any] | None:
    return one_or_none_row(
        session.execute(
            select(locations).where(
                locations.c.provider_id == provider_id, locations.c.id == location_id
            )
        )
    )


def put_location(session: Session, provider_id: str, place: LocationIn) -> bool:
    """Create or replace a location; ``True`` when it is new."""
    if location(session, provider_id, place.id) is None:
        add_location(session, provider_id, place)
        return True
    values = place.model_dump(exclude={"id"})
    session.execute(
        update(locations)
        .where(locations.c.provider_id == provider_id, locations.c.id == place.id)
        .values(values)
    )
    return False


def delete_location(session: Session, provider_id: str, location_id: str) -> bool:
    """Remove a location no active fulfilment option uses (:class:`Conflict` otherwise)."""
    used = session.execute(
        select(fulfillment_options.c.id).where(
            fulfillment_options.c.provider_id == provider_id,
            fulfillment_options.c.location_id == location_id,
            fulfillment_options.c.active.is_(True),
        )
    ).scalars()
    options = list(used)
    if options:
        raise Conflict(
            f"Lieu utilisé par le mode d'exécution « {options[0]} » : retirez-le d'abord.",
            "path.location_id",
        )
    done = session.execute(
        delete(locations).where(
            locations.c.provider_id == provider_id, locations.c.id == location_id
        )
    )
    return row_count(done) > 0


def list_fulfillment_options(session: Session, provider_id: str) -> list[Mapping[str, Any]]:
    return get_fulfillment_options(session, [provider_id])


def put_fulfillment_option(session: Session, provider_id: str, option: FulfillmentOptionIn) -> bool:
    """Create, replace or reactivate an option; ``True`` when it is new."""
    if (
        option.location_id is not None
        and location(session, provider_id, option.location_id) is None
    ):
        raise Conflict(f"Lieu « {option.location_id} » inconnu pour ce pôle.", "location_id")
    found = session.execute(
        select(fulfillment_options.c.id).where(
            fulfillment_options.c.provider_id == provider_id,
            fulfillment_options.c.id == option.id,
        )
    ).scalar_one_or_none()
    if found is None:
        add_fulfillment_option(session, provider_id, option)
        return True
    session.execute(
        update(fulfillment_options)
        .where(
            fulfillment_options.c.provider_id == provider_id,
            fulfillment_options.c.id == option.id,
        )
        .values(**option_values(option))
    )
    return False


def deactivate_fulfillment_option(session: Session, provider_id: str, option_id: str) -> bool:
    """Withdraw an option (kept for the orders that name it)."""
    done = session.execute(
        update(fulfillment_options)
        .where(
            fulfillment_options.c.provider_id == provider_id,
            fulfillment_options.c.id == option_id,
            fulfillment_options.c.active.is_(True),
        )
        .values(active=False)
    )
    return row_count(done) > 0
