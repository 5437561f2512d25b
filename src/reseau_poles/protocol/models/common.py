"""Small building blocks every other Beckn object uses: descriptors, tags, time, quantities
of things, prices, options, forms.

Field names and types follow Beckn core 1.1.1 one for one; every field is optional there,
and so here, so that a terse message from another implementation still parses.
"""

from __future__ import annotations

from typing import Literal

from .base import BecknModel
from .scalars import DateTime, DecimalValue, Duration, Flag, Uri, Uuid


class MediaFile(BecknModel):
    """A file somewhere on the web (a certificate, a photo, a spec sheet), optionally signed."""

    mimetype: str | None = None
    url: Uri | None = None
    signature: str | None = None
    dsa: str | None = None


class Image(BecknModel):
    """A picture and the size it was made for, so a phone picks the small one."""

    url: Uri | None = None
    size_type: Literal["xs", "sm", "md", "lg", "xl", "custom"] | None = None
    width: str | None = None
    height: str | None = None


class AdditionalDescription(BecknModel):
    """A longer description kept elsewhere (a product sheet), with its content type."""

    url: str | None = None
    content_type: Literal["text/plain", "text/html", "application/json"] | None = None


class Descriptor(BecknModel):
    """What people read about anything: a name, a code machines match on, texts, pictures.

    In the Québec profile, text is French first; English goes in a ``langue_en`` tag group.
    """

    name: str | None = None
    code: str | None = None
    short_desc: str | None = None
    long_desc: str | None = None
    additional_desc: AdditionalDescription | None = None
    media: list[MediaFile] | None = None
    images: list[Image] | None = None


class Tag(BecknModel):
    """One coded value (``descriptor.code`` = ``biologique_canada``, ``value`` = ``oui``)."""

    descriptor: Descriptor | None = None
    value: str | None = None
    display: Flag | None = None


# ``TagGroup.list`` shadows the builtin inside the class body: name the type outside it.
TagList = list[Tag]


class TagGroup(BecknModel):
    """A named group of tags: the open door through which the profile adds its own data."""

    display: Flag | None = None
    descriptor: Descriptor | None = None
    list: TagList | None = None


class Schedule(BecknModel):
    """A recurrence (every ``P7D``), its dates, and the holidays it skips."""

    frequency: Duration | None = None
    holidays: list[DateTime] | None = None
    times: list[DateTime] | None = None


class TimeRange(BecknModel):
    """A window between two instants (a pickup slot)."""

    start: DateTime | None = None
    end: DateTime | None = None


class Time(BecknModel):
    """A moment, a duration, a window or a schedule; a label says which one it means."""

    label: str | None = None
    timestamp: DateTime | None = None
    duration: Duration | None = None
    range: TimeRange | None = None
    days: str | None = None
    schedule: Schedule | None = None


class ScalarRange(BecknModel):
    """Bounds of a measured quantity."""

    min: DecimalValue | None = None
    max: DecimalValue | None = None


class Scalar(BecknModel):
    """A measured quantity with its unit (``2.5`` ``kg``); decimals travel as strings."""

    type: Literal["CONSTANT", "VARIABLE"] | None = None
    value: DecimalValue | None = None
    estimated_value: DecimalValue | None = None
    computed_value: DecimalValue | None = None
    range: ScalarRange | None = None
    unit: str | None = None


class Price(BecknModel):
    """An amount of money. Every value is a decimal string on the wire, a Decimal here."""

    currency: str | None = None
    value: DecimalValue | None = None
    estimated_value: DecimalValue | None = None
    computed_value: DecimalValue | None = None
    listed_value: DecimalValue | None = None
    offered_value: DecimalValue | None = None
    minimum_value: DecimalValue | None = None
    maximum_value: DecimalValue | None = None


class Fee(BecknModel):
    """A charge given as a percentage or as an amount (a cancellation fee)."""

    percentage: DecimalValue | None = None
    amount: Price | None = None


class Option(BecknModel):
    """One choice among several (a cancellation reason)."""

    id: str | None = None
    descriptor: Descriptor | None = None


class Rating(BecknModel):
    """A score given to an order, an item, a fulfilment, a provider, an agent or support."""

    rating_category: (
        Literal["Item", "Order", "Fulfillment", "Provider", "Agent", "Support"] | None
    ) = None
    id: str | None = None
    value: str | None = None


class Form(BecknModel):
    """A web form the other side must fill (a delivery instruction sheet, a feedback form)."""

    url: Uri | None = None
    data: dict[str, str] | None = None
    mime_type: Literal["text/html", "application/xml"] | None = None
    submission_id: Uuid | None = None


class XInput(BecknModel):
    """Extra input asked of the buyer through a form, and whether it is required."""

    form: Form | None = None
    required: Flag | None = None


class Domain(BecknModel):
    """A sector of the network (``PLA:ALIMENTS``, ``PLA:LOGISTIQUE``)."""

    name: str | None = None
    code: str | None = None
    additional_info: MediaFile | None = None


class Credential(BecknModel):
    """A credential a person holds (a food-handling certificate, a driving licence)."""

    id: str | None = None
    type: str | None = None
    url: Uri | None = None


class AddOn(BecknModel):
    """Something sold with an item (a returnable crate, gift wrapping)."""

    id: str | None = None
    descriptor: Descriptor | None = None
    price: Price | None = None


__all__ = [
    "AddOn",
    "AdditionalDescription",
    "Credential",
    "Descriptor",
    "Domain",
    "Fee",
    "Form",
    "Image",
    "MediaFile",
    "Option",
    "Price",
    "Rating",
    "Scalar",
    "ScalarRange",
    "Schedule",
    "Tag",
    "TagGroup",
    "Time",
    "TimeRange",
    "XInput",
]
