"""People and organisations: who buys, who sells, who drives, who answers the phone."""

from __future__ import annotations

from typing import Any

from .base import BecknModel
from .common import Credential, Descriptor, Image, TagGroup
from .location import Address, City, State
from .scalars import Date, Duration, Email, Uri


class Contact(BecknModel):
    """How to reach someone. ``email`` is free text here (Beckn does not constrain it)."""

    phone: str | None = None
    email: str | None = None
    jcard: dict[str, Any] | None = None


class Language(BecknModel):
    """A language a person speaks (``fr-CA``)."""

    code: str | None = None
    name: str | None = None


class Skill(BecknModel):
    """Something a person knows how to do (handling a refrigerated truck)."""

    code: str | None = None
    name: str | None = None


class Person(BecknModel):
    """A person: a driver, a buyer's contact, a producer."""

    id: str | None = None
    url: Uri | None = None
    name: str | None = None
    image: Image | None = None
    age: Duration | None = None
    dob: Date | None = None
    gender: str | None = None
    creds: list[Credential] | None = None
    languages: list[Language] | None = None
    skills: list[Skill] | None = None
    tags: list[TagGroup] | None = None


class Organization(BecknModel):
    """An organisation: a pôle's legal entity (OBNL, coopérative), a school board."""

    descriptor: Descriptor | None = None
    address: Address | None = None
    state: State | None = None
    city: City | None = None
    contact: Contact | None = None


class Agent(BecknModel):
    """Who carries out a fulfilment for the provider (a driver, a carrier)."""

    person: Person | None = None
    contact: Contact | None = None
    organization: Organization | None = None
    rating: str | None = None


class Customer(BecknModel):
    """Who receives a fulfilment."""

    person: Person | None = None
    contact: Contact | None = None


class Support(BecknModel):
    """Where to get help about an order or anything else referenced by ``ref_id``."""

    ref_id: str | None = None
    callback_phone: str | None = None
    phone: str | None = None
    email: Email | None = None
    url: Uri | None = None


__all__ = ["Agent", "Contact", "Customer", "Language", "Organization", "Person", "Skill", "Support"]
