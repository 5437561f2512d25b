"""How an order reaches the buyer: delivery, pickup at the pôle, or a drop point.

A fulfilment goes through stops (``start`` where the goods are picked up, ``end`` where they
are handed over); its ``state.descriptor.code`` carries the fine-grained life cycle
(``Packed``, ``Out-for-delivery`` …) that ``Order.status`` leaves out.
"""

from __future__ import annotations

from typing import Final, Literal

from .base import BecknModel
from .common import Descriptor, TagGroup, Time
from .location import Location
from .party import Agent, Contact, Customer, Person
from .scalars import Count, DateTime, Flag, Uri

STOP_START: Final = "start"
STOP_END: Final = "end"


class FulfillmentState(BecknModel):
    """Where a fulfilment stands: ``descriptor.code``, when and by whom it last changed."""

    descriptor: Descriptor | None = None
    updated_at: DateTime | None = None
    updated_by: str | None = None


class Authorization(BecknModel):
    """Proof asked at a stop (a pickup code, an OTP), and how long it holds."""

    type: str | None = None
    token: str | None = None
    valid_from: DateTime | None = None
    valid_to: DateTime | None = None
    status: str | None = None


class Stop(BecknModel):
    """A point on the fulfilment's path; ``type`` is ``start`` or ``end`` in practice."""

    id: str | None = None
    parent_stop_id: str | None = None
    location: Location | None = None
    type: str | None = None
    time: Time | None = None
    instructions: Descriptor | None = None
    contact: Contact | None = None
    person: Person | None = None
    authorization: Authorization | None = None


class Vehicle(BecknModel):
    """The vehicle that carries the goods (a refrigerated truck keeps the cold chain).

    ``cargo_volumne`` is spelt as Beckn 1.1.1 spells it.
    """

    category: str | None = None
    capacity: Count | None = None
    make: str | None = None
    model: str | None = None
    size: str | None = None
    variant: str | None = None
    color: str | None = None
    energy_type: str | None = None
    registration: str | None = None
    wheels_count: str | None = None
    cargo_volumne: str | None = None
    wheelchair_access: str | None = None
    code: str | None = None
    emission_standard: str | None = None


class Fulfillment(BecknModel):
    """One way of getting goods to the buyer: ``livraison``, ``cueillette``, ``point_de_chute``."""

    id: str | None = None
    type: str | None = None
    rateable: Flag | None = None
    rating: str | None = None
    state: FulfillmentState | None = None
    tracking: Flag | None = None
    customer: Customer | None = None
    agent: Agent | None = None
    contact: Contact | None = None
    vehicle: Vehicle | None = None
    stops: list[Stop] | None = None
    path: str | None = None
    tags: list[TagGroup] | None = None


class Tracking(BecknModel):
    """Where to follow a fulfilment live, and whether tracking is on."""

    id: str | None = None
    url: Uri | None = None
    location: Location | None = None
    status: Literal["active", "inactive"] | None = None


__all__ = [
    "STOP_END",
    "STOP_START",
    "Authorization",
    "Fulfillment",
    "FulfillmentState",
    "Stop",
    "Tracking",
    "Vehicle",
]
