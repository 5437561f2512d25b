"""A product's stock as the pôle changes it (inventory, adjustments) and its movements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.storage import read_session, write_session

from ..repositories import products as product_repo
from ..repositories import stock as stock_repo
from ..repositories import stock_movements as movements


class Stock:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def set(self, provider_id: str, sku: str, quantity: int, note: str | None) -> int | None:
        """Set the stock (a count); the new stock, ``None`` for no such product."""
        with write_session(self.factory) as session:
            return stock_repo.set_item_stock(session, provider_id, sku, quantity, note)

    def adjust(self, provider_id: str, sku: str, delta: int, note: str | None) -> int | None:
        """Add ``delta`` (negative: remove); ``Conflict`` if it would go below zero."""
        with write_session(self.factory) as session:
            return stock_repo.adjust_item_stock(session, provider_id, sku, delta, note)

    def movements(
        self, provider_id: str, sku: str, *, limit: int, offset: int
    ) -> tuple[Mapping[str, Any], list[Mapping[str, Any]], int] | None:
        """The product's row, a page of its movements (newest first) and how many in all;
        ``None`` for no such product."""
        with read_session(self.factory) as session:
            row = product_repo.item(session, provider_id, sku)
            if row is None:
                return None
            found, total = movements.movements_of(session, row["id"], limit=limit, offset=offset)
        return row, found, total
