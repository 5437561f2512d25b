"""TPS and TVQ on quote lines.

* TPS (federal GST) 5 %, TVQ (Québec QST) 9.975 %, both on the price before taxes (since 2013
  the TVQ is no longer charged on the TPS).
* Basic groceries (fresh fruits and vegetables, meat, milk, eggs, flour…) are
  zero-rated: no tax. Prepared food, snacks, soft drinks… are taxable. The profile does not
  try to classify food: each item carries its flag (tag group ``taxes``, ``taxable``).
* Taxes are computed **per line** and each rounded to the cent, halves up (9.975 → 9.98).
  Both per-line and per-invoice rounding are acceptable to the tax authorities; per line, the
  tax amounts shown beside each line of a quote breakup add up exactly to the totals, which is
  what a buyer checks first.
* A line amount is itself rounded to the cent first (0.333 kg at 12.99 $/kg → 4.33 $).

Delivery fees and other charges are lines like any other: the caller gives their flag, since
their tax status depends on who delivers and what is delivered.

    >>> line_taxes("100.00", taxable=True)
    LineTaxes(amount=Decimal('100.00'), taxable=True, tps=Decimal('5.00'), tvq=Decimal('9.98'))
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, NamedTuple

from .money import DecimalLike, round_cents, to_decimal

TPS_RATE: Final = Decimal("0.05")
TVQ_RATE: Final = Decimal("0.09975")
TPS_LABEL: Final = "TPS (5 %)"
TVQ_LABEL: Final = "TVQ (9,975 %)"
_ZERO: Final = Decimal("0.00")


class TaxableLine(NamedTuple):
    """One line to tax: its amount before taxes and whether it is taxable."""

    amount: DecimalLike
    taxable: bool


@dataclass(frozen=True, slots=True)
class LineTaxes:
    """A line with its taxes, every amount rounded to the cent."""

    amount: Decimal
    taxable: bool
    tps: Decimal
    tvq: Decimal

    @property
    def taxes(self) -> Decimal:
        return self.tps + self.tvq

    @property
    def total(self) -> Decimal:
        return self.amount + self.tps + self.tvq


@dataclass(frozen=True, slots=True)
class TaxSummary:
    """Taxes of several lines: the sums of the per-line figures."""

    lines: tuple[LineTaxes, ...]

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), _ZERO)

    @property
    def taxable_subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.taxable), _ZERO)

    @property
    def tps(self) -> Decimal:
        return sum((line.tps for line in self.lines), _ZERO)

    @property
    def tvq(self) -> Decimal:
        return sum((line.tvq for line in self.lines), _ZERO)

    @property
    def taxes(self) -> Decimal:
        return self.tps + self.tvq

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.taxes


def line_amount(unit_price: DecimalLike, quantity: DecimalLike) -> Decimal:
    """Price of a line, rounded to the cent: ``unit_price × quantity``."""
    return round_cents(to_decimal(unit_price) * to_decimal(quantity))


def line_taxes(amount: DecimalLike, *, taxable: bool) -> LineTaxes:
    """TPS and TVQ of one line. Zero-rated lines get 0.00 of each.

    Negative amounts (a discount, a credit) give negative taxes, rounded symmetrically.
    """
    base = round_cents(amount)
    if not taxable:
        return LineTaxes(base, False, _ZERO, _ZERO)
    return LineTaxes(base, True, round_cents(base * TPS_RATE), round_cents(base * TVQ_RATE))


def order_taxes(lines: Iterable[TaxableLine | tuple[DecimalLike, bool] | LineTaxes]) -> TaxSummary:
    """Taxes of every line, and their sums (see the module notes on rounding)."""
    computed: list[LineTaxes] = []
    for line in lines:
        if isinstance(line, LineTaxes):
            computed.append(line)
        else:
            amount, taxable = line
            computed.append(line_taxes(amount, taxable=bool(taxable)))
    return TaxSummary(tuple(computed))
