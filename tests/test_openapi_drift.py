"""The OpenAPI documents committed in ``openapi/`` are those the applications give today; each
is valid OpenAPI 3; every example finds its operation and is accepted by the role's models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from reseau_poles.openapi_export import (
    ROLES,
    diff_documents,
    expected_files,
    file_name,
    generate,
)

ROOT = Path(__file__).resolve().parents[1]
OPENAPI = ROOT / "openapi"


def test_committed_documents_match_the_applications() -> None:
    drift = diff_documents(OPENAPI)
    assert not drift, (
        f"Les documents OpenAPI de {OPENAPI} ne correspondent plus aux applications "
        f"(manquants, différents ou en trop : {', '.join(drift)}). "
        "Régénérez-les : run `make openapi` (ou `reseau-poles openapi export`), puis commitez-les."
    )


@pytest.mark.parametrize("role", ROLES)
def test_each_document_is_valid_openapi_3(role: str) -> None:
    document = generate().documents[role]
    assert document["openapi"].startswith("3.")
    validate(document)  # raises with the JSON path of the first fault


def test_every_example_finds_its_operation() -> None:
    unplaced = [f"{e.role} {e.method.upper()} {e.path}" for e in generate().unplaced]
    assert not unplaced, (
        "Exemples sans opération (route renommée ?) — corrigez EXAMPLES dans "
        f"reseau_poles/api_contract.py : {unplaced}"
    )


def test_the_text_is_the_same_whatever_the_machine(tmp_path: Path) -> None:
    """Another process, another folder, our environment variables set: the same bytes, and no
    trace of the throwaway folder, of a port or of the settings."""
    env = {
        **os.environ,
        "RESEAU_POLES_SUBSCRIBER_ID": "ailleurs.example",
        "RESEAU_POLES_PORT": "9417",
        "RESEAU_POLES_PUBLIC_URL": "http://ailleurs.example:9417",
        "TMPDIR": str(tmp_path),
    }
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-m", "reseau_poles.cli", "openapi", "export", "--dir", str(out)],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    files = expected_files()
    assert sorted(p.name for p in out.iterdir()) == sorted(files)
    for name, text in files.items():
        assert (out / name).read_text("utf-8") == text, name
        for trace in (str(tmp_path), "9417", "ailleurs.example", "noeud.invalid"):
            assert trace not in text, (name, trace)


def _examples(role: str, method: str, path: str, *, media: str = "application/json") -> dict:
    operation = generate().documents[role]["paths"][path][method]
    examples = operation["requestBody"]["content"][media]["examples"]
    assert examples
    return {name: example["value"] for name, example in examples.items()}


def test_protocol_examples_are_beckn_messages_of_their_action() -> None:
    from reseau_poles.protocol.models import ACTION_MODELS

    for role in ("seller", "buyer"):
        for action, body in _examples(role, "post", "/{action}").items():
            assert body["context"]["action"] == action
            ACTION_MODELS[action].model_validate(body)
    (search,) = _examples("gateway", "post", "/search").values()
    ACTION_MODELS["search"].model_validate(search)
    responses = generate().documents["seller"]["paths"]["/{action}"]["post"]["responses"]
    ack = responses["200"]["content"]["application/json"]["examples"]["ack"]["value"]
    nack = responses["400"]["content"]["application/json"]["examples"]["nack"]["value"]
    assert ack["message"]["ack"]["status"] == "ACK"
    assert nack["message"]["ack"]["status"] == "NACK" and nack["error"]["paths"]


def test_registry_examples_are_accepted_by_the_registry() -> None:
    from reseau_poles.registry.requests import SubscribeRecord, parse_lookup

    (record,) = _examples("registry", "post", "/subscribe").values()
    SubscribeRecord.model_validate(record)
    filters = [parse_lookup(body) for body in _examples("registry", "post", "/lookup").values()]
    assert filters[0].type == "BPP" and filters[0].region == "QC-03"
    assert filters[1].key_id == record["key_id"]


def test_buyer_examples_are_accepted_by_the_buyer_node() -> None:
    from reseau_poles.buyer.requests import BODY_MODELS, OrderIn, SearchParams

    for body in _examples("buyer", "post", "/api/searches").values():
        SearchParams.model_validate(body)
    for body in _examples("buyer", "post", "/api/orders").values():
        OrderIn.model_validate(body)
    for action, body in _examples("buyer", "post", "/api/orders/{order_id}/{action}").items():
        model: Any = BODY_MODELS[action]
        if body or model is not None:
            model.model_validate(body)


def _seller_path(suffix: str, method: str) -> str:
    paths = generate().documents["seller"]["paths"]
    (path,) = [p for p in paths if p.endswith(suffix) and method in paths[p]]
    return path


def test_seller_examples_are_accepted_by_the_seller_node() -> None:
    from reseau_poles.seller.requests import STATES, FulfillmentChange, ItemIn
    from reseau_poles.seller.services.csv_io import build_item, parse_csv

    for body in _examples("seller", "put", _seller_path("/products/{sku}", "put")).values():
        ItemIn.model_validate(body)
    (csv_text,) = _examples(
        "seller", "post", _seller_path("/products/import", "post"), media="text/csv"
    ).values()
    parsed = parse_csv(csv_text)
    assert not parsed.errors and len(parsed.rows) == 2
    for row in parsed.rows:
        item, errors = build_item(row, None)
        assert item is not None and not errors, errors
    fulfilment = _seller_path("/fulfillment", "post")
    for body in _examples("seller", "post", fulfilment).values():
        assert FulfillmentChange.model_validate(body).state in STATES


def test_check_command_names_the_drifting_file_and_the_fix(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from reseau_poles.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["openapi", "export", "--dir", str(tmp_path)]).exit_code == 0
    assert runner.invoke(app, ["openapi", "check", "--dir", str(tmp_path)]).exit_code == 0
    document = json.loads((tmp_path / file_name("buyer")).read_text("utf-8"))
    document["info"]["version"] = "0.0.0"
    (tmp_path / file_name("buyer")).write_text(json.dumps(document), "utf-8")
    (tmp_path / "ancien.json").write_text("{}", "utf-8")
    result = runner.invoke(app, ["openapi", "check", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "buyer.json" in result.output and "ancien.json" in result.output
    assert "make openapi" in result.output


def test_a_role_that_cannot_build_is_named_not_a_traceback(tmp_path: Path, monkeypatch) -> None:
    """A real failure (the gateway refuses its settings): the export names the role and
    writes nothing."""
    from typer.testing import CliRunner

    from reseau_poles import openapi_export
    from reseau_poles.cli import app

    def broken_gateway(tmp: Path) -> Any:
        from reseau_poles.gateway.app import create_app
        from reseau_poles.gateway.settings import GatewaySettings

        return create_app(GatewaySettings(key_dir=tmp / "cles", log_format="xml"))

    monkeypatch.setitem(openapi_export._BUILDERS, "gateway", broken_gateway)
    openapi_export._generated.cache_clear()
    try:
        result = CliRunner().invoke(app, ["openapi", "export", "--dir", str(tmp_path / "out")])
    finally:
        monkeypatch.undo()
        openapi_export._generated.cache_clear()
    assert result.exit_code == 1
    assert "« gateway »" in result.output and "ValidationError" in result.output
    assert "make openapi" in result.output
    assert not (tmp_path / "out").exists()
