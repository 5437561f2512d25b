"""``reseau-poles seller``: mounted in the main CLI; migrate creates the tables; a pôle, its
keys and its catalogue managed from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from reseau_poles.cli import app
from reseau_poles.seller.app import MIGRATIONS, VERSION_TABLE
from reseau_poles.storage import current_revision, head_revision

SAMPLE = Path(__file__).parents[2] / "seller_node" / "exemples" / "catalogue.csv"


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


def test_provider_create_help_shows_the_toml_tables() -> None:
    """Rich markup must not eat ``[[locations]]`` (it took ``[locations]`` for a style)."""
    result = CliRunner().invoke(
        app, ["seller", "provider", "create", "--help"], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "[[locations]]" in text and "[[fulfillment_options]]" in text, result.output


PROFILE = """
id = "pole-bas-saint-laurent"
name = "Pôle alimentaire du Bas-Saint-Laurent"
legal_form = "OBNL"
region = "QC-01"
served_regions = ["QC-01", "QC-11"]
contact_name = "Marc Bélanger"
email = "commandes@pole-bsl.example"
opening_hours = "lun-ven 8 h-17 h"
payment_types = ["POST-FULFILLMENT"]
net_days = 30

[[locations]]
id = "entrepot-rimouski"
name = "Entrepôt de Rimouski"
gps = "48.4490,-68.5230"
address = "100, rue du Port, Rimouski"
region = "QC-01"

[[fulfillment_options]]
id = "cueillette-rimouski"
type = "cueillette"
name = "Cueillette à Rimouski"
regions = ["QC-01"]
location_id = "entrepot-rimouski"
"""


def test_provider_keys_import_export(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'vendeur.sqlite'}"
    db = ["--database-url", url]
    pole = "pole-bas-saint-laurent"
    (tmp_path / "pole.toml").write_text(PROFILE, encoding="utf-8")
    made = runner.invoke(
        app, ["seller", "provider", "create", "-f", str(tmp_path / "pole.toml"), *db]
    )
    assert made.exit_code == 0, made.output
    assert "créé" in made.output and "1 lieu(x)" in made.output
    shown = runner.invoke(app, ["seller", "provider", "show", pole, "--json", *db])
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert document["legal_form"] == "obnl" and document["locations"][0]["id"] == (
        "entrepot-rimouski"
    )
    assert document["fulfillment_options"] == ["cueillette-rimouski"]
    # Options override the file; a bad value is refused with its field, nothing written.
    bad = runner.invoke(
        app,
        [
            "seller",
            "provider",
            "create",
            "--id",
            "autre",
            "--name",
            "X",
            "--legal-form",
            "sarl",
            "--region",
            "QC-99",
            *db,
        ],
    )
    assert bad.exit_code == 1
    assert "legal_form" in bad.output and "region" in bad.output
    assert runner.invoke(app, ["seller", "provider", "show", "autre", *db]).exit_code == 1

    key = runner.invoke(
        app, ["seller", "key", "create", "--provider", pole, "--label", "caisse", *db]
    )
    assert key.exit_code == 0, key.output
    secret = key.stdout.strip().splitlines()[-1]
    assert secret.startswith("rpv_")
    listed = runner.invoke(app, ["seller", "key", "list", "--provider", pole, *db])
    assert secret[:12] in listed.output and "caisse" in listed.output
    assert secret not in listed.output
    unknown = runner.invoke(app, ["seller", "key", "list", "--provider", "inconnu", *db])
    assert unknown.exit_code == 1 and "inconnu" in unknown.output

    bad_csv = tmp_path / "mauvais.csv"
    bad_csv.write_text("sku;nom;categorie;prix\nok;Bon;Fruits;2\nko;Mauvais;Fruits;-3\n", "utf-8")
    refused = runner.invoke(app, ["seller", "import", "--provider", pole, str(bad_csv), *db])
    assert refused.exit_code == 1
    said = " ".join(refused.output.split())  # rich wraps at the terminal's width
    assert "rien n'a été importé" in said and "│ 3 │ prix │ doit être au moins 0 │" in said
    imported = runner.invoke(app, ["seller", "import", "--provider", pole, str(SAMPLE), *db])
    assert imported.exit_code == 0, imported.output
    assert "28 produit(s) créé(s)" in " ".join(imported.output.split())
    out_file = tmp_path / "export.csv"
    exported = runner.invoke(
        app, ["seller", "export", "--provider", pole, str(out_file), "--separateur", ";", *db]
    )
    assert exported.exit_code == 0 and "28 produit(s)" in exported.output
    again = runner.invoke(app, ["seller", "import", "--provider", pole, str(out_file), *db])
    assert again.exit_code == 0 and "28 mis à jour" in " ".join(again.output.split())
    to_stdout = runner.invoke(
        app, ["seller", "export", "--provider", pole, "--separateur", ";", *db]
    )
    assert to_stdout.stdout == out_file.read_text("utf-8")

    revoked = runner.invoke(app, ["seller", "key", "revoke", "--provider", pole, secret[:12], *db])
    assert revoked.exit_code == 0, revoked.output
    twice = runner.invoke(app, ["seller", "key", "revoke", "--provider", pole, secret[:12], *db])
    assert twice.exit_code == 1
