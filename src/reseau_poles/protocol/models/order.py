"""An order and what travels with it: the quote and its breakup, billing, cancellation.

``Order.status`` is the coarse 1.1 enum (``ACTIVE | COMPLETE | CANCELLED``); the fine life
cycle of goods lives in each fulfilment's state code.
"""

from __future__ import annotations

from typing import Literal

from .base import BecknModel
from .catalog import Item, Offer, Provider
from .common import AddOn, Descriptor, Option, Price, TagGroup, Time, XInput
from .fulfillment import Fulfillment
from .location import Address, City, State
from .party import Organization
from .payment import Payment
from .scalars import DateTime, Duration, Email, Uuid
from .terms import CancellationTerm, RefundTerm, ReplacementTerm, ReturnTerm

OrderStatus = Literal["ACTIVE", "COMPLETE", "CANCELLED"]


class Billing(BecknModel):
    """Who the invoice is made out to; ``tax_id`` holds the TPS/TVQ numbers where given."""

    name: str | None = None
    organization: Organization | None = None
    address: Address | None = None
    state: State | None = None
    city: City | None = None
    email: Email | None = None
    phone: str | None = None
    time: Time | None = None
    tax_id: str | None = None


class Cancellation(BecknModel):
    """Who cancelled an order, when, and why."""

    time: DateTime | None = None
    cancelled_by: Literal["CONSUMER", "PROVIDER"] | None = None
    reason: Option | None = None
    additional_description: Descriptor | None = None


class QuotationBreakup(BecknModel):
    """One line of a quote: an item, delivery, TPS, TVQ …; ``title`` names it."""

    item: Item | None = None
    title: str | None = None
    price: Price | None = None


class Quotation(BecknModel):
    """The seller's price for an order, line by line, valid for ``ttl``."""

    id: Uuid | None = None
    price: Price | None = None
    breakup: list[QuotationBreakup] | None = None
    ttl: Duration | None = None


class Order(BecknModel):
    """A buyer's order with a provider, from the first ``select`` to the last ``on_status``."""

    id: str | None = None
    ref_order_ids: list[str] | None = None
    status: OrderStatus | None = None
    type: Literal["DRAFT", "DEFAULT"] | None = None
    provider: Provider | None = None
    items: list[Item] | None = None
    add_ons: list[AddOn] | None = None
    offers: list[Offer] | None = None
    billing: Billing | None = None
    fulfillments: list[Fulfillment] | None = None
    cancellation: Cancellation | None = None
    cancellation_terms: list[CancellationTerm] | None = None
    refund_terms: list[RefundTerm] | None = None
    replacement_terms: list[ReplacementTerm] | None = None
    return_terms: list[ReturnTerm] | None = None
    quote: Quotation | None = None
    payments: list[Payment] | None = None
    created_at: DateTime | None = None
    updated_at: DateTime | None = None
    xinput: XInput | None = None
    tags: list[TagGroup] | None = None


__all__ = ["Billing", "Cancellation", "Order", "OrderStatus", "Quotation", "QuotationBreakup"]
