"""A pôle's products (items) with their stock: written one at a time or in bulk (the CSV
import), read by page, by SKU or by id for a search page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from reseau_poles.protocol.profile import normalize_text, search_key, tokenize
from reseau_poles.storage import all_rows, one_or_none_row, row_count, utcnow

from ..requests import ItemIn
from ..tables import (
    items,
    stock,
)
from . import stock_movements as movements
from .columns import codes, search_text, split_codes
from .stock import locked_stock, locked_stocks, set_stock
from .stock_movements import Reason


def upsert_item(
    session: Session,
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


def get_items(session: Session | Connection, item_ids: Sequence[int]) -> list[Mapping[str, Any]]:
    """A search page's items (:data:`PAGE_COLUMNS`, their stock as ``available``) in the
    order of ``item_ids``."""
    by_id = {
        row["id"]: row for row in all_rows(session.execute(_PAGE_BY_ID, {"ids": list(item_ids)}))
    }
    return [by_id[item_id] for item_id in item_ids if item_id in by_id]


def get_items_by_sku(
    session: Session, provider_id: str, skus: Iterable[str]
) -> dict[str, Mapping[str, Any]]:
    return {
        row["sku"]: row
        for row in all_rows(
            session.execute(
                _items_with_stock().where(
                    items.c.provider_id == provider_id,
                    items.c.sku.in_(list(skus)),
                    items.c.active.is_(True),
                )
            )
        )
    }


@dataclass(frozen=True, slots=True)
class ItemFilter:
    text: str | None = None
    category: str | None = None
    active: bool | None = True


def list_items(
    session: Session, provider_id: str, where: ItemFilter, *, offset: int, limit: int
) -> tuple[list[Mapping[str, Any]], int]:
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
    page = all_rows(
        session.execute(
            _items_with_stock()
            .where(and_(*conditions))
            .order_by(items.c.sku)
            .offset(offset)
            .limit(limit)
        )
    )
    return page, int(total)


def item(session: Session, provider_id: str, sku: str) -> Mapping[str, Any] | None:
    """The item with this SKU (active or not), with its stock as ``available``."""
    return one_or_none_row(
        session.execute(
            _items_with_stock().where(items.c.provider_id == provider_id, items.c.sku == sku)
        )
    )


def items_by_sku(
    session: Session, provider_id: str, skus: Iterable[str]
) -> dict[str, Mapping[str, Any]]:
    wanted = list(skus)
    found: dict[str, Mapping[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for row in all_rows(
            session.execute(
                _items_with_stock().where(
                    items.c.provider_id == provider_id, items.c.sku.in_(chunk)
                )
            )
        ):
            found[row["sku"]] = row
    return found


def all_items(
    session: Session, provider_id: str, *, active: bool | None = True
) -> list[Mapping[str, Any]]:
    query = _items_with_stock().where(items.c.provider_id == provider_id)
    if active is not None:
        query = query.where(items.c.active.is_(active))
    return all_rows(session.execute(query.order_by(items.c.sku)))


def category_codes(session: Session, provider_id: str) -> dict[str, str]:
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


def item_in_from_row(row: Mapping[str, Any]) -> ItemIn:
    """The stored item as the model it was written from (stock = what is available now).

    A row written by other means that today's rules refuse (an older image address, say) is
    still shown as stored, unvalidated, rather than failing the whole listing; saving it
    again validates it.
    """
    months = split_codes(row["season_months"])
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
        "certifications": split_codes(row["certifications"]),
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


def put_item(session: Session, provider_id: str, product: ItemIn, *, keep_stock: bool) -> bool:
    """Create or update (and reactivate) the item with this SKU; ``True`` when it is new.

    With ``keep_stock``, an existing item keeps the stock it has (read under the row's lock,
    so a confirm in between is not undone); a new one starts at ``product.stock``.
    """
    found = session.execute(
        select(items.c.id).where(items.c.provider_id == provider_id, items.c.sku == product.sku)
    ).scalar_one_or_none()
    if found is not None and keep_stock:
        product = product.model_copy(update={"stock": locked_stock(session, found)})
    upsert_item(session, provider_id, product)
    return found is None


def item_values(product: ItemIn) -> dict[str, Any]:
    """The item's columns as :func:`upsert_item` writes them (without the keys,
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
        "certifications": codes(c.value for c in product.certifications),
        "conservation": product.conservation.value,
        "producer": product.producer,
        "origin_region": product.origin_region,
        "season_months": codes(product.season_months) if product.season_months else None,
        "image_url": product.image_url,
        "search_text": search_text(
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
    session: Session, provider_id: str, writes: Sequence[ItemWrite], reference: str | None = None
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
            before = locked_stocks(session, [w.item_id for w in counted if w.item_id])
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


def deactivate_item(session: Session, provider_id: str, sku: str) -> bool:
    """Withdraw an item from the catalog; it stays stored for the orders that name it, and a
    ``PUT`` of the same SKU brings it back."""
    done = session.execute(
        update(items)
        .where(items.c.provider_id == provider_id, items.c.sku == sku, items.c.active.is_(True))
        .values(active=False, updated_at=utcnow())
    )
    return row_count(done) > 0
