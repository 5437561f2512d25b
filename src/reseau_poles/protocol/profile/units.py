"""Units of measure of the profile, their French labels, and the conversions that make sense.

Mass (g ↔ kg), volume (ml ↔ l) and counts (unité ↔ douzaine) convert exactly; a ``botte``
(bunch) or a ``caisse`` (case) holds whatever the producer puts in it, so it converts to
nothing but itself. :func:`price_per` brings prices to a common unit so a buyer can compare
« 3,00 $ les 250 g » with « 11,50 $ le kg ».

On the wire a quantity is Beckn 1.1's ``quantity.unitized.measure``: ``{"unit": "kg",
"value": "2.5"}`` (:func:`measure`, :func:`parse_measure`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from ..errors import ErrorCode, ProtocolError
from ._plain import as_mapping
from .money import DecimalLike, to_decimal
from .vocabulary import LabelledCode, describe


class Dimension(StrEnum):
    """What a unit measures. Units convert only within one dimension."""

    MASSE = "masse"
    VOLUME = "volume"
    NOMBRE = "nombre"
    BOTTE = "botte"
    CAISSE = "caisse"


class Unit(LabelledCode):
    """A unit of measure; the value is the code in ``measure.unit``."""

    KG = "kg", "kilogramme"
    G = "g", "gramme"
    L = "l", "litre"
    ML = "ml", "millilitre"
    UNITE = "unite", "unité"
    DOUZAINE = "douzaine", "douzaine"
    BOTTE = "botte", "botte"
    CAISSE = "caisse", "caisse"

    @property
    def dimension(self) -> Dimension:
        return _DIMENSION[self]

    @property
    def base(self) -> Unit:
        """The unit prices are compared in: kg, l, unité; a botte or caisse is its own base."""
        return _BASE[self.dimension]

    @property
    def factor(self) -> Decimal:
        """How many base units one of this unit is (g → 0.001, douzaine → 12)."""
        return _FACTOR.get(self, Decimal(1))

    @property
    def symbol(self) -> str:
        """Short form for display: kg, g, L, mL, unité, douz., botte, caisse."""
        return _SYMBOL.get(self, self.label)

    def plural(self) -> str:
        """French plural of the label (« kilogrammes », « unités », « caisses »)."""
        return self.label + "s"


_DIMENSION: Final = {
    Unit.KG: Dimension.MASSE,
    Unit.G: Dimension.MASSE,
    Unit.L: Dimension.VOLUME,
    Unit.ML: Dimension.VOLUME,
    Unit.UNITE: Dimension.NOMBRE,
    Unit.DOUZAINE: Dimension.NOMBRE,
    Unit.BOTTE: Dimension.BOTTE,
    Unit.CAISSE: Dimension.CAISSE,
}
_BASE: Final = {
    Dimension.MASSE: Unit.KG,
    Dimension.VOLUME: Unit.L,
    Dimension.NOMBRE: Unit.UNITE,
    Dimension.BOTTE: Unit.BOTTE,
    Dimension.CAISSE: Unit.CAISSE,
}
_FACTOR: Final = {Unit.G: Decimal("0.001"), Unit.ML: Decimal("0.001"), Unit.DOUZAINE: Decimal(12)}
_SYMBOL: Final = {Unit.KG: "kg", Unit.G: "g", Unit.L: "L", Unit.ML: "mL", Unit.DOUZAINE: "douz."}
describe(
    Unit,
    noun="unité de mesure",
    aliases={
        "kilo": "kg",
        "kilogramme": "kg",
        "kilogram": "kg",
        "gramme": "g",
        "gram": "g",
        "litre": "l",
        "liter": "l",
        "millilitre": "ml",
        "milliliter": "ml",
        "unit": "unite",
        "un": "unite",
        "piece": "unite",
        "dz": "douzaine",
        "dozen": "douzaine",
        "bunch": "botte",
        "case": "caisse",
    },
)


class IncompatibleUnitsError(ValueError):
    """A conversion between units of different dimensions (kg to l, botte to kg).

    A local mistake of the caller (compare only convertible units, see :func:`can_convert`),
    not something a peer sent.
    """


def can_convert(source: Unit, target: Unit) -> bool:
    return source.dimension is target.dimension


def convert(quantity: DecimalLike, source: Unit, target: Unit) -> Decimal:
    """``quantity`` expressed in ``target`` (exact: 250 g → 0.25 kg, 2 douzaines → 24 unités)."""
    if not can_convert(source, target):
        raise IncompatibleUnitsError(
            f"Impossible de convertir des {source.plural()} en {target.plural()}."
        )
    return to_decimal(quantity) * source.factor / target.factor


def price_per(
    price: DecimalLike, quantity: DecimalLike, unit: Unit, per: Unit | None = None
) -> Decimal:
    """The price of one ``per`` (default: the base unit) when ``quantity`` ``unit`` costs
    ``price``. Not rounded, so comparisons stay exact; round for display only.

    >>> price_per("3.00", 250, Unit.G, Unit.KG)
    Decimal('12')
    """
    per = per or unit.base
    amount = convert(quantity, unit, per)
    if amount <= 0:
        raise ValueError("La quantité doit être positive pour calculer un prix unitaire.")
    return (to_decimal(price) / amount).normalize()


def measure(value: DecimalLike, unit: Unit) -> dict[str, str]:
    """Beckn 1.1 ``Scalar`` for a quantity: ``{"unit": "kg", "value": "2.5"}``."""
    return {"unit": unit.value, "value": format(to_decimal(value).normalize(), "f")}


def parse_measure(
    obj: Mapping[str, Any] | Any,
    *,
    path: str = "measure",
    error_code: ErrorCode = ErrorCode.INVALID_REQUEST,
) -> tuple[Decimal, Unit]:
    """``(value, unit)`` from a ``measure`` object; the value must be a non-negative number."""
    data = as_mapping(obj)
    if data is None:
        raise ProtocolError("Mesure attendue : {unit, value}.", code=error_code, path=path)
    unit = Unit.parse(data.get("unit"), path=f"{path}.unit", error_code=error_code)
    value = to_decimal(data.get("value"), path=f"{path}.value", error_code=error_code)
    if value < 0:
        raise ProtocolError(
            "Une quantité ne peut être négative.", code=error_code, path=f"{path}.value"
        )
    return value, unit


def check_minimum_quantity(
    quantity: DecimalLike,
    unit: Unit,
    minimum: DecimalLike,
    minimum_unit: Unit | None = None,
    *,
    item_id: str | None = None,
    path: str | None = None,
) -> None:
    """Refuse (40010 ``BELOW_MINIMUM_ORDER``) an order line below the item's minimum.

    The minimum may be given in another unit of the same dimension (minimum 1 kg, ordered
    500 g); a minimum in an unrelated unit is the caller's mistake (:class:`ValueError`).
    """
    minimum_unit = minimum_unit or unit
    ordered = convert(quantity, unit, minimum_unit)
    least = to_decimal(minimum)
    if ordered < least:
        what = f"« {item_id} »" if item_id else "ce produit"
        raise ProtocolError(
            f"Quantité insuffisante pour {what} : minimum {least.normalize():f} "
            f"{minimum_unit.symbol}, commandé {to_decimal(quantity).normalize():f} {unit.symbol}.",
            code=ErrorCode.BELOW_MINIMUM_ORDER,
            path=path,
            details={"item_id": item_id, "minimum": str(least), "unit": minimum_unit.value},
        )
