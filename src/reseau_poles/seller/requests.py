"""What the seller node reads from a pôle: its profile, places, products and fulfilment
options (also read from the CSV import and the ``seller`` commands), and the bodies and query
strings of the management API's routes.

Pydantic models that read the profile's vocabularies leniently (``"Réfrigéré"`` →
``refrigere``, ``"qc-3"`` → ``QC-03``) and refuse anything else with a French message;
every model refuses what it does not know, a refusal is a 400 ``parametres_invalides`` with
the JSON path at fault (``reseau_poles.participant.validated``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from reseau_poles.network.destinations import MAX_URL_LENGTH
from reseau_poles.participant.webhooks import ALL_EVENTS
from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.profile import (
    Certification,
    Conservation,
    FulfillmentState,
    FulfillmentType,
    LegalForm,
    PaymentType,
    Unit,
    parse_days,
    parse_hours,
    parse_region,
)
from reseau_poles.protocol.profile.delivery_window import (
    MAX_WINDOW_HOURS,
    format_days,
    format_hours,
)

from .services.webhooks import SELLER_EVENTS

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Url = Annotated[str, Field(max_length=2048, pattern=r"^https?://[^\s]+$")]
IDENTIFIER_RULE = "1 à 64 caractères parmi A-Z a-z 0-9 . _ -"
_IDENTIFIER = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Taken by the management API's /products/import and /products/export.
RESERVED_SKUS = frozenset({"import", "export"})
# Counts stay well inside a 32-bit INTEGER on every database.
MAX_COUNT = 1_000_000_000


def _vocabulary(cls: Any, value: Any) -> Any:
    try:
        return cls.parse(value)
    except ProtocolError as exc:
        raise ValueError(exc.message) from None


def _each(value: Any, parse: Callable[[Any], Any]) -> Any:
    """Each element of a list read by ``parse``; anything else is left for pydantic to refuse
    (``liste attendue``) rather than raising a ``TypeError``, which would be a 500."""
    return [parse(x) for x in value] if isinstance(value, list) else value


def _identifier(label: str) -> Callable[[Any], Any]:
    """A before-validator for an identifier (SKU, pôle, lieu, mode): the same check as the
    field's ``pattern`` (kept for the JSON schema), with a message that states the format:
    « SKU invalide : 1 à 64 caractères parmi A-Z a-z 0-9 . _ - »."""

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value  # pydantic says « chaîne attendue »
        value = value.strip()
        if not _IDENTIFIER.fullmatch(value):
            shown = f" (« {value[:40]}{'…' if len(value) > 40 else ''} »)" if value else ""
            raise ValueError(f"{label} invalide{shown} : {IDENTIFIER_RULE}")
        return value

    return check


def _region(value: Any, *, whole: bool) -> str:
    try:
        return str(parse_region(value, allow_whole_province=whole))
    except ProtocolError as exc:
        raise ValueError(exc.message) from None


def _rule(value: Any, parse: Callable[[Any], Any], format: Callable[[Any], str]) -> str:
    """A delivery rule in its one written form (``"lun,mar"``, ``"07:00-15:00"``)."""
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        value = ",".join(value)
    try:
        return format(parse(value))
    except ValueError as exc:
        raise ValueError(str(exc)) from None


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProviderIn(_In):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    name: str = Field(min_length=1, max_length=255)
    short_desc: str | None = None
    legal_form: LegalForm
    neq: str | None = Field(default=None, pattern=r"^\d{10}$")
    region: str
    served_regions: list[str] = Field(default_factory=list)
    contact_name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=255, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=64)
    website: Url | None = None
    opening_hours: str | None = Field(default=None, max_length=255)
    payment_types: list[PaymentType] = Field(
        default_factory=lambda: [PaymentType.POST_FULFILLMENT, PaymentType.ON_FULFILLMENT]
    )
    net_days: int | None = Field(default=30, ge=0, le=120)
    cancellation_fee_percentage: Annotated[Decimal, Field(ge=0, le=100)] = Decimal("10")

    _id = field_validator("id", mode="before")(_identifier("Identifiant de pôle"))
    _legal_form = field_validator("legal_form", mode="before")(lambda v: _vocabulary(LegalForm, v))
    _payment_types = field_validator("payment_types", mode="before")(
        lambda v: _each(v, lambda x: _vocabulary(PaymentType, x))
    )
    _home = field_validator("region", mode="before")(lambda v: _region(v, whole=False))
    _served = field_validator("served_regions", mode="before")(
        lambda v: _each(v, lambda x: _region(x, whole=True))
    )


class LocationIn(_In):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    name: str = Field(min_length=1, max_length=255)
    gps: str | None = Field(
        default=None, max_length=64, pattern=r"^\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*$"
    )
    address: str | None = Field(default=None, max_length=512)
    city: str | None = Field(default=None, max_length=128)
    region: str
    postal_code: str | None = Field(default=None, max_length=16)

    _region_code = field_validator("region", mode="before")(lambda v: _region(v, whole=False))
    _id = field_validator("id", mode="before")(_identifier("Identifiant de lieu"))


class ItemIn(_In):
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    name: str = Field(min_length=1, max_length=255)
    short_desc: str | None = None
    long_desc: str | None = None
    name_en: str | None = Field(default=None, max_length=255)
    short_desc_en: str | None = None
    category_id: str = Field(min_length=1, max_length=64)
    category_name: str = Field(min_length=1, max_length=255)
    unit: Unit = Unit.UNITE
    pack_size: Annotated[
        Decimal, Field(gt=0, max_digits=12, decimal_places=3, allow_inf_nan=False)
    ] = Decimal(1)
    price: Money
    minimum_quantity: int = Field(default=1, ge=1, le=MAX_COUNT)
    maximum_quantity: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    taxable: bool = False
    certifications: list[Certification] = Field(default_factory=list)
    conservation: Conservation = Conservation.AMBIANT
    producer: str | None = Field(default=None, max_length=255)
    origin_region: str | None = None
    season_months: list[int] | None = None
    image_url: Url | None = None
    stock: int = Field(default=0, ge=0, le=MAX_COUNT)

    _sku = field_validator("sku", mode="before")(_identifier("SKU"))

    @field_validator("sku")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.lower() in RESERVED_SKUS:
            raise ValueError(
                f"SKU « {value} » réservé (adresse de l'API : …/products/{value.lower()})."
            )
        return value

    _unit = field_validator("unit", mode="before")(lambda v: _vocabulary(Unit, v))
    _conservation = field_validator("conservation", mode="before")(
        lambda v: _vocabulary(Conservation, v)
    )
    _certifications = field_validator("certifications", mode="before")(
        lambda v: _each(v, lambda x: _vocabulary(Certification, x))
    )
    _origin = field_validator("origin_region", mode="before")(
        lambda v: None if v in (None, "") else _region(v, whole=False)
    )

    @field_validator("season_months")
    @classmethod
    def _months(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and (not value or any(not 1 <= m <= 12 for m in value)):
            raise ValueError("Les mois d'une saison vont de 1 à 12 (au moins un).")
        return sorted(set(value)) if value else value

    @field_validator("maximum_quantity")
    @classmethod
    def _maximum(cls, value: int | None, info: ValidationInfo) -> int | None:
        minimum = info.data.get("minimum_quantity")
        if value is not None and minimum is not None and value < minimum:
            raise ValueError(
                "La quantité maximale ne peut pas être inférieure à la quantité minimale."
            )
        return value


class FulfillmentOptionIn(_In):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    type: FulfillmentType
    name: str = Field(min_length=1, max_length=255)
    regions: list[str] = Field(default_factory=list)
    fee: Money = Decimal("0")
    fee_taxable: bool = True
    lead_time_hours: int = Field(default=24, ge=0, le=24 * 365)
    cold_chain: list[Conservation] = Field(default_factory=list)
    location_id: str | None = Field(default=None, max_length=64)
    # When the option delivers (not declared: not checked): days "lun-ven" or ["lun", "mer"],
    # hours "07:00-15:00" (Québec time), the longest delivery window, the minimum order.
    delivery_days: str | None = None
    delivery_hours: str | None = None
    max_window_hours: int | None = Field(default=None, ge=1, le=MAX_WINDOW_HOURS)
    minimum_order: Money | None = None

    _id = field_validator("id", mode="before")(_identifier("Identifiant de mode"))
    _type = field_validator("type", mode="before")(lambda v: _vocabulary(FulfillmentType, v))
    _days = field_validator("delivery_days", mode="before")(
        lambda v: None if v in (None, "", []) else _rule(v, parse_days, format_days)
    )
    _hours = field_validator("delivery_hours", mode="before")(
        lambda v: None if v in (None, "") else _rule(v, parse_hours, format_hours)
    )
    _regions = field_validator("regions", mode="before")(
        lambda v: _each(v, lambda x: _region(x, whole=True))
    )
    _cold = field_validator("cold_chain", mode="before")(
        lambda v: _each(v, lambda x: _vocabulary(Conservation, x))
    )


# --- the routes' bodies and query strings ------------------------------------------------


MAX_PAGE = 200
STATES = [state.value for state in FulfillmentState]


# --- products -------------------------------------------------------------------------------


# Query strings the routes read themselves (their refusals are the routes' own), described.
class ProductQuery(BaseModel):
    q: str | None = Field(
        default=None,
        description="Mots du nom, de la description ou du producteur (200 caractères lus).",
    )
    category: str | None = Field(default=None, description="Catégorie (`category_id`).")
    active: Literal["true", "false", "all"] = Field(
        default="true",
        description="Produits actifs (`true`, défaut), retirés (`false`) ou tous (`all`) ; "
        "`oui`/`non`/`tous`, `1`/`0` sont lus aussi.",
    )
    offset: int = Field(default=0, ge=0, le=MAX_COUNT, description="Début de la page.")
    limit: int = Field(default=50, ge=1, le=MAX_PAGE, description="Taille de la page.")


class ImportQuery(BaseModel):
    dry_run: bool = Field(default=False, description="`true` : valider seulement, rien écrire.")


class ExportQuery(BaseModel):
    delimiter: Literal[",", ";"] = Field(
        default=",",
        description="Séparateur : `,` (défaut) ou `;` (avec la virgule décimale, pour Excel "
        "en français).",
    )


# --- stock ----------------------------------------------------------------------------------


class StockIn(BaseModel):
    model_config = {"extra": "forbid"}
    quantity: int = Field(ge=0, le=MAX_COUNT)
    # Kept with the stock movement (GET …/stock-movements): « inventaire du lundi ».
    reason: str | None = Field(default=None, max_length=255)


class AdjustmentIn(BaseModel):
    model_config = {"extra": "forbid"}
    delta: int = Field(ge=-MAX_COUNT, le=MAX_COUNT)
    reason: str | None = Field(default=None, max_length=255)


class MovementQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0)


# --- API keys -------------------------------------------------------------------------------


class KeyIn(BaseModel):
    model_config = {"extra": "forbid", "str_strip_whitespace": True}
    label: str | None = Field(default=None, max_length=255)


# --- orders ---------------------------------------------------------------------------------


class FulfillmentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: str = Field(min_length=1, max_length=32)
    tracking_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://[^\s]+$")
    reason_code: str | None = Field(default=None, min_length=1, max_length=64)


class SellerCancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason_code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    message: str | None = Field(default=None, max_length=1000)


class OrderFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["ACTIVE", "COMPLETE", "CANCELLED"] | None = None
    fulfillment_state: str | None = None
    purchase_order_number: str | None = Field(default=None, min_length=1, max_length=64)
    # A delivery day in Québec time: orders whose delivery window starts that day.
    delivery_date: date | None = None
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0)

    @field_validator("fulfillment_state")
    @classmethod
    def _state(cls, value: str | None) -> str | None:
        if value is not None and value not in STATES:
            raise ValueError(f"état inconnu (connus : {', '.join(STATES)})")
        return value


class PickListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: date
    format: Literal["json", "csv", "html"] | None = None


# --- webhooks -------------------------------------------------------------------------------


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Checked by the node's destination policy (network.destinations): https, public address.
    url: str = Field(max_length=MAX_URL_LENGTH)
    event_types: list[str] = Field(
        default_factory=lambda: [ALL_EVENTS], min_length=1, max_length=len(SELLER_EVENTS) + 1
    )
    description: str | None = Field(default=None, max_length=255)

    @field_validator("event_types")
    @classmethod
    def _known(cls, values: list[str]) -> list[str]:
        for value in values:
            if value != ALL_EVENTS and value not in SELLER_EVENTS:
                known = ", ".join(SELLER_EVENTS)
                raise ValueError(f"type d'événement inconnu « {value[:40]} » (connus : {known}, *)")
        return values
