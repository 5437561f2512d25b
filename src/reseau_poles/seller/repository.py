"""The seller node's SQL: catalog, stock, orders, API keys. No protocol, no HTTP.

Every function takes the caller's ``Session`` (or ``Connection``): the service decides what
one transaction is. Stock only ever goes down through :func:`take_stock` (or
:func:`add_stock`), one guarded ``UPDATE`` that cannot oversell whatever the concurrency;
every change is a stock movement (:mod:`.stock_movements`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.engine import RowMapping

from reseau_poles.node.api_keys import DISPLAY_PREFIX_LENGTH, hash_api_key, new_api_key
from reseau_poles.protocol.profile import normalize_text, search_key, tokenize
from reseau_poles.storage import utcnow

from . import stock_movements as movements
from .requests import FulfillmentOptionIn, ItemIn, LocationIn, ProviderIn
from .stock_movements import Reason
from .tables import (
    api_keys,
    fulfillment_options,
    items,
    locations,
    order_events,
    order_lines,
    orders,
    providers,
    stock,
)


def codes(values: Iterable[Any]) -> str:
    """``,a,b,``: a list of codes as one LIKE-searchable text (``,,`` when empty)."""
    return "," + ",".join(str(value) for value in values) + ","


def split_codes(text: str | None) -> list[str]:
    return [part for part in (text or "").split(",") if part]


def search_text(*texts: str | None) -> str:
    """Each search key preceded by a space: `` sirop erable biologique 540 ml``."""
    keys: list[str] = []
    for text in texts:
        if text:
            keys.extend(search_key(word) for word in tokenize(text))
    return "".join(" " + key for key in dict.fromkeys(keys))


# --- catalog: writes ------------------------------------------------------------------------


def upsert_provider(session: Any, provider: ProviderIn) -> None:
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
    if done.rowcount == 0:
        session.execute(insert(providers).values(id=provider.id, created_at=now, **values))


def add_location(session: Any, provider_id: str, location: LocationIn) -> None:
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


def add_fulfillment_option(session: Any, provider_id: str, option: FulfillmentOptionIn) -> None:
    session.execute(
        insert(fulfillment_options).values(
            provider_id=provider_id, id=option.id, **option_values(option)
        )
    )


def upsert_item(
    session: Any,
    provider_id: str,
    item: ItemIn,
    *,
    reason: Reason = Reason.INVENTAIRE,
    reference: str | None = None,
) -> int:
    """Create or update the item with this SKU (and set its stock); returns its row id.

    The stock's change is a movement: ``creation`` for a new item, else ``reason``."""
    now = utcnow()
    values = {
        "name": item.name,
        "short_desc": item.short_desc,
        "long_desc": item.long_desc,
        "name_en": item.name_en,
        "short_desc_en": item.short_desc_en,
        "category_id": item.category_id,
        "category_name": item.category_name,
        "unit": item.unit.value,
        "pack_size": item.pack_size,
        "price": item.price,
        "minimum_quantity": item.minimum_quantity,
        "maximum_quantity": item.maximum_quantity,
        "taxable": item.taxable,
        "certifications": codes(c.value for c in item.certifications),
        "conservation": item.conservation.value,
        "producer": item.producer,
        "origin_region": item.origin_region,
        "season_months": codes(item.season_months) if item.season_months else None,
        "image_url": item.image_url,
        "search_text": search_text(
            item.name,
            item.short_desc,
            item.long_desc,
            item.name_en,
            item.short_desc_en,
            item.producer,
            item.category_name,
        ),
        "name_normalized": normalize_text(item.name)[:255],
        "active": True,
        "updated_at": now,
    }
    found = session.execute(
        select(items.c.id).where(items.c.provider_id == provider_id, items.c.sku == item.sku)
    ).scalar_one_or_none()
    if found is None:
        item_id = session.execute(
            insert(items)
            .values(provider_id=provider_id, sku=item.sku, created_at=now, **values)
            .returning(items.c.id)
        ).scalar_one()
        session.execute(insert(stock).values(item_id=item_id, quantity=item.stock, updated_at=now))
        movements.record(session, item_id, Reason.CREATION, item.stock, item.stock, reference)
        return int(item_id)
    session.execute(update(items).where(items.c.id == found).values(values))
    set_stock(session, found, item.stock, reason=reason, reference=reference)
    return int(found)


def set_stock(
    session: Any,
    item_id: int,
    quantity: int,
    *,
    reason: Reason = Reason.INVENTAIRE,
    reference: str | None = None,
    note: str | None = None,
) -> None:
    """Set the stock to ``quantity``; a change (not the same count again) is a movement."""
    before = session.execute(
        select(stock.c.quantity).where(stock.c.item_id == item_id).with_for_update()
    ).scalar_one()
    session.execute(
        update(stock)
        .where(stock.c.item_id == item_id)
        .values(quantity=quantity, updated_at=utcnow())
    )
    if quantity != before:
        movements.record(session, item_id, reason, quantity - before, quantity, reference, note)


# --- catalog: reads -------------------------------------------------------------------------


def get_provider(session: Any, provider_id: str) -> RowMapping | None:
    return (
        session.execute(
            select(providers).where(providers.c.id == provider_id, providers.c.active.is_(True))
        )
        .mappings()
        .one_or_none()
    )


# Built once: SQLAlchemy reuses their cache keys and compiled SQL; id lists are expanded.
_PROVIDERS_BY_ID = (
    select(providers)
    .where(providers.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(providers.c.id)
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


def get_providers(session: Any, provider_ids: Iterable[str]) -> list[RowMapping]:
    return list(session.execute(_PROVIDERS_BY_ID, {"ids": list(provider_ids)}).mappings())


def get_locations(session: Any, provider_ids: Iterable[str]) -> list[RowMapping]:
    return list(session.execute(_LOCATIONS_BY_PROVIDER, {"ids": list(provider_ids)}).mappings())


def get_fulfillment_options(session: Any, provider_ids: Iterable[str]) -> list[RowMapping]:
    return list(session.execute(_OPTIONS_BY_PROVIDER, {"ids": list(provider_ids)}).mappings())


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


def get_profiles(session: Any, provider_ids: Iterable[str]) -> list[Profile]:
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


PAGE_COLUMNS = tuple(
    column
    for column in items.c
    if column.name not in ("search_text", "name_normalized", "created_at", "updated_at")
)
"""The item columns a search page shows (and the row id and pôle): what
:func:`reseau_poles.seller.services.catalog.item_document` reads, nothing else."""


def _items_with_stock() -> Any:
    return select(items, stock.c.quantity.label("available")).join(
        stock, stock.c.item_id == items.c.id
    )


_PAGE_BY_ID = (
    select(*PAGE_COLUMNS, stock.c.quantity.label("available"))
    .join(stock, stock.c.item_id == items.c.id)
    .where(items.c.id.in_(bindparam("ids", expanding=True)))
)


def get_items(session: Any, item_ids: Sequence[int]) -> list[RowMapping]:
    """A search page's items (:data:`PAGE_COLUMNS`, their stock as ``available``) in the
    order of ``item_ids``."""
    rows = {
        row["id"]: row for row in session.execute(_PAGE_BY_ID, {"ids": list(item_ids)}).mappings()
    }
    return [rows[item_id] for item_id in item_ids if item_id in rows]


def get_items_by_sku(session: Any, provider_id: str, skus: Iterable[str]) -> dict[str, RowMapping]:
    return {
        row["sku"]: row
        for row in session.execute(
            _items_with_stock().where(
                items.c.provider_id == provider_id,
                items.c.sku.in_(list(skus)),
                items.c.active.is_(True),
            )
        ).mappings()
    }


def available(session: Any, item_id: int) -> int:
    return int(
        session.execute(select(stock.c.quantity).where(stock.c.item_id == item_id)).scalar_one()
    )


def take_stock(
    session: Any,
    item_id: int,
    quantity: int,
    *,
    reason: Reason = Reason.COMMANDE,
    reference: str | None = None,
) -> bool:
    """Take ``quantity`` units if there are that many; ``False`` (nothing taken) otherwise.

    One statement: the check and the decrement happen together under the row's lock, so two
    transactions can never both take the last units (PostgreSQL re-checks the ``WHERE`` on
    the row's newest version after waiting for its lock; SQLite writers are serialised).
    What is left comes back from the same statement, for the movement it records.
    """
    left = session.execute(
        update(stock)
        .where(stock.c.item_id == item_id, stock.c.quantity >= quantity)
        .values(quantity=stock.c.quantity - quantity, updated_at=utcnow())
        .returning(stock.c.quantity)
    ).scalar_one_or_none()
    if left is None:
        return False
    movements.record(session, item_id, reason, -quantity, int(left), reference)
    return True


def add_stock(
    session: Any,
    item_id: int,
    delta: int,
    reason: Reason,
    reference: str | None = None,
    note: str | None = None,
) -> int | None:
    """Add ``delta`` (negative: remove) unless the stock would go below zero; the new stock
    (and its movement), or ``None`` when nothing changed."""
    now = session.execute(
        update(stock)
        .where(stock.c.item_id == item_id, stock.c.quantity + delta >= 0)
        .values(quantity=stock.c.quantity + delta, updated_at=utcnow())
        .returning(stock.c.quantity)
    ).scalar_one_or_none()
    if now is None:
        return None
    if delta:
        movements.record(session, item_id, reason, delta, int(now), reference, note)
    return int(now)


# --- orders ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderLine:
    item_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    tps: Decimal
    tvq: Decimal


def find_order(session: Any, order_id: str) -> RowMapping | None:
    return session.execute(select(orders).where(orders.c.id == order_id)).mappings().one_or_none()


def find_order_by_transaction(session: Any, bap_id: str, transaction_id: str) -> RowMapping | None:
    return (
        session.execute(
            select(orders).where(
                orders.c.bap_id == bap_id, orders.c.transaction_id == transaction_id
            )
        )
        .mappings()
        .one_or_none()
    )


def insert_order(
    session: Any, values: Mapping[str, Any], lines: Sequence[OrderLine], created_at: datetime
) -> None:
    session.execute(insert(orders).values(created_at=created_at, updated_at=created_at, **values))
    session.execute(
        insert(order_lines),
        [
            {"order_id": values["id"], "line_no": number, **asdict(line)}
            for number, line in enumerate(lines, start=1)
        ],
    )


def add_event(
    session: Any, order_id: str, kind: str, detail: Mapping[str, Any] | None = None
) -> None:
    session.execute(
        insert(order_events).values(
            order_id=order_id, kind=kind, detail=dict(detail or {}), created_at=utcnow()
        )
    )


# --- API keys -------------------------------------------------------------------------------

API_KEY_PREFIX = "rpv_"


def create_api_key(session: Any, provider_id: str, label: str | None = None) -> str:
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


def provider_for_api_key(session: Any, key: str) -> str | None:
    """The provider a live key belongs to (``None`` for an unknown or revoked key)."""
    return session.execute(
        select(api_keys.c.provider_id).where(
            api_keys.c.key_hash == hash_api_key(key), api_keys.c.revoked_at.is_(None)
        )
    ).scalar_one_or_none()


def revoke_api_key(session: Any, prefix: str, provider_id: str) -> bool:
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
