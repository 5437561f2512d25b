"""What the seller promises about cancelling, refunding, replacing and returning.

They hang on an item or on a whole order; item-level terms win over the order's.
"""

from __future__ import annotations

from typing import Literal

from .base import BecknModel
from .common import Fee, MediaFile, Price, Time, XInput
from .fulfillment import FulfillmentState
from .location import Location, State
from .scalars import Flag


class CancellationTerm(BecknModel):
    """Until which fulfilment state an order may be cancelled, and at what fee."""

    fulfillment_state: FulfillmentState | None = None
    reason_required: Flag | None = None
    cancel_by: Time | None = None
    cancellation_fee: Fee | None = None
    xinput: XInput | None = None
    external_ref: MediaFile | None = None


class RefundTerm(BecknModel):
    """Whether a refund is possible from a given state, how soon, and how much."""

    fulfillment_state: State | None = None
    refund_eligible: Flag | None = None
    refund_within: Time | None = None
    refund_amount: Price | None = None


class ReplacementTerm(BecknModel):
    """How long after a given state an item may be replaced."""

    fulfillment_state: State | None = None
    replace_within: Time | None = None
    external_ref: MediaFile | None = None


class ReturnTerm(BecknModel):
    """Whether an item may be returned, until when, where, and who carries it back."""

    fulfillment_state: State | None = None
    return_eligible: Flag | None = None
    return_time: Time | None = None
    return_location: Location | None = None
    fulfillment_managed_by: Literal["CONSUMER", "PROVIDER"] | None = None


__all__ = ["CancellationTerm", "RefundTerm", "ReplacementTerm", "ReturnTerm"]
