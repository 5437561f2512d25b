"""Money and quantities as :class:`~decimal.Decimal`: parsing the decimal strings of the wire,
rounding to the cent, and writing amounts for the wire and for people.

Floats are refused everywhere: 0.1 + 0.2 is not 0.3, and a quote that does not add up to the
cent is a dispute with an institutional buyer.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final

from ..errors import ErrorCode, ProtocolError
from ._plain import shown

CENT: Final = Decimal("0.01")
_THIN_SPACE: Final = "\u202f"  # narrow no-break space between groups of thousands
_NO_BREAK_SPACE: Final = "\u00a0"  # before the dollar sign

DecimalLike = Decimal | int | str
"""What the profile accepts as a number: a Decimal, an int, or a decimal string (never a
float)."""


def to_decimal(
    value: object,
    *,
    path: str | None = None,
    error_code: ErrorCode = ErrorCode.INVALID_REQUEST,
) -> Decimal:
    """``value`` as a finite Decimal; :class:`ProtocolError` at ``path`` otherwise.

    Accepts ``Decimal``, ``int`` and decimal strings (``"12.99"``, ``" 3 "``); a comma as the
    decimal mark (``"12,99"``, how people write it in Québec) is accepted too. Floats and
    booleans are refused.
    """
    if isinstance(value, bool | float):
        raise ProtocolError(
            f"Nombre attendu sous forme de chaîne décimale, reçu « {shown(value)} ».",
            code=error_code,
            path=path,
        )
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = Decimal("NaN")
    else:
        number = Decimal("NaN")
    if not number.is_finite():
        raise ProtocolError(
            f"Nombre décimal invalide : « {shown(value)} ».",
            code=error_code,
            path=path,
        )
    return number


def round_cents(amount: DecimalLike) -> Decimal:
    """Rounded to the cent, halves away from zero (9.975 → 9.98, −9.975 → −9.98)."""
    return to_decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(amount: DecimalLike) -> str:
    """The wire form of a price value: ``"114.98"`` (always two decimals, point, no grouping)."""
    return f"{round_cents(amount):.2f}"


def format_cad(amount: DecimalLike) -> str:
    """An amount for people, fr-CA style: ``"1 234,50 $"`` (narrow no-break spaces)."""
    value = round_cents(amount)
    sign = "-" if value < 0 else ""
    units, cents = f"{abs(value):.2f}".split(".")
    groups: list[str] = []
    while len(units) > 3:
        groups.insert(0, units[-3:])
        units = units[:-3]
    groups.insert(0, units)
    return f"{sign}{_THIN_SPACE.join(groups)},{cents}{_NO_BREAK_SPACE}$"
