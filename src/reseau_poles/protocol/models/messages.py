"""One request model per Beckn action: ``{"context": …, "message": …}``.

Calls (``search`` … ``support``) always carry a ``message``. Callbacks (``on_search`` …
``on_support``) carry a ``message``, an ``error``, or both: a seller node that cannot answer
a search still calls back, with an error and no catalog.

Every model checks that ``context.action`` names its own action, so a body posted to the
wrong endpoint is refused at ``context.action``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from pydantic import GetJsonSchemaHandler, field_validator, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from .base import BecknModel
from .catalog import Catalog, Intent
from .common import Descriptor, Rating, XInput
from .context import Context, Error
from .fulfillment import Tracking
from .order import Order
from .party import Support
from .scalars import Uri

# An error raised above the field it is about names that field here; codec.py appends it to
# the error's location, so the NACK points at ``context.action`` rather than ``context``.
AT: Final = "at"


class SearchMessage(BecknModel):
    """What the buyer looks for."""

    intent: Intent | None = None


class OrderMessage(BecknModel):
    """An order, as ``select``, ``init``, ``confirm`` and most callbacks carry it."""

    order: Order


class OnSelectMessage(BecknModel):
    """The seller's quote for the selection; Beckn lets ``order`` be absent here."""

    order: Order | None = None


class StatusMessage(BecknModel):
    """Which order the buyer asks about."""

    order_id: str
    order: Order | None = None


class TrackMessage(BecknModel):
    """Which order to track, and where live updates may be posted."""

    order_id: str
    callback_url: Uri | None = None


class CancelMessage(BecknModel):
    """Which order to cancel, and why (a reason id from the seller's list, or free text)."""

    order_id: str
    cancellation_reason_id: str | None = None
    descriptor: Descriptor | None = None


class UpdateMessage(BecknModel):
    """What to change in an order: ``update_target`` names the paths, ``order`` the values."""

    update_target: str
    order: Order


class RatingMessage(BecknModel):
    """The buyer's ratings of an order, its items, its fulfilment …"""

    ratings: list[Rating] | None = None


class SupportMessage(BecknModel):
    """What the buyer needs help with (``ref_id``: an order id, for instance)."""

    support: Support | None = None


class OnSearchMessage(BecknModel):
    """A seller node's catalog."""

    catalog: Catalog


class OnTrackMessage(BecknModel):
    """Where to follow the order."""

    tracking: Tracking


class OnRatingMessage(BecknModel):
    """A feedback form the buyer may fill after rating."""

    feedback_form: XInput | None = None


class OnSupportMessage(BecknModel):
    """How to reach the seller's support."""

    support: Support | None = None


class BecknRequest(BecknModel):
    """The body of a call to ``POST {url}/{ACTION}``."""

    ACTION: ClassVar[str]
    context: Context

    @field_validator("context")
    @classmethod
    def _action_matches(cls, context: Context) -> Context:
        if context.action != cls.ACTION:
            raise PydanticCustomError(
                "action_mismatch",
                "context.action vaut « {actual} » : « {expected} » attendu à cet endroit",
                {"actual": context.action, "expected": cls.ACTION, AT: "action"},
            )
        return context

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        action = getattr(cls, "ACTION", None)
        if action and "context" in target.get("properties", {}):
            target["properties"]["context"] = {
                "allOf": [
                    target["properties"]["context"],
                    {"properties": {"action": {"const": action}}, "required": ["action"]},
                ]
            }
        return schema


class BecknCallback(BecknRequest):
    """The body of a callback: a ``message``, an ``error``, or both."""

    message: Any = None
    error: Error | None = None

    @model_validator(mode="after")
    def _says_something(self) -> BecknCallback:
        if self.message is None and self.error is None:
            raise PydanticCustomError(
                "callback_empty",
                "un rappel porte un « message », une « error », ou les deux",
                {AT: "message"},
            )
        return self


class SearchRequest(BecknRequest):
    ACTION = "search"
    message: SearchMessage


class SelectRequest(BecknRequest):
    ACTION = "select"
    message: OrderMessage


class InitRequest(BecknRequest):
    ACTION = "init"
    message: OrderMessage


class ConfirmRequest(BecknRequest):
    ACTION = "confirm"
    message: OrderMessage


class StatusRequest(BecknRequest):
    ACTION = "status"
    message: StatusMessage


class TrackRequest(BecknRequest):
    ACTION = "track"
    message: TrackMessage


class CancelRequest(BecknRequest):
    ACTION = "cancel"
    message: CancelMessage


class UpdateRequest(BecknRequest):
    ACTION = "update"
    message: UpdateMessage


class RatingRequest(BecknRequest):
    ACTION = "rating"
    message: RatingMessage


class SupportRequest(BecknRequest):
    ACTION = "support"
    message: SupportMessage


class OnSearchRequest(BecknCallback):
    ACTION = "on_search"
    message: OnSearchMessage | None = None


class OnSelectRequest(BecknCallback):
    ACTION = "on_select"
    message: OnSelectMessage | None = None


class OnInitRequest(BecknCallback):
    ACTION = "on_init"
    message: OrderMessage | None = None


class OnConfirmRequest(BecknCallback):
    ACTION = "on_confirm"
    message: OrderMessage | None = None


class OnStatusRequest(BecknCallback):
    ACTION = "on_status"
    message: OrderMessage | None = None


class OnTrackRequest(BecknCallback):
    ACTION = "on_track"
    message: OnTrackMessage | None = None


class OnCancelRequest(BecknCallback):
    ACTION = "on_cancel"
    message: OrderMessage | None = None


class OnUpdateRequest(BecknCallback):
    ACTION = "on_update"
    message: OrderMessage | None = None


class OnRatingRequest(BecknCallback):
    """Beckn asks for a ``message`` in ``on_rating`` even when an error comes with it."""

    ACTION = "on_rating"
    message: OnRatingMessage


class OnSupportRequest(BecknCallback):
    ACTION = "on_support"
    message: OnSupportMessage | None = None


ACTION_MODELS: Final[dict[str, type[BecknRequest]]] = {
    model.ACTION: model
    for model in (
        SearchRequest,
        SelectRequest,
        InitRequest,
        ConfirmRequest,
        StatusRequest,
        TrackRequest,
        CancelRequest,
        UpdateRequest,
        RatingRequest,
        SupportRequest,
        OnSearchRequest,
        OnSelectRequest,
        OnInitRequest,
        OnConfirmRequest,
        OnStatusRequest,
        OnTrackRequest,
        OnCancelRequest,
        OnUpdateRequest,
        OnRatingRequest,
        OnSupportRequest,
    )
}
