"""Where things are: a pôle's warehouse, a drop point, a region of Québec.

In the network's ``context.location``, ``city.code`` holds the region (``QC-03``) and
``country.code`` the country (``CAN``); a :class:`Location` can also say it with a point
(``gps``), a circle, a polygon or a street address.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import BecknModel
from .common import Descriptor, Scalar
from .scalars import Gps, Uri

# A street address is one free-form string in Beckn 1.1.
Address = str


class City(BecknModel):
    """A city, or in this network an administrative region (``QC-03``)."""

    name: str | None = None
    code: str | None = None


class Country(BecknModel):
    """A country by its ISO 3166-1 alpha-3 code (``CAN``)."""

    name: str | None = None
    code: str | None = None


class State(BecknModel):
    """A province (``QC``), or a coded state of a thing (in return and refund terms)."""

    name: str | None = None
    code: str | None = None


class Circle(BecknModel):
    """A disc on the map: a centre and a radius (a delivery zone)."""

    gps: Gps | None = None
    radius: Scalar | None = None


class Region(BecknModel):
    """A named area of one, two or three dimensions, with its boundary."""

    dimensions: Literal["1", "2", "3"] | None = None
    type: str | None = None
    name: str | None = None
    code: str | None = None
    boundary: str | None = None
    map_url: str | None = None


class Location(BecknModel):
    """A place, described any way the sender knows it."""

    id: str | None = None
    descriptor: Descriptor | None = None
    map_url: Uri | None = None
    gps: Gps | None = None
    address: Address | None = None
    city: City | None = None
    district: str | None = None
    state: State | None = None
    country: Country | None = None
    area_code: str | None = None
    circle: Circle | None = None
    polygon: str | None = None
    space_3d: str | None = Field(default=None, alias="3dspace")
    rating: str | None = None


__all__ = ["Address", "Circle", "City", "Country", "Location", "Region", "State"]
