"""The frame's API-key store on a real SQLite base (the buyer's tables): a key is shown once,
opens the API while live, and no longer once revoked or once its holder is inactive."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from reseau_poles.buyer import tables
from reseau_poles.buyer.repositories import organisations as repo
from reseau_poles.participant.api_keys import DISPLAY_PREFIX_LENGTH, hash_api_key
from reseau_poles.storage import make_engine, make_session_factory, read_session, write_session


def test_create_find_list_revoke_and_an_inactive_holder(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cles.sqlite'}")
    tables.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with write_session(factory) as session:
        repo.add_organisation(session, "css-capitale", "CSS de la Capitale")
        repo.add_organisation(session, "chu", "CHU")
        first = repo.create_api_key(session, "css-capitale", "comptabilité")
        second = repo.create_api_key(session, "css-capitale")
        other = repo.create_api_key(session, "chu")
    assert first.startswith("rpa_") and len({first, second, other}) == 3
    with read_session(factory) as session:
        assert repo.organisation_for_api_key(session, first) == "css-capitale"
        assert repo.organisation_for_api_key(session, other) == "chu"
        assert repo.organisation_for_api_key(session, first + "x") is None
        listed = repo.KEYS.list(session, "css-capitale")
    assert [(k["prefix"], k["label"]) for k in listed] == [
        (first[:DISPLAY_PREFIX_LENGTH], "comptabilité"),
        (second[:DISPLAY_PREFIX_LENGTH], None),
    ]
    stored = engine.connect().execute(tables.api_keys.select()).mappings().all()
    assert {row["key_hash"] for row in stored} == {hash_api_key(k) for k in (first, second, other)}

    with write_session(factory) as session:
        # Another holder's prefix revokes nothing.
        assert not repo.revoke_api_key(session, "chu", first[:DISPLAY_PREFIX_LENGTH])
        assert repo.revoke_api_key(session, "css-capitale", first[:DISPLAY_PREFIX_LENGTH])
        assert not repo.revoke_api_key(session, "css-capitale", first[:DISPLAY_PREFIX_LENGTH])
        session.execute(
            update(tables.organisations)
            .where(tables.organisations.c.id == "chu")
            .values(active=False)
        )
    with read_session(factory) as session:
        assert repo.organisation_for_api_key(session, first) is None
        assert repo.organisation_for_api_key(session, second) == "css-capitale"
        assert repo.organisation_for_api_key(session, other) is None
        assert repo.KEYS.list(session, "css-capitale")[0]["revoked_at"] is not None
    engine.dispose()
