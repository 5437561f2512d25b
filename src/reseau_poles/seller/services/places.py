"""A pôle's places (warehouse, pickup and drop points) and fulfilment options (delivery
zones, pickup, drop points), as its management API changes them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.storage import read_session, write_session

from ..repositories import places as place_repo
from ..requests import FulfillmentOptionIn, LocationIn


class Places:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    # --- locations --------------------------------------------------------------------------

    def locations(self, provider_id: str) -> list[Mapping[str, Any]]:
        with read_session(self.factory) as session:
            return place_repo.list_locations(session, provider_id)

    def location(self, provider_id: str, location_id: str) -> Mapping[str, Any] | None:
        with read_session(self.factory) as session:
            return place_repo.location(session, provider_id, location_id)

    def put_location(self, provider_id: str, place: LocationIn) -> bool:
        """Create or replace a place; ``True`` when it is new."""
        with write_session(self.factory) as session:
            return place_repo.put_location(session, provider_id, place)

    def delete_location(self, provider_id: str, location_id: str) -> bool:
        """Remove a place no active option uses (``Conflict`` otherwise)."""
        with write_session(self.factory) as session:
            return place_repo.delete_location(session, provider_id, location_id)

    # --- fulfilment options -----------------------------------------------------------------

    def fulfillment_options(self, provider_id: str) -> list[Mapping[str, Any]]:
        with read_session(self.factory) as session:
            return place_repo.list_fulfillment_options(session, provider_id)

    def put_fulfillment_option(self, provider_id: str, option: FulfillmentOptionIn) -> bool:
        """Create, replace or reactivate an option; ``True`` when it is new."""
        with write_session(self.factory) as session:
            return place_repo.put_fulfillment_option(session, provider_id, option)

    def withdraw_fulfillment_option(self, provider_id: str, option_id: str) -> bool:
        """Withdraw an option (kept for the orders that name it)."""
        with write_session(self.factory) as session:
            return place_repo.deactivate_fulfillment_option(session, provider_id, option_id)
