"""The SQL of the management API and the CSV import: what a pôle changes about itself.

Like :mod:`repository`, every function takes the caller's ``Session``; the route or the
import decides what one transaction is. Functions return ``None`` / ``False`` for "not
found" and raise :class:`Conflict` when the database's state forbids the change; the HTTP
layer turns both into its 4xx answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from reseau_poles.protocol.profile import normalize_text, search_key, tokenize
from reseau_poles.storage import utcnow

from . import repository as repo
from . import stock_movements as movements
from .requests import FulfillmentOptionIn, ItemIn, LocationIn, ProviderIn
from .stock_movements import Reason
from .tables import api_keys, fulfillment_options, items, locations, providers, stock


class Conflict(Exception):
    """The change contradicts what is stored (a location still used, a stock gone below 0)."""

    def __init__(self, message: str, path: str, *, available: int | None = None) -> None:
        super().__init__(message)
        self.message, self.path, self.available = message, path, available


# --- providers ------------------------------------------------------------------------------


def provider(session: Any, provider_id: str) -> RowMapping | None:
    """The provider's row, active or not."""
    return (
        session.execute(select(providers).where(providers.c.id == provider_id))
        .mappings()
        .one_or_none()
    )


def save_provider(session: Any, profile: ProviderIn) -> bool:
    """Create or update a provider's whole profile; ``True`` when it is new."""
    created = provider(session, profile.id) is None
    repo.upsert_provider(session, profile)
    session.execute(
        update(providers)
        .where(providers.c.id == profile.id)
        .values(contact_name=profile.contact_name, website=profile.website)
    )
    return created


def provider_in_from_row(row: RowMapping) -> ProviderIn:
    """The stored profile as its model (unvalidated if today's rules refuse it)."""
    values: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "short_desc": row["short_desc"],
        "legal_form": row["legal_form"],
        "neq": row["neq"],
        "region": row["region"],
        "served_regions": repo.split_codes(row["served_regions"]),
        "contact_name": row["contact_name"],
        "email": row["email"],
        "phone": row["phone"],
        "website": row["website"],
        "opening_hours": row["opening_hours"],
        "payment_types": repo.split_codes(row["payment_types"]),
        "net_days": row["net_days"],
        "cancellation_fee_percentage": row["cancellation_fee_percentage"],
    }
    try:
        return ProviderIn.model_validate(values)
    except ValidationError:
        return ProviderIn.model_construct(**values)


# --- locations ------------------------------------------------------------------------------


def list_locations(session: Any, provider_id: str) -> list[RowMapping]:
    return repo.get_locations(session, [provider_id])


def location(session: Any, provider_id: str, location_id: str) -> RowMapping | None:
    return (
        session.execute(
            select(locations).where(
                locations.c.provider_id == provider_id, locations.c.id == location_id
            )
        )
        .mappings()
        .one_or_none()
    )


def put_location(session: Any, provider_id: str, place: LocationIn) -> bool:
    """Create or replace a location; ``True`` when it is new."""
    if location(session, provider_id, place.id) is None:
        repo.add_location(session, provider_id, place)
        return True
    values = place.model_dump(exclude={"id"})
    session.execute(
        update(locations)
        .where(locations.c.provider_id == provider_id, locations.c.id == place.id)
        .values(values)
    )
    return False


def delete_location(session: Any, provider_id: str, location_id: str) -> bool:
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
    return done.rowcount > 0


# --- fulfilment options ---------------------------------------------------------------------


def list_fulfillment_options(session: Any, provider_id: str) -> list[RowMapping]:
    return repo.get_fulfillment_options(session, [provider_id])


def put_fulfillment_option(session: Any, provider_id: str, option: FulfillmentOptionIn) -> bool:
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
        repo.add_fulfillment_option(session, provider_id, option)
        return True
    session.execute(
        update(fulfillment_options)
        .where(
            fulfillment_options.c.provider_id == provider_id,
            fulfillment_options.c.id == option.id,
        )
        .values(**repo.option_values(option))
    )
    return False


def deactivate_fulfillment_option(session: Any, provider_id: str, option_id: str) -> bool:
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
    return done.rowcount > 0


# --- items and stock ------------------------------------------------------------------------


def _with_stock() -> Any:
    return select(items, stock.c.quantity.label("available")).join(
        stock, stock.c.item_id == items.c.id
    )


@dataclass(frozen=True, slots=True)
class ItemFilter:
    text: str | None = None
    category: str | None = None
    active: bool | None = True


def list_items(
    session: Any, provider_id: str, where: ItemFilter, *, offset: int, limit: int
) -> tuple[list[RowMapping], int]:
    """A page of the provider's items by SKU, and how many match in all."""
    conditions: list[Any] = [items.c.provider_id == provider_id]
    if where.active is not None:
        conditions.append(items.c.active.is_(where.active))
    if where.category:
        conditions.append(
            or_(items.c.category_id == where.category, items.c.category_name == where.category)
        )
    if where.text:
        for word in tokenize(where.text):
            key = search_key(word)
            if key:
                conditions.append(
                    or_(items.c.search_text.like(f"% {key}%"), items.c.sku == where.text)
                )
    total = session.execute(
        select(func.count()).select_from(items).where(and_(*conditions))
    ).scalar_one()
    rows = session.execute(
        _with_stock().where(and_(*conditions)).order_by(items.c.sku).offset(offset).limit(limit)
    ).mappings()
    return list(rows), int(total)


def item(session: Any, provider_id: str, sku: str) -> RowMapping | None:
    """The item with this SKU (active or not), with its stock as ``available``."""
    return (
        session.execute(_with_stock().where(items.c.provider_id == provider_id, items.c.sku == sku))
        .mappings()
        .one_or_none()
    )


def items_by_sku(session: Any, provider_id: str, skus: Iterable[str]) -> dict[str, RowMapping]:
    wanted = list(skus)
    found: dict[str, RowMapping] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for row in session.execute(
            _with_stock().where(items.c.provider_id == provider_id, items.c.sku.in_(chunk))
        ).mappings():
            found[row["sku"]] = row
    return found


def all_items(session: Any, provider_id: str, *, active: bool | None = True) -> list[RowMapping]:
    query = _with_stock().where(items.c.provider_id == provider_id)
    if active is not None:
        query = query.where(items.c.active.is_(active))
    return list(session.execute(query.order_by(items.c.sku)).mappings())


def category_codes(session: Any, provider_id: str) -> dict[str, str]:
    """The category code the provider uses for each category name."""
    return {
        name: code
        for name, code in session.execute(
            select(items.c.category_name, items.c.category_id)
            .where(items.c.provider_id == provider_id)
            .distinct()
            .order_by(items.c.category_name, items.c.category_id)
        ).all()
    }


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def item_in_from_row(row: RowMapping) -> ItemIn:
    """The stored item as the model it was written from (stock = what is available now).

    A row written by other means that today's rules refuse (an older image address, say) is
    still shown as stored, unvalidated, rather than failing the whole listing; saving it
    again validates it.
    """
    months = repo.split_codes(row["season_months"])
    values: dict[str, Any] = {
        "sku": row["sku"],
        "name": row["name"],
        "short_desc": row["short_desc"],
        "long_desc": row["long_desc"],
        "name_en": row["name_en"],
        "short_desc_en": row["short_desc_en"],
        "category_id": row["category_id"],
        "category_name": row["category_name"],
        "unit": row["unit"],
        "pack_size": Decimal(format(_decimal(row["pack_size"]).normalize(), "f")),
        "price": _decimal(row["price"]),
        "minimum_quantity": row["minimum_quantity"],
        "maximum_quantity": row["maximum_quantity"],
        "taxable": row["taxable"],
        "certifications": repo.split_codes(row["certifications"]),
        "conservation": row["conservation"],
        "producer": row["producer"],
        "origin_region": row["origin_region"],
        "season_months": [int(month) for month in months] if months else None,
        "image_url": row["image_url"],
        "stock": row["available"],
    }
    try:
        return ItemIn.model_validate(values)
    except ValidationError:
        return ItemIn.model_construct(**values)


def _locked_stock(session: Any, item_id: int) -> int:
    return int(
        session.execute(
            select(stock.c.quantity).where(stock.c.item_id == item_id).with_for_update()
        ).scalar_one()
    )


def put_item(session: Any, provider_id: str, product: ItemIn, *, keep_stock: bool) -> bool:
    """Create or update (and reactivate) the item with this SKU; ``True`` when it is new.

    With ``keep_stock``, an existing item keeps the stock it has (read under the row's lock,
    so a confirm in between is not undone); a new one starts at ``product.stock``.
    """
    found = session.execute(
        select(items.c.id).where(items.c.provider_id == provider_id, items.c.sku == product.sku)
    ).scalar_one_or_none()
    if found is not None and keep_stock:
        product = product.model_copy(update={"stock": _locked_stock(session, found)})
    repo.upsert_item(session, provider_id, product)
    return found is None


def item_values(product: ItemIn) -> dict[str, Any]:
    """The item's columns as :func:`repository.upsert_item` writes them (without the keys,
    the stock and the timestamps); a test keeps the two in step."""
    return {
        "name": product.name,
        "short_desc": product.short_desc,
        "long_desc": product.long_desc,
        "name_en": product.name_en,
        "short_desc_en": product.short_desc_en,
        "category_id": product.category_id,
        "category_name": product.category_name,
        "unit": product.unit.value,
        "pack_size": product.pack_size,
        "price": product.price,
        "minimum_quantity": product.minimum_quantity,
        "maximum_quantity": product.maximum_quantity,
        "taxable": product.taxable,
        "certifications": repo.codes(c.value for c in product.certifications),
        "conservation": product.conservation.value,
        "producer": product.producer,
        "origin_region": product.origin_region,
        "season_months": repo.codes(product.season_months) if product.season_months else None,
        "image_url": product.image_url,
        "search_text": repo.search_text(
            product.name,
            product.short_desc,
            product.long_desc,
            product.name_en,
            product.short_desc_en,
            product.producer,
            product.category_name,
        ),
        "name_normalized": normalize_text(product.name)[:255],
        "active": True,
    }


@dataclass(frozen=True, slots=True)
class ItemWrite:
    """One product of a bulk write: its stored row id (``None``: new), and whether its stock
    is left as it is (``keep_stock``; a new item starts at ``product.stock``)."""

    product: ItemIn
    item_id: int | None
    keep_stock: bool


def save_items(
    session: Any, provider_id: str, writes: Sequence[ItemWrite], reference: str | None = None
) -> None:
    """Create or update many items in a few statements (``executemany``), for the CSV import.

    An update that keeps the stock does not touch the stock row at all, so units sold while
    the file was being imported are never written back. Every stock set or changed is a
    movement (``import_csv``, with ``reference``).
    """
    now = utcnow()
    new = [write.product for write in writes if write.item_id is None]
    if new:
        session.execute(
            insert(items),
            [
                {"provider_id": provider_id, "sku": p.sku, "created_at": now, "updated_at": now}
                | item_values(p)
                for p in new
            ],
        )
        ids: dict[str, int] = {}
        skus = [p.sku for p in new]
        for start in range(0, len(skus), 500):
            ids.update(
                session.execute(
                    select(items.c.sku, items.c.id).where(
                        items.c.provider_id == provider_id,
                        items.c.sku.in_(skus[start : start + 500]),
                    )
                ).all()
            )
        session.execute(
            insert(stock),
            [{"item_id": ids[p.sku], "quantity": p.stock, "updated_at": now} for p in new],
        )
        movements.record_many(
            session,
            [(ids[p.sku], p.stock, p.stock) for p in new],
            Reason.IMPORT_CSV,
            reference,
        )
    old = [write for write in writes if write.item_id is not None]
    if old:
        columns = [*item_values(old[0].product), "updated_at"]
        session.execute(
            update(items)
            .where(items.c.id == bindparam("b_id"))
            .values({name: bindparam(f"b_{name}") for name in columns}),
            [
                {"b_id": w.item_id, "b_updated_at": now}
                | {f"b_{name}": value for name, value in item_values(w.product).items()}
                for w in old
            ],
        )
        counted = [w for w in old if not w.keep_stock]
        if counted:
            before = _locked_stocks(session, [w.item_id for w in counted if w.item_id])
            session.execute(
                update(stock)
                .where(stock.c.item_id == bindparam("b_id"))
                .values(quantity=bindparam("b_quantity"), updated_at=bindparam("b_at")),
                [{"b_id": w.item_id, "b_quantity": w.product.stock, "b_at": now} for w in counted],
            )
            movements.record_many(
                session,
                [
                    (w.item_id, w.product.stock - before[w.item_id], w.product.stock)
                    for w in counted
                    if w.item_id is not None and w.product.stock != before[w.item_id]
                ],
                Reason.IMPORT_CSV,
                reference,
            )


def _locked_stocks(session: Any, item_ids: Sequence[int]) -> dict[int, int]:
    """The stock of each item, its row locked (``FOR UPDATE``) until the transaction ends."""
    found: dict[int, int] = {}
    for start in range(0, len(item_ids), 500):
        found.update(
            session.execute(
                select(stock.c.item_id, stock.c.quantity)
                .where(stock.c.item_id.in_(item_ids[start : start + 500]))
                .with_for_update()
            ).all()
        )
    return found


def deactivate_item(session: Any, provider_id: str, sku: str) -> bool:
    """Withdraw an item from the catalog; it stays stored for the orders that name it, and a
    ``PUT`` of the same SKU brings it back."""
    done = session.execute(
        update(items)
        .where(items.c.provider_id == provider_id, items.c.sku == sku, items.c.active.is_(True))
        .values(active=False, updated_at=utcnow())
    )
    return done.rowcount > 0


def _item_id(session: Any, provider_id: str, sku: str) -> int | None:
    return session.execute(
        select(items.c.id).where(items.c.provider_id == provider_id, items.c.sku == sku)
    ).scalar_one_or_none()


def set_item_stock(
    session: Any, provider_id: str, sku: str, quantity: int, note: str | None = None
) -> int | None:
    """Set the stock to ``quantity`` (a count, so never negative); ``None`` for no such item."""
    item_id = _item_id(session, provider_id, sku)
    if item_id is None:
        return None
    repo.set_stock(session, item_id, quantity, note=note)
    return quantity


def adjust_item_stock(
    session: Any, provider_id: str, sku: str, delta: int, note: str | None = None
) -> int | None:
    """Add ``delta`` (negative: remove) in one guarded statement; the new stock, ``None`` for
    no such item, :class:`Conflict` when it would go below zero (nothing changed)."""
    item_id = _item_id(session, provider_id, sku)
    if item_id is None:
        return None
    changed = repo.add_stock(session, item_id, delta, Reason.AJUSTEMENT, note=note)
    if changed is not None:
        return changed
    now = repo.available(session, item_id)
    raise Conflict(
        f"Stock insuffisant : {now} en stock, impossible de retirer {-delta}.",
        "delta",
        available=now,
    )


# --- API keys -------------------------------------------------------------------------------


def list_api_keys(session: Any, provider_id: str) -> list[RowMapping]:
    return list(
        session.execute(
            select(
                api_keys.c.prefix, api_keys.c.label, api_keys.c.created_at, api_keys.c.revoked_at
            )
            .where(api_keys.c.provider_id == provider_id)
            .order_by(api_keys.c.id)
        ).mappings()
    )


def create_api_key(session: Any, provider_id: str, label: str | None) -> str:
    return repo.create_api_key(session, provider_id, label)


def revoke_api_key(session: Any, provider_id: str, prefix: str) -> bool:
    return repo.revoke_api_key(session, prefix, provider_id)


def provider_exists(session: Any, provider_id: str) -> bool:
    return (
        session.execute(select(providers.c.id).where(providers.c.id == provider_id)).first()
        is not None
    )
