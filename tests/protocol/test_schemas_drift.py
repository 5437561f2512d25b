"""The JSON Schemas committed in ``schemas/`` are those the models generate today."""

from __future__ import annotations

from pathlib import Path

from reseau_poles.schema_export import diff_schemas

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_committed_schemas_match_the_models() -> None:
    drift = diff_schemas(SCHEMAS)
    assert not drift, (
        f"Les schémas JSON de {SCHEMAS} ne correspondent plus aux modèles "
        f"(manquants, différents ou en trop : {', '.join(drift)}). "
        "Régénérez-les : run `make schemas` "
        "(ou `python -m reseau_poles.schema_export schemas`), puis commitez-les."
    )
