"""What a pôle offers: providers, items, categories, offers, and the catalog that carries
them in ``on_search``; and the buyer's :class:`Intent`, what ``search`` asks for.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, JsonValue

from .base import BecknModel
from .common import AddOn, Descriptor, Price, Scalar, TagGroup, Time, XInput
from .fulfillment import Fulfillment
from .location import Location
from .party import Organization
from .payment import Payment
from .scalars import Count, DateTime, Flag
from .terms import CancellationTerm, RefundTerm, ReplacementTerm, ReturnTerm


class Quantity(BecknModel):
    """A count of units and/or a measure (``3`` cases, ``12.5`` kg)."""

    count: Annotated[Count, Field(ge=0)] | None = None
    measure: Scalar | None = None


class MaximumQuantity(Quantity):
    """The most one may order: at least one unit."""

    count: Annotated[Count, Field(ge=1)] | None = None


class UnitizedQuantity(Quantity):
    """What one unit of the item is (``1`` unit = ``500`` g)."""

    count: Annotated[Count, Field(ge=1, le=1)] | None = None


class ItemQuantity(BecknModel):
    """Every quantity an item has: in stock, allowed per order, chosen by the buyer."""

    allocated: Quantity | None = None
    available: Quantity | None = None
    maximum: MaximumQuantity | None = None
    minimum: Quantity | None = None
    selected: Quantity | None = None
    unitized: UnitizedQuantity | None = None


class Category(BecknModel):
    """A shelf items are grouped under (``produits-erable``)."""

    id: str | None = None
    parent_category_id: str | None = None
    descriptor: Descriptor | None = None
    time: Time | None = None
    ttl: JsonValue = None
    tags: list[TagGroup] | None = None


class Item(BecknModel):
    """A product or service on sale, or its line in an order (then ``quantity.selected``)."""

    id: str | None = None
    parent_item_id: str | None = None
    parent_item_quantity: ItemQuantity | None = None
    descriptor: Descriptor | None = None
    creator: Organization | None = None
    price: Price | None = None
    quantity: ItemQuantity | None = None
    category_ids: list[str] | None = None
    fulfillment_ids: list[str] | None = None
    location_ids: list[str] | None = None
    payment_ids: list[str] | None = None
    add_ons: list[AddOn] | None = None
    cancellation_terms: list[CancellationTerm] | None = None
    refund_terms: list[RefundTerm] | None = None
    replacement_terms: list[ReplacementTerm] | None = None
    return_terms: list[ReturnTerm] | None = None
    xinput: XInput | None = None
    time: Time | None = None
    rateable: Flag | None = None
    rating: str | None = None
    matched: Flag | None = None
    related: Flag | None = None
    recommended: Flag | None = None
    ttl: str | None = None
    tags: list[TagGroup] | None = None


class Offer(BecknModel):
    """A promotion on some items, categories or locations, for some time."""

    id: str | None = None
    descriptor: Descriptor | None = None
    location_ids: list[str] | None = None
    category_ids: list[str] | None = None
    item_ids: list[str] | None = None
    time: Time | None = None
    tags: list[TagGroup] | None = None


class Provider(BecknModel):
    """A pôle: what it sells, from where, how it delivers and is paid.

    ``ttl`` is in seconds here (``-1``: do not cache), unlike the ISO durations elsewhere.
    """

    id: str | None = None
    descriptor: Descriptor | None = None
    category_id: str | None = None
    rating: str | None = None
    time: Time | None = None
    categories: list[Category] | None = None
    fulfillments: list[Fulfillment] | None = None
    payments: list[Payment] | None = None
    locations: list[Location] | None = None
    offers: list[Offer] | None = None
    items: list[Item] | None = None
    exp: DateTime | None = None
    rateable: Flag | None = None
    ttl: Annotated[Count, Field(ge=-1)] | None = None
    tags: list[TagGroup] | None = None


class Catalog(BecknModel):
    """What a seller node answers to a search: its providers and their items."""

    descriptor: Descriptor | None = None
    fulfillments: list[Fulfillment] | None = None
    payments: list[Payment] | None = None
    offers: list[Offer] | None = None
    providers: list[Provider] | None = None
    exp: DateTime | None = None
    ttl: str | None = None


class Intent(BecknModel):
    """What a buyer looks for: an item by name, a category, a provider, a way to receive it."""

    descriptor: Descriptor | None = None
    provider: Provider | None = None
    fulfillment: Fulfillment | None = None
    payment: Payment | None = None
    category: Category | None = None
    offer: Offer | None = None
    item: Item | None = None
    tags: list[TagGroup] | None = None


__all__ = [
    "Catalog",
    "Category",
    "Intent",
    "Item",
    "ItemQuantity",
    "MaximumQuantity",
    "Offer",
    "Provider",
    "Quantity",
    "UnitizedQuantity",
]
