"""What clients send the buyer node: the request (input) models of its client API.

Each refuses unknown fields (``extra="forbid"``); a refusal is a 400 with the field's path
(:func:`reseau_poles.participant.validated`): searches (``SearchParams``, ``MoreParams``, and the query
strings ``ResultFilters`` and ``Resume``), orders (``OrderIn`` and the body of each action,
``BODY_MODELS``), carts, delivery sites, webhooks, and the local-purchasing report's query.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from reseau_poles.network.destinations import MAX_URL_LENGTH
from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.models.scalars import Email
from reseau_poles.protocol.profile import (
    WHOLE_PROVINCE,
    PaymentTerms,
    PaymentType,
    Unit,
    parse_region,
    parse_region_name,
)
from reseau_poles.protocol.profile.delivery_region import (
    parse_gps,
    parse_postal_code,
    region_for_gps,
    region_for_postal_code,
)
from reseau_poles.protocol.profile.pagination import MAX_SIZE
from reseau_poles.protocol.profile.vocabulary import Certification, Conservation

from .services.results import MAX_PRICE, SortKey

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def one_region(value: str | None) -> str | None:
    """A delivery region: one Québec region (code or name), not the whole province."""
    if value is None:
        return None
    try:
        return str(parse_region(value, allow_whole_province=False))
    except ProtocolError as exc:
        raise ValueError(exc.message) from None


# --- searches --------------------------------------------------------------------------------


class SearchParams(BaseModel):
    """What a buyer app asks for; every field optional (nothing: the whole catalog).

    The region is where the goods must go: its code (``QC-06``) or its name (« Montréal »,
    "saguenay lac saint jean": accents and case do not matter), ``*`` or « Tout le Québec »
    for everywhere; it is stored and sent as its code. Without ``region``, a delivery address gives it:
    ``postal_code`` (urban Québec FSAs only) or ``gps`` (nearest region), see
    :mod:`reseau_poles.protocol.profile.delivery_region`. A given ``region`` always wins."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=64)
    region: str = WHOLE_PROVINCE
    certification: list[str] = Field(default_factory=list, max_length=10)
    conservation: str | None = None
    provider: str | None = Field(default=None, max_length=255)
    postal_code: str | None = Field(default=None, max_length=10)
    gps: str | None = Field(default=None, max_length=64)

    @field_validator("certification", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _checked(lambda v: str(parse_region_name(v)), value)

    @field_validator("certification")
    @classmethod
    def _certifications(cls, values: list[str]) -> list[str]:
        return [_checked(lambda v: Certification.parse(v).value, v) for v in values]

    @field_validator("conservation")
    @classmethod
    def _conservation(cls, value: str | None) -> str | None:
        return None if value is None else _checked(lambda v: Conservation.parse(v).value, value)

    @field_validator("postal_code")
    @classmethod
    def _postal_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("region", WHOLE_PROVINCE) == WHOLE_PROVINCE:
            # The region comes from the postal code: it must be one the profile can place.
            _checked(lambda v: str(region_for_postal_code(v)), value)
        return _checked(parse_postal_code, value)

    @field_validator("gps")
    @classmethod
    def _gps(cls, value: str | None) -> str | None:
        if value is None:
            return None
        lat, lon = _checked_gps(value)
        return f"{lat},{lon}"

    @model_validator(mode="after")
    def _delivery_region(self) -> SearchParams:
        if self.region == WHOLE_PROVINCE and "region" not in self.model_fields_set:
            if self.postal_code:
                self.region = str(region_for_postal_code(self.postal_code))
            elif self.gps:
                self.region = str(region_for_gps(self.gps))
        return self


def _checked(read: Callable[[str], str], value: str) -> str:
    """``read(value)``: the profile's vocabularies raise :class:`ProtocolError`; pydantic
    wants a ValueError (it adds the field's path itself)."""
    try:
        return read(value)
    except ProtocolError as exc:
        raise ValueError(exc.message) from None


def _checked_gps(value: str) -> tuple[float, float]:
    try:
        return parse_gps(value)
    except ProtocolError as exc:
        raise ValueError(exc.message) from None


class MoreParams(BaseModel):
    """``POST /api/searches/{id}/more``: which pôle (provider id or seller node id; every
    truncated pôle when absent) and at most how many items (the seller's own cap otherwise)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    provider: str | None = Field(default=None, min_length=1, max_length=255)
    size: int | None = Field(default=None, ge=1, le=MAX_SIZE)


class ResultFilters(BaseModel):
    """The query string above, described for the OpenAPI document (the route reads it with
    :func:`.results.parse_result_query`, whose refusals are the ones clients get)."""

    certification: list[Certification] | None = Field(
        default=None,
        description="L'article porte cette certification (toutes celles nommées) ; répété, "
        "ou séparé par des virgules.",
    )
    conservation: list[Conservation] | None = Field(
        default=None, description="Classe de conservation (l'une de celles nommées)."
    )
    origin: list[str] | None = Field(
        default=None,
        description="Région d'origine de l'article, `QC-01` … `QC-17` (l'une de celles nommées).",
        examples=[["QC-03", "QC-12"]],
    )
    provider: list[str] | None = Field(
        default=None, description="Un pôle (id de pôle) ou un nœud vendeur (bpp_id)."
    )
    unit: Unit | None = Field(
        default=None,
        description="Comparer dans cette unité (`g` → `kg`, `ml` → `l`) : garde les articles "
        "vendus au poids, au volume ou à l'unité en conséquence.",
    )
    min_unit_price: float | None = Field(
        default=None,
        ge=0,
        le=float(MAX_PRICE),
        description="Prix par `unit` au moins (CAD ; demande `unit`).",
    )
    max_unit_price: float | None = Field(
        default=None,
        ge=0,
        le=float(MAX_PRICE),
        description="Prix par `unit` au plus (CAD ; demande `unit`).",
    )
    sort: SortKey | None = Field(
        default=None,
        description="Tri : `relevance`, `unit_price` (demande `unit`), `price`, `name`, "
        "`region` ; `-` devant pour l'ordre décroissant.",
    )


class Resume(BaseModel):
    last_event_id: str | None = Field(
        default=None,
        description="Reprendre après cet événement (comme l'en-tête `Last-Event-ID`, pour les "
        "clients qui ne peuvent pas le poser).",
    )


# --- orders ----------------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProviderRef(_In):
    bpp_id: Text
    id: Text


class LineIn(_In):
    id: Text
    quantity: int = Field(ge=1, le=1_000_000)


class ContactIn(_In):
    name: Text | None = None
    phone: ShortText | None = None
    email: Email | None = None


class FulfilmentIn(_In):
    """Delivery to an address or GPS point, pickup at the pôle, or a drop point."""

    type: Literal["livraison", "cueillette", "point_de_chute"]
    # One of the pôle's own options (its catalog's ``fulfillments[].id``), when known.
    id: Text | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    gps: (
        Annotated[str, StringConstraints(pattern=r"^-?\d{1,2}(\.\d+)?, ?-?\d{1,3}(\.\d+)?$")] | None
    ) = None
    region: str | None = None
    # The delivery site's name, shown to the pôle (``location.descriptor.name``).
    site_name: Text | None = None
    contact: ContactIn | None = None
    instructions: Annotated[str, StringConstraints(max_length=500)] | None = None

    _region = field_validator("region")(one_region)

    @model_validator(mode="after")
    def _where(self) -> FulfilmentIn:
        if self.type == "livraison" and not (self.address or self.gps):
            raise ValueError("une livraison demande une adresse (address) ou un point GPS (gps)")
        return self


class BillingIn(_In):
    name: Text
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    email: Email | None = None
    phone: ShortText | None = None
    tax_id: ShortText | None = None


class PaymentIn(_In):
    """``POST-FULFILLMENT`` with ``net_days`` (30) is what institutions usually ask for."""

    type: Literal["PRE-ORDER", "PRE-FULFILLMENT", "ON-FULFILLMENT", "POST-FULFILLMENT"]
    net_days: int | None = Field(default=None, ge=1, le=120)

    @model_validator(mode="after")
    def _terms(self) -> PaymentIn:
        if self.net_days is not None and self.type != "POST-FULFILLMENT":
            raise ValueError("net_days : seulement avec le paiement après livraison")
        return self

    def terms(self) -> PaymentTerms:
        return PaymentTerms(PaymentType(self.type), self.net_days)


class WindowIn(_In):
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _order(self) -> WindowIn:
        for value in (self.start, self.end):
            if value.tzinfo is None:
                raise ValueError("heure avec fuseau attendue (RFC 3339, …Z ou -05:00)")
        if self.end <= self.start:
            raise ValueError("la fin de la plage de livraison doit suivre son début")
        return self


def _unique_lines(lines: list[Any]) -> list[Any]:
    seen: set[str] = set()
    for line in lines:
        if line.id in seen:
            raise ValueError(f"article « {line.id} » présent deux fois ; une ligne par article")
        seen.add(line.id)
    return lines


class OrderIn(_In):
    provider: ProviderRef
    items: list[LineIn] = Field(min_length=1, max_length=200)
    fulfilment: FulfilmentIn | None = None
    billing: BillingIn | None = None
    payment: PaymentIn | None = None
    purchase_order_number: ShortText | None = None
    delivery_window: WindowIn | None = None
    # Institutional layer (0003): a delivery site and the cart this order came from.
    delivery_site_id: ShortText | None = None
    cart_id: ShortText | None = None

    _lines = field_validator("items")(_unique_lines)


class InitIn(_In):
    """What init (and confirm) may add or replace: who pays and how."""

    billing: BillingIn | None = None
    payment: PaymentIn | None = None
    purchase_order_number: ShortText | None = None


class CancelIn(_In):
    reason_code: ShortText
    description: Annotated[str, StringConstraints(max_length=500)] | None = None


class UpdateLineIn(_In):
    """A line's new quantity; 0 takes the line out (the order keeps at least one)."""

    id: Text
    quantity: int = Field(ge=0, le=1_000_000)


class UpdateIn(_In):
    items: list[UpdateLineIn] | None = Field(default=None, min_length=1, max_length=200)
    fulfilment: FulfilmentIn | None = None

    _lines = field_validator("items")(lambda v: None if v is None else _unique_lines(v))

    @model_validator(mode="after")
    def _one(self) -> UpdateIn:
        if (self.items is None) == (self.fulfilment is None):
            raise ValueError("indiquez soit items, soit fulfilment")
        return self


class RatingIn(_In):
    value: int = Field(ge=1, le=5)
    category: Literal["Order", "Fulfillment", "Provider", "Item", "Agent", "Support"] = "Order"
    id: Text | None = None


class SupportIn(_In):
    phone: ShortText | None = None
    email: Email | None = None


BODY_MODELS: dict[str, type[_In] | None] = {
    "init": InitIn,
    "confirm": InitIn,
    "status": None,
    "track": None,
    "cancel": CancelIn,
    "update": UpdateIn,
    "rating": RatingIn,
    "support": SupportIn,
}


# --- carts -----------------------------------------------------------------------------------


MAX_LINES = 500


class CartLineIn(_In):
    """An item picked from a search result: its seller node, its pôle, its id."""

    bpp_id: Text
    provider_id: Text
    item_id: Text
    quantity: int = Field(ge=1, le=1_000_000)
    fulfilment_id: Text | None = None


class CartFields(_In):
    name: Text | None = None
    delivery_site_id: ShortText | None = None
    fulfilment: FulfilmentIn | None = None
    delivery_window: WindowIn | None = None
    purchase_order_number: ShortText | None = None
    payment: PaymentIn | None = None
    billing: BillingIn | None = None


class CartIn(CartFields):
    lines: list[CartLineIn] = Field(default_factory=list, max_length=MAX_LINES)


# --- delivery sites --------------------------------------------------------------------------


Clock = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Day = Literal["lun", "mar", "mer", "jeu", "ven", "sam", "dim"]
ColdClass = Literal["ambiant", "refrigere", "congele"]


def _ambient_only() -> list[ColdClass]:
    """A site's storage classes when none are given: ambient only."""
    return ["ambiant"]


class HoursIn(BaseModel):
    """One receiving window: days of the week and a time range (local time, 24 h)."""

    model_config = ConfigDict(extra="forbid")

    days: list[Day] = Field(min_length=1, max_length=7)
    start: Clock
    end: Clock

    @model_validator(mode="after")
    def _order(self) -> HoursIn:
        if self.end <= self.start:
            raise ValueError("l'heure de fin doit suivre l'heure de début (HH:MM)")
        if len(set(self.days)) != len(self.days):
            raise ValueError("un même jour est nommé deux fois")
        return self


class SiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    address: LongText
    postal_code: str | None = None
    region: str | None = None
    gps: str | None = None
    receiving_hours: list[HoursIn] = Field(default_factory=list, max_length=14)
    contact: ContactIn | None = None
    cold_chain: list[ColdClass] = Field(default_factory=_ambient_only, max_length=3)
    instructions: LongText | None = None

    @field_validator("postal_code")
    @classmethod
    def _postal(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return parse_postal_code(value)
        except ProtocolError as exc:
            raise ValueError(exc.message) from None

    _region = field_validator("region")(one_region)

    @field_validator("gps")
    @classmethod
    def _gps(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            lat, lon = parse_gps(value)
        except ProtocolError as exc:
            raise ValueError(exc.message) from None
        return f"{lat},{lon}"

    @field_validator("cold_chain")
    @classmethod
    def _cold(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("une même classe de conservation est nommée deux fois")
        return value


# --- webhooks --------------------------------------------------------------------------------


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Checked by the node's destination policy (network.destinations): https, public address.
    url: str = Field(max_length=MAX_URL_LENGTH)
    event_types: list[str] = Field(default_factory=lambda: ["*"], min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=255)


# --- reports ---------------------------------------------------------------------------------


class ReportQuery(BaseModel):
    """The report's query string, described (the route reads it, with its own refusals)."""

    from_: date = Field(alias="from", description="Début de la période, AAAA-MM-JJ (inclus).")
    to: date = Field(description="Fin de la période, AAAA-MM-JJ (incluse).")
    format: Literal["json", "csv"] = Field(
        default="json", description="`json` (défaut) ou `csv` (fichier en pièce jointe)."
    )
    decimal: Literal["virgule", "point"] = Field(
        default="virgule",
        description="CSV : `virgule` (défaut : « ; » et virgule décimale, Excel fr-CA) ou "
        "`point` (CSV standard).",
    )
