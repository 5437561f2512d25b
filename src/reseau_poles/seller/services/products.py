"""A pôle's products, as its management API lists, saves and withdraws them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.storage import read_session, write_session

from ..repositories import products as product_repo
from ..repositories.products import ItemFilter
from ..requests import ItemIn

__all__ = ["ItemFilter", "Products"]


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

    def save(self, provider_id: str, product: ItemIn, *, keep_stock: bool) -> bool:
        """Create or replace (and reactivate) a product; ``True`` when it is new."""
        with write_session(self.factory) as session:
            return product_repo.put_item(session, provider_id, product, keep_stock=keep_stock)

    def withdraw(self, provider_id: str, sku: str) -> bool:
        """Take an active product out of the catalogue (kept for the orders)."""
        with write_session(self.factory) as session:
            return product_repo.deactivate_item(session, provider_id, sku)
