"""``reseau-poles seller``: mounted in the main CLI; migrate creates the tables."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from reseau_poles.cli import app
from reseau_poles.seller.app import MIGRATIONS, VERSION_TABLE
from reseau_poles.storage import current_revision, head_revision


def test_seller_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["seller", "--help"])
    assert result.exit_code == 0 and "serve" in result.output and "migrate" in result.output
    url = f"sqlite:///{tmp_path / 'vendeur.sqlite'}"
    result = runner.invoke(app, ["seller", "migrate", "--database-url", url])
    assert result.exit_code == 0, result.output
    head = head_revision(MIGRATIONS)
    assert head and head in result.output
    assert current_revision(url, VERSION_TABLE) == head
