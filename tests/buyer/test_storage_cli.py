"""The buyer's migrations (SQLite and PostgreSQL) and its command line."""

from __future__ import annotations

from typer.testing import CliRunner

from reseau_poles.buyer.app import MIGRATIONS, VERSION_TABLE, migrate
from reseau_poles.buyer.repositories import organisations as repo
from reseau_poles.cli import app as main_app
from reseau_poles.storage import (
    current_revision,
    head_revision,
    make_engine,
    make_session_factory,
    read_session,
    write_session,
)


def test_migrations_run_twice_and_keys_are_hashed(empty_database_url: str) -> None:
    assert migrate(empty_database_url) == head_revision(MIGRATIONS)
    assert migrate(empty_database_url) == head_revision(MIGRATIONS)
    engine = make_engine(empty_database_url)
    try:
        assert current_revision(engine, VERSION_TABLE) == head_revision(MIGRATIONS)
        factory = make_session_factory(engine)
        with write_session(factory) as session:
            repo.add_organisation(session, "cpe-soleil", "CPE Le Soleil")
            key = repo.create_api_key(session, "cpe-soleil")
        with read_session(factory) as session:
            assert repo.organisation_for_api_key(session, key) == "cpe-soleil"
        with write_session(factory) as session:
            assert repo.revoke_api_key(session, "cpe-soleil", key[:12])
        with read_session(factory) as session:
            assert repo.organisation_for_api_key(session, key) is None
    finally:
        engine.dispose()


def test_cli_migrate_and_organisation(tmp_path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'buyer.sqlite'}"
    result = runner.invoke(main_app, ["buyer", "--help"])
    assert result.exit_code == 0 and "serve" in result.output and "migrate" in result.output
    result = runner.invoke(main_app, ["buyer", "migrate", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert head_revision(MIGRATIONS) in result.output
    result = runner.invoke(main_app, ["buyer", "organisation", "css-x", "--database-url", url])
    assert result.exit_code == 2
    result = runner.invoke(
        main_app, ["buyer", "organisation", "css-x", "--name", "CSS X", "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    assert "rpa_" in result.output
