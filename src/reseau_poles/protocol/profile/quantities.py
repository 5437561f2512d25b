"""How many units of an item a buyer may order: one rule for every action that sets a quantity.

A seller checks the same rule in ``select``, ``init``, ``confirm`` and ``update`` of
``order.items`` (seller_node/README.md, « Règles du protocole »), in this order:

1. the count is an integer (not a boolean), at least 1 — or 0 in an update, which removes the
   line — and at most :data:`MAX_COUNT`: otherwise the message itself is wrong (30000, a
   NACK); the bound also keeps every count inside the database's integer columns;
2. at least the item's minimum (40010), a removed line aside;
3. at most the item's maximum when the pôle declared one (40002);
4. at most what is left: the free stock plus what the order already holds (40002). Never
   oversell: the seller takes the stock with a conditional write after this check, which
   refuses the same way when a concurrent order got there first.

No I/O: the caller reads the item's limits and stock and passes them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ..errors import ErrorCode, ProtocolError

# One million units of one line is absurd for a pôle; beyond, a count would also overflow the
# 32-bit INTEGER columns that hold quantities (PostgreSQL) once added to a stock.
MAX_COUNT: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class QuantityRules:
    """An item's limits as the catalogue declares them, and its stock free to take now."""

    name: str
    unit: str = "unité"
    minimum: int = 1
    maximum: int | None = None
    available: int | None = None


def check_count(
    count: object,
    rules: QuantityRules | None = None,
    *,
    path: str,
    held: int = 0,
    removable: bool = False,
) -> int:
    """``count`` when the rules allow it; :class:`ProtocolError` at ``path`` otherwise.

    ``rules`` ``None`` checks the shape only (step 1), before the item is known. ``held``: the
    units the order already holds (an update), which the new count may keep on top of the
    free stock. ``removable``: 0 is allowed (an update removing the line)."""
    least = 0 if removable else 1
    if isinstance(count, bool) or not isinstance(count, int) or not least <= count <= MAX_COUNT:
        raise ProtocolError(
            f"Quantité invalide : un entier de {least} à {MAX_COUNT:,}".replace(",", " ")
            + (" (0 retire la ligne)." if removable else "."),
            code=ErrorCode.INVALID_REQUEST,
            path=path,
        )
    if rules is None or count == 0:
        return count
    if count < rules.minimum:
        raise ProtocolError(
            f"Commande minimale de « {rules.name} » : {rules.minimum} (demandé : {count}).",
            code=ErrorCode.BELOW_MINIMUM_ORDER,
            path=path,
        )
    if rules.maximum and count > rules.maximum:
        raise ProtocolError(
            f"Commande maximale de « {rules.name} » : {rules.maximum} (demandé : {count}).",
            code=ErrorCode.QUANTITY_UNAVAILABLE,
            path=path,
        )
    if rules.available is not None and count > held + max(rules.available, 0):
        raise ProtocolError(
            unavailable_text(rules, count, held), code=ErrorCode.QUANTITY_UNAVAILABLE, path=path
        )
    return count


def unavailable_text(rules: QuantityRules, count: int, held: int = 0) -> str:
    """« il reste … » for a count beyond the stock, ``rules.available`` read now."""
    left = max(rules.available or 0, 0)
    extra = f" en plus des {held} déjà commandés" if held else ""
    return (
        f"Quantité non disponible : il reste {left} {rules.unit}(s) de « {rules.name} »{extra} "
        f"(demandé : {count})."
    )
