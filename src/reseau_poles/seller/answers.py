"""What the pôle's management API answers (documentation of the routers of :mod:`.api`; see
:mod:`reseau_poles.participant.answers`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from reseau_poles.participant.answers import Amount, Answer

from .requests import ItemIn, LocationIn, ProviderIn

# The profile, a place and a product answer what their PUT takes, with a few fields more.
_OUT = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class ProviderAnswer(ProviderIn):
    """The pôle's profile."""

    model_config = _OUT

    active: bool = Field(description="Le pôle figure au catalogue du réseau.")


class LocationAnswer(LocationIn):
    """A place of the pôle: warehouse, pickup point or drop point."""

    model_config = _OUT


class LocationList(Answer):
    locations: list[LocationAnswer]


class FulfillmentOptionAnswer(Answer):
    """A fulfilment option: delivery to regions, pickup at the pôle, or a drop point."""

    id: str
    type: str = Field(description="`livraison`, `cueillette` ou `point_de_chute`.")
    name: str
    regions: list[str] = Field(description="Régions desservies (QC-01 … QC-17, `QC`).")
    fee: str = Field(description="Frais en CAD, deux décimales.")
    fee_taxable: bool
    lead_time_hours: int
    cold_chain: list[str] = Field(description="Classes de conservation prises en charge.")
    location_id: str | None
    delivery_days: str | None = Field(description="Jours de livraison (`lun-ven`).")
    delivery_hours: str | None = Field(description="Heures de livraison (`07:00-15:00`).")
    max_window_hours: int | None
    minimum_order: str | None = Field(description="Commande minimale en CAD, ou `null`.")


class FulfillmentOptionList(Answer):
    fulfillment_options: list[FulfillmentOptionAnswer]


class ProductAnswer(ItemIn):
    """A product of the catalogue (as its PUT takes it), with its state and times."""

    model_config = _OUT

    active: bool = Field(description="`false` : retiré du catalogue (un PUT le rétablit).")
    created_at: str | None
    updated_at: str | None


class ProductPage(Answer):
    """A page of products, by SKU."""

    products: list[ProductAnswer]
    total: int = Field(description="Produits qui répondent aux filtres, toutes pages.")
    offset: int
    limit: int


class ImportRowError(Answer):
    row: int = Field(description="Ligne du fichier (1 : les en-têtes).")
    column: str | None
    message: str


class ImportReport(Answer):
    rows: int
    created: int
    updated: int
    written: bool = Field(description="`true` : les produits sont enregistrés.")
    dry_run: bool
    error_count: int = Field(description="Toutes les erreurs trouvées.")
    errors: list[ImportRowError] = Field(description="Les 1 000 premières.")


class ImportAnswer(Answer):
    """What an import (or a dry run) did."""

    report: ImportReport


class StockAnswer(Answer):
    sku: str
    stock: int = Field(description="Quantité disponible.")


class StockMovement(Answer):
    reason: str = Field(
        description="`commande`, `annulation`, `modification`, `inventaire`, `ajustement`, "
        "`import_csv`, `creation`, `reprise`."
    )
    label: str = Field(description="Le motif en français.")
    delta: int
    quantity: int = Field(description="Stock après le mouvement.")
    reference: str | None = Field(description="Commande ou import en cause.")
    note: str | None
    at: str | None


class StockMovements(Answer):
    sku: str
    stock: int
    movements: list[StockMovement]
    total: int
    limit: int
    offset: int
    next_offset: int | None = Field(description="Début de la page suivante ; `null` à la fin.")


class ApiKey(Answer):
    prefix: str = Field(description="Les 12 premiers caractères de la clé.")
    label: str | None
    created_at: str | None
    revoked_at: str | None


class ApiKeyList(Answer):
    api_keys: list[ApiKey]


class ApiKeyCreated(Answer):
    key: str = Field(description="La clé entière ; montrée une seule fois.")
    prefix: str
    label: str | None


# --- orders ---------------------------------------------------------------------------------------


class OrderBuyer(Answer):
    """The buyer organisation as billed."""

    name: str | None
    email: str | None
    phone: str | None
    address: str | None
    tax_id: str | None


class SellerOrderBuyer(OrderBuyer):
    bap_id: str = Field(description="Nœud acheteur.")
    transaction_id: str


class DeliveryWindow(Answer):
    start: str
    end: str | None


class DeliveryContact(Answer):
    name: str | None
    phone: str | None
    email: str | None


class Delivery(Answer):
    """Where, when and to whom."""

    site: str | None
    address: str | None
    region: str | None
    gps: str | None
    window: DeliveryWindow | None
    contact: DeliveryContact
    instructions: str | None


class OrderFulfillment(Answer):
    id: str | None
    type: str | None
    state: str | None = Field(description="État d'exécution (`Pending`, `Packed` …).")
    tracking_url: str | None


class Cancellation(Answer):
    by: str
    reason_code: str | None
    fee: str


class SellerOrder(Answer):
    """An order of the pôle, as listed."""

    id: str
    purchase_order_number: str | None
    status: str = Field(description="`ACTIVE`, `COMPLETE` ou `CANCELLED`.")
    fulfillment: OrderFulfillment
    total: Amount
    payment_type: str | None
    buyer: SellerOrderBuyer
    delivery: Delivery
    cancellation: Cancellation | None
    created_at: str | None
    updated_at: str | None


class SellerOrderLine(Answer):
    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price: str
    amount: str
    tps: str
    tvq: str


class SellerOrderEvent(Answer):
    kind: str
    detail: Any = Field(description="Ce qui a changé (objet propre à chaque événement).")
    at: str | None


class SellerOrderDetail(SellerOrder):
    """An order with its lines, its events and its current Beckn document."""

    lines: list[SellerOrderLine]
    events: list[SellerOrderEvent]
    document: dict[str, Any] = Field(description="La commande Beckn (`Order`) telle qu'envoyée.")


class SellerOrderPage(Answer):
    orders: list[SellerOrder]
    total: int
    limit: int
    offset: int
    next_offset: int | None


# --- pick list ------------------------------------------------------------------------------------


class PickLine(Answer):
    sku: str
    name: str
    quantity: int
    unit: str
    format: str = Field(description="Une unité de vente (« 540 mL »).")


class PickOrderFulfillment(Answer):
    type: str | None
    state: str | None


class PickOrder(Answer):
    id: str
    status: str
    fulfillment: PickOrderFulfillment
    purchase_order_number: str | None
    buyer: OrderBuyer
    delivery: Delivery
    lines: list[PickLine]


class PickTotal(Answer):
    sku: str
    name: str
    unit: str
    format: str
    quantity: int = Field(description="Unités à préparer, toutes commandes.")
    orders: int = Field(description="Commandes qui en demandent.")


class PickProvider(Answer):
    id: str
    name: str


class PickList(Answer):
    """The pick list of a delivery day."""

    provider: PickProvider
    date: str
    time_zone: Literal["America/Toronto"]
    orders: list[PickOrder]
    totals: list[PickTotal]
