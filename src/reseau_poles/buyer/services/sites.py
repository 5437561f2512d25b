"""An organisation's delivery sites (``/api/sites``): where its orders are received.

A site has a name, an address with its postal code, its region (given, or found from an urban
postal code or the GPS point), receiving hours, a contact, and what it can receive
(``ambiant``, ``refrigere``, ``congele``). A cart (or an order) naming a site gets its
fulfilment's end location, region, contact and instructions from it (:func:`site_fulfilment`).

POST   /api/sites           201 with the site (``Location``)
GET    /api/sites           the organisation's sites
GET    /api/sites/{id}      one site
PUT    /api/sites/{id}      replace it; PATCH: change some fields (the result is checked whole)
DELETE /api/sites/{id}      204; kept in the database for the orders that name it
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import (
    ValidationError,
)
from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.participant import ApiError, validation_error
from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.profile import region_label
from reseau_poles.protocol.profile.delivery_region import (
    region_for_gps,
    region_for_postal_code,
)
from reseau_poles.storage import read_session, utcnow, write_session

from ..repositories import sites as repo
from ..requests import SiteIn


class SiteNotFound(LookupError):
    """No such site for this organisation (or deleted)."""


def refuse_nul(data: Any, path: str = "") -> None:
    """A NUL character in any text: 400 with its path (PostgreSQL cannot store it, and no
    name or address holds one)."""
    if isinstance(data, str):
        if "\x00" in data:
            raise ApiError(
                400, "parametres_invalides", "caractère nul (U+0000) interdit", path or "$"
            )
    elif isinstance(data, Mapping):
        for key, value in data.items():
            refuse_nul(key, path or "$")
            refuse_nul(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            refuse_nul(value, f"{path}.{index}" if path else str(index))


def resolve_region(site: SiteIn) -> str:
    """The site's region: given, else from its urban postal code, else from its GPS point.
    Raises :class:`ApiError` 400 naming the field to fill in."""
    if site.region:
        return site.region
    if site.postal_code:
        try:
            return str(region_for_postal_code(site.postal_code, path="postal_code"))
        except ProtocolError as exc:
            if not site.gps:
                raise ApiError(400, "parametres_invalides", exc.message, "region") from None
    if site.gps:
        return str(region_for_gps(site.gps))
    raise ApiError(
        400,
        "parametres_invalides",
        "Indiquez la région du site (QC-01 … QC-17), ou un code postal urbain, ou le GPS.",
        "region",
    )


def _time(value: datetime | None) -> str | None:
    return format_datetime(value) if value is not None else None


def site_document(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "address": row["address"],
        "postal_code": row["postal_code"],
        "region": row["region"],
        "region_label": region_label(row["region"]),
        "gps": row["gps"],
        "receiving_hours": row["receiving_hours"],
        "contact": row["contact"],
        "cold_chain": row["cold_chain"],
        "instructions": row["instructions"],
        "created_at": _time(row["created_at"]),
        "updated_at": _time(row["updated_at"]),
    }


def site_fulfilment(site: Mapping[str, Any], fulfilment_id: str | None = None) -> dict[str, Any]:
    """The fulfilment (``orders.FulfilmentIn``) of a delivery to ``site``: end location
    (the site's name, address with its postal code, GPS), region, contact and receiving
    instructions."""
    address = site["address"]
    if site["postal_code"] and site["postal_code"] not in address:
        address = f"{address} {site['postal_code']}"
    fulfilment: dict[str, Any] = {
        "type": "livraison",
        "site_name": site["name"],
        "address": address,
        "region": site["region"],
    }
    if fulfilment_id:
        fulfilment["id"] = fulfilment_id
    if site["gps"]:
        fulfilment["gps"] = site["gps"]
    if site["contact"]:
        fulfilment["contact"] = site["contact"]
    notes = [site["instructions"]] if site["instructions"] else []
    hours = site["receiving_hours"] or []
    if hours:
        notes.append(
            "Réception : "
            + " ; ".join(f"{'-'.join(h['days'])} {h['start']}-{h['end']}" for h in hours)
        )
    if notes:
        fulfilment["instructions"] = " — ".join(notes)[:500]
    return fulfilment


def order_with_site(
    session: Session, organisation_id: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    """A ``POST /api/orders`` body naming ``delivery_site_id``, with the site's delivery filled
    in (:func:`site_fulfilment`); fields the body gives itself win, and a pickup or drop-point
    fulfilment is left alone. Raises :class:`ApiError` 400 ``site_inconnu``.

    For ``api.orders.create_order`` (before ``OrderIn.model_validate``); carts use it through
    :func:`site_fulfilment` already."""
    body = dict(data)
    site_id = body.get("delivery_site_id")
    if not isinstance(site_id, str):
        return body
    try:
        site = get_site(session, organisation_id, site_id[:64])
    except SiteNotFound:
        raise ApiError(
            400, "site_inconnu", "Site de livraison inconnu ou retiré.", "delivery_site_id"
        ) from None
    given = body.get("fulfilment")
    if given is None:
        given = {}
    if not isinstance(given, Mapping) or given.get("type", "livraison") != "livraison":
        return body
    option = given.get("id") if isinstance(given.get("id"), str) else None
    body["fulfilment"] = {**site_fulfilment(site, option), **given}
    return body


# --- queries ---------------------------------------------------------------------------------


def get_site(session: Session, organisation_id: str, site_id: str) -> Mapping[str, Any]:
    """One of the organisation's sites; raises :class:`SiteNotFound` (or deleted)."""
    row = repo.get_site(session, organisation_id, site_id)
    if row is None:
        raise SiteNotFound(site_id)
    return row


def _values(site: SiteIn, region: str) -> dict[str, Any]:
    data = site.model_dump(mode="json")
    return {
        "name": site.name,
        "address": site.address,
        "postal_code": site.postal_code,
        "region": region,
        "gps": site.gps,
        "receiving_hours": data["receiving_hours"],
        "contact": data["contact"] and {k: v for k, v in data["contact"].items() if v is not None},
        "cold_chain": site.cold_chain,
        "instructions": site.instructions,
    }


# --- the service --------------------------------------------------------------------------------


def parse_site(data: Mapping[str, Any]) -> tuple[SiteIn, str]:
    """A site as the client gives it, checked, and its region (:func:`resolve_region`)."""
    refuse_nul(data)
    try:
        site = SiteIn.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    return site, resolve_region(site)


def _values_of(row: Mapping[str, Any]) -> dict[str, Any]:
    fields = ("name", "address", "postal_code", "region", "gps", "receiving_hours")
    kept = {name: row[name] for name in fields if row[name] is not None}
    for name in ("contact", "cold_chain", "instructions"):
        if row[name] is not None:
            kept[name] = row[name]
    return kept


class SiteService:
    """An organisation's delivery sites. Raises :class:`SiteNotFound`."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    async def create(self, organisation_id: str, site: SiteIn, region: str) -> dict[str, Any]:
        site_id = f"site-{uuid.uuid4().hex[:12]}"
        now = utcnow()

        def insert() -> dict[str, Any]:
            with write_session(self.factory) as session:
                repo.insert_site(
                    session,
                    {
                        "id": site_id,
                        "organisation_id": organisation_id,
                        "created_at": now,
                        "updated_at": now,
                        **_values(site, region),
                    },
                )
                return site_document(get_site(session, organisation_id, site_id))

        return await asyncio.to_thread(insert)

    async def list(self, organisation_id: str) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            with read_session(self.factory) as session:
                return [site_document(row) for row in repo.sites_of(session, organisation_id)]

        return await asyncio.to_thread(read)

    async def get(self, organisation_id: str, site_id: str) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            with read_session(self.factory) as session:
                return site_document(get_site(session, organisation_id, site_id))

        return await asyncio.to_thread(read)

    async def change(
        self, organisation_id: str, site_id: str, data: Mapping[str, Any], *, merge: bool
    ) -> dict[str, Any]:
        """Replace the site with ``data`` (``merge``: change the fields ``data`` names; the
        result is checked whole)."""

        def write() -> dict[str, Any]:
            with write_session(self.factory) as session:
                current = get_site(session, organisation_id, site_id)
                wanted = dict(data)
                if merge:
                    keep = _values_of(current)
                    if any(k in data for k in ("postal_code", "gps")) and "region" not in data:
                        keep.pop("region")  # found again from the new postal code or GPS
                    wanted = {**keep, **data}
                site, region = parse_site(wanted)
                repo.update_site(
                    session, current["id"], {"updated_at": utcnow(), **_values(site, region)}
                )
                return site_document(get_site(session, organisation_id, current["id"]))

        return await asyncio.to_thread(write)

    async def delete(self, organisation_id: str, site_id: str) -> None:
        def delete() -> None:
            with write_session(self.factory) as session:
                current = get_site(session, organisation_id, site_id)
                repo.delete_site(session, current["id"], utcnow())

        await asyncio.to_thread(delete)
