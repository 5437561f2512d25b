"""What the buyer node's client API answers (documentation; see
:mod:`reseau_poles.participant.answers`): searches, orders, sites, carts, the local-purchasing
report."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from reseau_poles.participant.answers import Amount, Answer

Error = dict[str, Any]  # {"code", "message", "path"?}: a refusal kept with what it refused


# --- searches -------------------------------------------------------------------------------------


class SearchStarted(Answer):
    """The search went out; its results arrive at ``results_url``."""

    transaction_id: str
    message_id: str
    results_url: str = Field(examples=["/api/searches/2f6c…"])


class SellerAnswered(Answer):
    bpp_id: str
    received_at: str | None


class SellerRefused(Answer):
    bpp_id: str
    status: str | None = Field(description="`NACK`, `ERROR` ou `TIMEOUT`.")
    error: Error | None


class Sellers(Answer):
    """Who the search reached."""

    targeted: list[str] = Field(description="Nœuds vendeurs qui ont accepté la recherche (ACK).")
    answered: list[SellerAnswered]
    pending: list[str] = Field(description="Visés, sans réponse encore.")
    refused: list[SellerRefused]


class PendingPage(Answer):
    bpp_id: str | None
    provider_id: str | None
    start: int | None
    sent_at: str | None


class AppliedFilters(Answer):
    """The filters and sort as applied (what was asked, read)."""

    certification: list[str] | None = None
    conservation: list[str] | None = None
    origin: list[str] | None = None
    provider: list[str] | None = None
    unit: str | None = None
    min_unit_price: str | None = None
    max_unit_price: str | None = None
    sort: str | None = None


class ResultCounts(Answer):
    providers: int
    items: int
    matched: int = Field(description="Articles trouvés, selon les vendeurs.")
    received: int = Field(description="Articles reçus.")
    truncated: bool = Field(description="Un pôle au moins a d'autres articles (voir `/more`).")


class PoleCoverage(Answer):
    """One pôle of one seller node: matched (as the seller counted) and received."""

    bpp_id: str
    provider_id: str
    provider_name: str | None
    matched: int
    matched_at_least: bool = Field(description="Le vendeur a cessé de compter.")
    received: int
    truncated: bool
    page_pending: bool = Field(description="Une page suivante est demandée, sans réponse encore.")


class UnitPrice(Answer):
    value: str
    per: str = Field(description="`kg`, `l` ou `unite`.")


class ResultOffer(Answer):
    """One item of one pôle, in the flat list of offers (the query's order)."""

    bpp_id: str | None
    provider_id: str | None
    provider_name: str | None
    item_id: str | None
    name: str | None
    price: dict[str, Any] | None = Field(description="Le prix Beckn de l'article.")
    unit_price: UnitPrice | None
    origin_region: str | None
    certifications: list[str]
    conservation: str | None
    relevance: int | None = Field(description="Pertinence (recherche avec texte).")


class SearchResults(Answer):
    """A search, where it stands, and its results so far."""

    transaction_id: str
    message_id: str
    created_at: str | None
    params: dict[str, Any] = Field(description="Les paramètres de la recherche.")
    state: str = Field(description="`envoi`, `echec`, `en_attente` ou `complete`.")
    complete: bool
    via_gateway: str | None = Field(description="La passerelle qui a diffusé la recherche.")
    sellers: Sellers
    pages_pending: list[PendingPage]
    filters: AppliedFilters
    counts: ResultCounts
    notice: str | None = Field(description="Dit que des résultats sont partiels, et la suite.")
    poles: list[PoleCoverage]
    providers: list[dict[str, Any]] = Field(
        description="Les catalogues reçus (`Provider` Beckn), fusionnés par pôle et article."
    )
    offers: list[ResultOffer]


class PageSent(Answer):
    bpp_id: str
    provider_id: str
    message_id: str
    start: int
    status: str = Field(description="`ACK`, `NACK`, `ERROR` ou `TIMEOUT`.")
    sent_at: str
    error: Error | None = None


class MoreSent(Answer):
    """The follow-up pages asked for (202; 200 when there was nothing more to ask)."""

    transaction_id: str
    pages: list[PageSent]
    poles: list[PoleCoverage]
    results_url: str


# --- sites ----------------------------------------------------------------------------------------


class ReceivingHours(Answer):
    days: list[str]
    start: str
    end: str


class Site(Answer):
    """A delivery site of the organisation."""

    id: str
    name: str
    address: str
    postal_code: str | None
    region: str
    region_label: str | None
    gps: str | None
    receiving_hours: list[ReceivingHours]
    contact: dict[str, str] | None = Field(description="`name`, `phone`, `email`.")
    cold_chain: list[str]
    instructions: str | None
    created_at: str | None
    updated_at: str | None


class SiteList(Answer):
    sites: list[Site]


# --- orders ---------------------------------------------------------------------------------------


class OrderProvider(Answer):
    bpp_id: str
    bpp_uri: str | None
    id: str
    name: str | None


class OrderFulfillment(Answer):
    id: str | None
    type: str | None
    state: str | None


class PendingRequest(Answer):
    action: str
    message_id: str | None
    since: str | None
    dispatch: str | None


class Payment(Answer):
    type: str
    net_days: int | None


class Window(Answer):
    start: str | None
    end: str | None


class BuyerOrder(Answer):
    """An order, as listed and in webhook events."""

    id: str
    transaction_id: str
    provider: OrderProvider
    state: str = Field(description="`new`, `selected`, `initialized`, `confirmed` …")
    state_label: str
    status: str | None = Field(description="`Order.status` du vendeur.")
    seller_order_id: str | None
    fulfillment: OrderFulfillment
    pending: PendingRequest | None = Field(description="La demande qui attend sa réponse.")
    error: Error | None = Field(description="Le dernier refus du vendeur.")
    total: Amount | None
    purchase_order_number: str | None
    delivery_site_id: str | None
    cart_id: str | None
    created_at: str | None
    updated_at: str | None
    confirmed_at: str | None


class OrderLine(Answer):
    item_id: str
    name: str | None
    quantity: int
    unit: str | None
    unit_price: str | None
    amount: str | None
    taxable: bool | None
    tps: str | None
    tvq: str | None
    certifications: list[str] | None
    origin_region: str | None
    producer: str | None
    conservation: str | None


class OrderEvent(Answer):
    kind: str
    action: str | None
    message_id: str | None
    from_: str | None = Field(alias="from")
    to: str | None
    detail: Any
    at: str | None


class BuyerOrderDocument(BuyerOrder):
    """An order with its lines, its history and the seller's documents."""

    allowed_actions: list[str]
    quote: dict[str, Any] | None = Field(description="Le devis Beckn (`Quotation`).")
    billing: dict[str, Any] | None
    payment: Payment | None
    delivery_window: Window | None
    lines: list[OrderLine]
    tracking: dict[str, Any] | None
    support: dict[str, Any] | None
    request: dict[str, Any] = Field(description="La commande telle que demandée.")
    seller_document: dict[str, Any] | None = Field(description="La commande Beckn du vendeur.")
    events: list[OrderEvent]


class OrderPage(Answer):
    total: int
    limit: int
    offset: int
    next_offset: int | None
    orders: list[BuyerOrder]


class OrderStarted(Answer):
    """The request went to the seller (without ``wait_ms``)."""

    id: str
    transaction_id: str | None = None
    action: str | None = None
    message_id: str
    order_url: str


# --- carts ----------------------------------------------------------------------------------------


class CartSummary(Answer):
    id: str
    name: str | None
    state: str = Field(description="`ouvert` ou `commande`.")
    approval: str = Field(
        description="`brouillon`, `soumis`, `renvoye`, `approuve` ou `commande` (approbation)."
    )
    purchase_order_number: str | None
    created_at: str | None
    checked_out_at: str | None


class CartList(Answer):
    carts: list[CartSummary]


class CartLine(Answer):
    id: int
    bpp_id: str
    provider_id: str
    item_id: str
    quantity: int
    fulfilment_id: str | None


class CartPole(Answer):
    """One pôle of the cart, and its order once ordered."""

    bpp_id: str
    provider_id: str
    provider_name: str | None
    fulfilment_id: str | None
    lines: int
    checkout_state: str = Field(description="`attente`, `confirmee`, `echec` ou `annulee`.")
    order_id: str | None
    order_url: str | None
    order_state: str | None
    order_state_label: str | None
    status: str | None
    seller_order_id: str | None
    total: Amount | None
    error: Error | None


class Checkout(Answer):
    state: str = Field(
        description="`non_commande`, `en_cours`, `complete`, `partielle` ou `echec`."
    )
    done: bool
    poles: int | None = None
    confirmed: int | None = None
    failed: int | None = None
    cancelled: int | None = None
    in_progress: int | None = None
    confirmed_total: Amount | None = None


class CartApproval(Answer):
    """Where the cart's approval stands (``reseau_poles.buyer.services.cart_approval``)."""

    state: str = Field(
        description="`brouillon`, `soumis` (attend un approbateur : ne change pas), `renvoye`, "
        "`approuve` ou `commande`."
    )
    required: bool = Field(
        description="L'organisation demande l'approbation de chaque panier avant la commande."
    )
    submitted_by: int | None = Field(description="Compte du portail qui a soumis le panier.")
    submitted_at: str | None
    decided_by: int | None = Field(description="Compte du portail qui a approuvé ou renvoyé.")
    decided_at: str | None
    comment: str | None = Field(description="Pourquoi le panier a été renvoyé.")


class Cart(Answer):
    """A cart: its lines, and per pôle its order."""

    id: str
    name: str | None
    state: str
    approval: CartApproval
    delivery_site_id: str | None
    fulfilment: dict[str, Any] | None
    delivery_window: Window | None
    purchase_order_number: str | None
    payment: Payment | None
    billing: dict[str, Any] | None
    lines: list[CartLine]
    poles: list[CartPole]
    checkout: Checkout
    created_at: str | None
    updated_at: str | None
    checked_out_at: str | None


class QuotedLine(Answer):
    item_id: str
    name: str | None
    quantity: int
    unit: str | None
    unit_price: str | None
    amount: str | None
    taxable: bool | None
    tps: str | None
    tvq: str | None


class Fee(Answer):
    title: str
    amount: Amount


class Taxes(Answer):
    tps: Amount
    tvq: Amount


class MinimumOrder(Answer):
    value: Amount
    met: bool


class GroupQuote(Answer):
    """One pôle's quote (``devis``), its refusal (``refus``) or its silence (``sans_reponse``)."""

    bpp_id: str
    provider_id: str
    provider_name: str | None
    fulfilment_id: str | None
    order_id: str
    order_url: str
    state: str = Field(description="`devis`, `refus` ou `sans_reponse`.")
    error: Error | None
    lines: list[QuotedLine] | None = None
    items_total: Amount | None = None
    delivery_fees: list[Fee] | None = None
    taxes: Taxes | None = None
    total: Amount | None = None
    minimum_order: MinimumOrder | None = None
    valid_for: str | None = Field(default=None, description="Durée de validité (ISO 8601).")


class CartPreview(Answer):
    """The price of a cart before it is ordered."""

    cart_id: str
    complete: bool = Field(description="Chaque pôle a répondu.")
    quoted: int
    refused: int
    total: Amount
    poles: list[GroupQuote]


# --- the local-purchasing report ------------------------------------------------------------------


class Period(Answer):
    from_: str = Field(alias="from")
    to: str
    time_zone: str
    basis: str


class ReportTotals(Answer):
    food_before_tax: str
    tps: str
    tvq: str
    taxes: str
    food_with_taxes: str
    orders_total: str
    other_charges: str


class RegionShare(Answer):
    code: str = Field(description="QC-01 … QC-17, ou `hors_quebec_ou_inconnue`.")
    label: str
    amount: str
    share: str | None = Field(description="Part des achats avant taxes (4 décimales).")


class Share(Answer):
    amount: str
    share: str | None


class CertificationShare(Answer):
    label: str
    codes: list[str]
    amount: str
    share: str | None


class LocalPurchasingReport(Answer):
    """What an organisation bought over a period, by region of origin and certification."""

    organisation_id: str
    period: Period
    orders: int
    currency: str
    lines: int
    lines_without_price: int
    totals: ReportTotals
    by_region: list[RegionShare]
    quebec_origin: Share
    certifications: dict[str, CertificationShare] = Field(
        description="`aliments_du_quebec`, `aliments_prepares_au_quebec`, "
        "`aliments_quebecois`, `biologique`."
    )
