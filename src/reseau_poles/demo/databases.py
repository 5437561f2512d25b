"""First run of the demo: the buyer node's database with the demo organisation, and each
seller node's database with its pôles, their places and fulfilment options, written through
the roles' own repositories, with one API key each."""

from __future__ import annotations

from typing import Any

from .participants import BUYER_ORGANISATION, BUYER_ORGANISATION_NAME, Participant
from .sample import SamplePole


def prepare_buyer(buyer: Participant) -> dict[str, str]:
    """Buyer database migrated, the demo organisation and its API key."""
    from reseau_poles.buyer.app import migrate
    from reseau_poles.buyer.repositories import organisations as repo
    from reseau_poles.storage import make_engine, make_session_factory, write_session

    engine = make_engine(buyer.database_url)
    try:
        migrate(engine)
        with write_session(make_session_factory(engine)) as session:
            if repo.get_organisation(session, BUYER_ORGANISATION) is None:
                repo.add_organisation(session, BUYER_ORGANISATION, BUYER_ORGANISATION_NAME)
            key = repo.create_api_key(session, BUYER_ORGANISATION, "démo")
    finally:
        engine.dispose()
    return {"organisation": BUYER_ORGANISATION, "api_key": key}


def prepare_seller(seller: Participant) -> dict[str, str]:
    """Seller database migrated; each pôle, its places and fulfilment options written through
    the seller's repository, and one management API key per pôle (what ``reseau-poles seller
    provider create`` and ``key create`` do). The products come later, through the API."""
    from reseau_poles.seller.app import migrate
    from reseau_poles.seller.repositories import api_keys as key_repo
    from reseau_poles.storage import make_engine, make_session_factory, write_session

    engine = make_engine(seller.database_url)
    keys: dict[str, str] = {}
    try:
        migrate(engine)
        factory = make_session_factory(engine)
        for pole in seller.poles:
            with write_session(factory) as session:
                _load_pole(session, pole)
                keys[pole.id] = key_repo.create_api_key(session, pole.id, "démo")
    finally:
        engine.dispose()
    return keys


def _load_pole(session: Any, pole: SamplePole) -> None:
    from sqlalchemy import select

    from reseau_poles.seller.repositories import places as place_repo
    from reseau_poles.seller.repositories import providers as provider_repo
    from reseau_poles.seller.tables import fulfillment_options, locations

    provider_repo.upsert_provider(session, pole.provider)
    have_locations = set(
        session.scalars(select(locations.c.id).where(locations.c.provider_id == pole.id))
    )
    for location in pole.locations:
        if location.id not in have_locations:
            place_repo.add_location(session, pole.id, location)
    have_options = set(
        session.scalars(
            select(fulfillment_options.c.id).where(fulfillment_options.c.provider_id == pole.id)
        )
    )
    for option in pole.fulfillment_options:
        if option.id not in have_options:
            place_repo.add_fulfillment_option(session, pole.id, option)
