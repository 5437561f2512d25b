"""``reseau-poles buyer purge``: reads the retention settings from the node's TOML file (flat
keys), counts in French with ``--dry-run`` without deleting, then deletes only the old finished
outbox rows (webhook deliveries) and transcript rows — the organisations and their API keys,
however old, stay."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData
from typer.testing import CliRunner

from reseau_poles.buyer.app import migrate
from reseau_poles.buyer.repositories import organisations as repo
from reseau_poles.buyer.tables import metadata as buyer_metadata
from reseau_poles.cli import app as main_app
from reseau_poles.network import migrate as migrate_network
from reseau_poles.network.outbox import DELIVERED, EXPIRED, PENDING
from reseau_poles.network.tables import transcript_table
from reseau_poles.storage import make_engine, make_session_factory, write_session
from tests.network.test_retention import (
    add_outbox,
    add_transcript,
    outbox_row,
    tags,
    transcript_row,
)
from tests.seller.test_retention import age_everything, snapshot


def test_buyer_purge_from_its_configuration(database_url: str, tmp_path: Path) -> None:
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        migrate_network(engine)
        with write_session(make_session_factory(engine)) as session:
            repo.add_organisation(session, "cpe-soleil", "CPE Le Soleil")
            repo.create_api_key(session, "cpe-soleil")
        age_everything(engine, buyer_metadata, 3650)
        business = snapshot(engine, buyer_metadata)
        add_outbox(
            engine,
            [
                outbox_row(DELIVERED, 15, action="webhook:order.confirmed", tag="webhook-15j"),
                outbox_row(DELIVERED, 5, action="webhook:order.status", tag="webhook-5j"),
                outbox_row(EXPIRED, 100, action="webhook:order.status", tag="expire-100j"),
                outbox_row(PENDING, 100, deadline_age=-1, tag="en-attente"),
            ],
        )
        add_transcript(engine, [transcript_row(12, "journal-12j"), transcript_row(1, "hier")])
        config = tmp_path / "acheteur.toml"
        config.write_text(
            f'database_url = "{database_url}"\n'
            "retention_delivered_days = 10\n"
            "retention_dead_days = 60\n",
            encoding="utf-8",
        )
        runner = CliRunner()

        result = runner.invoke(main_app, ["buyer", "purge", "--config", str(config), "--dry-run"])
        assert result.exit_code == 0, result.output
        output = " ".join(result.output.split())  # rich wraps long lines
        assert "Rétention du nœud acheteur" in output
        assert "gardés 10 j, envois abandonnés 60 j." in output
        assert "Simulation (--dry-run) : rien n'est supprimé." in output
        assert "Envois livrés (rappels, webhooks) : 1 ligne(s) à supprimer" in output
        assert "Envois abandonnés (failed, expired) : 1 ligne(s) à supprimer" in output
        assert "Journal des messages : 1 ligne(s) à supprimer" in output
        assert "Total : 3 ligne(s) à supprimer." in output
        assert len(tags(engine)) == 4

        # the command line wins over the file: delivered rows kept forever this time
        result = runner.invoke(
            main_app, ["buyer", "purge", "--config", str(config), "--delivered-days", "0"]
        )
        assert result.exit_code == 0, result.output
        output = " ".join(result.output.split())
        assert "Envois livrés (rappels, webhooks) : tout gardé (conservation indéfinie)" in output
        assert "Envois abandonnés (failed, expired) : 1 ligne(s) supprimée(s)" in output
        assert "Total : 1 ligne(s) supprimée(s)." in output
        assert tags(engine) == {"webhook-15j", "webhook-5j", "en-attente"}

        result = runner.invoke(main_app, ["buyer", "purge", "--config", str(config)])
        assert result.exit_code == 0, result.output
        assert "Total : 2 ligne(s) supprimée(s)." in result.output
        assert tags(engine) == {"webhook-5j", "en-attente"}
        assert tags(engine, transcript_table) == {"hier"}
        assert snapshot(engine, buyer_metadata) == business

        result = runner.invoke(
            main_app,
            [
                "buyer",
                "purge",
                "--config",
                str(config),
                "--delivered-days",
                "0",
                "--dead-days",
                "0",
            ],
            # the searches too (kept 7 days by default)
            env={"RESEAU_POLES_SEARCH_RETENTION_DAYS": "0"},
        )
        assert result.exit_code == 0, result.output
        assert "Rien à purger : tout est gardé indéfiniment." in result.output
    finally:
        engine.dispose()


def test_purge_refuses_bad_values_and_a_dry_run_creates_no_table(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'vide.sqlite'}"
    result = runner.invoke(main_app, ["buyer", "purge", "--database-url", url, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Total : 0 ligne(s) à supprimer." in result.output
    engine = make_engine(url)
    try:
        reflected = MetaData()
        reflected.reflect(engine)
        assert not reflected.tables  # counted, nothing created
    finally:
        engine.dispose()
    result = runner.invoke(main_app, ["buyer", "purge", "--database-url", url, "--dead-days", "-1"])
    assert result.exit_code == 2
    config = tmp_path / "mauvais.toml"
    config.write_text("retention_delivered_days = -3\n", encoding="utf-8")
    result = runner.invoke(main_app, ["buyer", "purge", "--config", str(config)])
    assert result.exit_code == 1
    assert "retention_delivered_days" in result.output
