"""Settlement terms between buyer and seller nodes.

Institutions in the network usually pay after delivery (``POST-FULFILLMENT``, net 30);
``amount`` in ``params`` is a decimal string like every other amount of money.
"""

from __future__ import annotations

from typing import Literal

from .base import BecknModel
from .common import TagGroup, Time
from .scalars import DecimalValue, Uri

PaymentType = Literal["PRE-ORDER", "PRE-FULFILLMENT", "ON-FULFILLMENT", "POST-FULFILLMENT"]
PaymentStatus = Literal["PAID", "NOT-PAID"]


class PaymentParams(BecknModel):
    """The particulars of a payment: amount, currency, accounts on both sides."""

    transaction_id: str | None = None
    amount: DecimalValue | None = None
    currency: str | None = None
    bank_code: str | None = None
    bank_account_number: str | None = None
    virtual_payment_address: str | None = None
    source_bank_code: str | None = None
    source_bank_account_number: str | None = None
    source_virtual_payment_address: str | None = None


class Payment(BecknModel):
    """When and how an order is paid, who collects, and whether it is paid yet."""

    id: str | None = None
    collected_by: str | None = None
    url: Uri | None = None
    params: PaymentParams | None = None
    type: PaymentType | None = None
    status: PaymentStatus | None = None
    time: Time | None = None
    tags: list[TagGroup] | None = None


__all__ = ["Payment", "PaymentParams", "PaymentStatus", "PaymentType"]
