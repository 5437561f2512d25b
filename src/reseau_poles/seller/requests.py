"""What the pôle's management API reads: bodies and query strings of its routes.

Every model refuses what it does not know (``extra="forbid"``); a refusal is a 400
``parametres_invalides`` with the JSON path at fault (``reseau_poles.node.validated``).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reseau_poles.network.destinations import MAX_URL_LENGTH
from reseau_poles.node.webhooks import ALL_EVENTS
from reseau_poles.protocol.profile import FulfillmentState

from .schemas import MAX_COUNT
from .services.webhooks import SELLER_EVENTS

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
