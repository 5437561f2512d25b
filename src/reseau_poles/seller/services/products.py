"""A pôle's products, as its management API and its pages list, save and withdraw them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.storage import read_session, write_session

from ..repositories import products as product_repo
from ..repositories import stock as stock_repo
from ..repositories.products import ItemFilter
from ..requests import ItemIn

__all__ = ["ItemFilter", "Products", "QuickChange"]


@dataclass(frozen=True, slots=True)
class QuickChange:
    """What a row of the products' page changes at once: the price (already checked as the
    catalogue's money), the stock (a count; ``None``: left as it is, units sold meanwhile
    stay sold) and whether the product is offered (``active``)."""

    price: Decimal
    stock: int | None
    active: bool


class Products:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def page(
        self, provider_id: str, where: ItemFilter, *, offset: int, limit: int
    ) -> tuple[list[Mapping[str, Any]], int]:
        """A page of the pôle's products by SKU, and how many match in all."""
        with read_session(self.factory) as session:
            return product_repo.list_items(session, provider_id, where, offset=offset, limit=limit)

    def product(self, provider_id: str, sku: str) -> Mapping[str, Any] | None:
        """The product with this SKU (active or not), its stock as ``available``."""
        with read_session(self.factory) as session:
            return product_repo.item(session, provider_id, sku)

    def categories(self, provider_id: str) -> dict[str, str]:
        """The category code the pôle uses for each category name (its products' own)."""
        with read_session(self.factory) as session:
            return product_repo.category_codes(session, provider_id)

    def save(
        self, provider_id: str, product: ItemIn, *, keep_stock: bool, active: bool = True
    ) -> bool:
        """Create or replace (and reactivate) a product; ``True`` when it is new.
        ``active=False``: saved withdrawn (out of the catalogue, kept for the orders)."""
        with write_session(self.factory) as session:
            created = product_repo.put_item(session, provider_id, product, keep_stock=keep_stock)
            if not active:
                product_repo.deactivate_item(session, provider_id, product.sku)
            return created

    def withdraw(self, provider_id: str, sku: str) -> bool:
        """Take an active product out of the catalogue (kept for the orders)."""
        with write_session(self.factory) as session:
            return product_repo.deactivate_item(session, provider_id, sku)

    def quick_change(
        self, provider_id: str, sku: str, change: QuickChange, note: str | None = None
    ) -> Mapping[str, Any] | None:
        """Price, stock and availability of one product in one transaction; the product as it
        is then, or ``None`` for no such product. A stock set is an ``inventaire`` movement
        (with ``note``); a product made unavailable is withdrawn (kept for the orders), made
        available again it comes back to the catalogue."""
        with write_session(self.factory) as session:
            row = product_repo.item(session, provider_id, sku)
            if row is None:
                return None
            if Decimal(row["price"]) != change.price or (change.active and not row["active"]):
                product = product_repo.item_in_from_row(row).model_copy(
                    update={"price": change.price}
                )
                product_repo.put_item(session, provider_id, product, keep_stock=True)
            if change.stock is not None:
                stock_repo.set_item_stock(session, provider_id, sku, change.stock, note)
            if not change.active:
                product_repo.deactivate_item(session, provider_id, sku)
            return product_repo.item(session, provider_id, sku)
