"""Exporting the models' JSON Schemas: the files, the index, drift detection, and the schemas
accepting what our nodes send."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator, FormatChecker

from reseau_poles.protocol.json_schemas import ACK_RESPONSE, INDEX, build_schemas
from reseau_poles.protocol.models import ACTION_MODELS, AckResponse, parse_message, to_bytes
from reseau_poles.protocol.models.examples import example_nack, example_requests
from reseau_poles.schema_export import diff_schemas, main, write_schemas
from tests.protocol.strategies import request_json


def _formats() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("date-time")
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3,6}Z", value):
            return False  # what we send: always UTC, always with a fraction
        datetime.fromisoformat(value[:19])
        return True

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        return not isinstance(value, str) or bool(re.fullmatch(r"[a-z][a-z0-9+.-]*:\S+", value))

    return checker


def validator(name: str) -> Draft202012Validator:
    schema = build_schemas()[name]
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_formats())


def test_one_file_per_action_and_one_for_the_ack() -> None:
    assert set(build_schemas()) == {f"{a}.json" for a in ACTION_MODELS} | {ACK_RESPONSE}


@pytest.mark.parametrize("action", list(ACTION_MODELS))
def test_our_examples_validate_against_our_schemas(action: str) -> None:
    document = json.loads(to_bytes(example_requests()[action]))
    assert list(validator(f"{action}.json").iter_errors(document)) == []


def test_ack_and_nack_validate() -> None:
    check = validator(ACK_RESPONSE)
    for answer in (AckResponse.ack(), example_nack()):
        assert list(check.iter_errors(json.loads(to_bytes(answer)))) == []


@pytest.mark.parametrize("action", ["search", "on_search", "confirm", "on_status", "on_rating"])
def test_generated_messages_validate_against_our_schemas(action: str) -> None:
    check = validator(f"{action}.json")

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request_json(action))
    def run(document: dict[str, Any]) -> None:
        sent = json.loads(to_bytes(parse_message(action, json.dumps(document).encode())))
        assert list(check.iter_errors(sent)) == []

    run()


def test_schemas_pin_the_action_and_the_wire_forms() -> None:
    schema = build_schemas()["select.json"]
    context = schema["properties"]["context"]["allOf"][1]
    assert context == {"properties": {"action": {"const": "select"}}, "required": ["action"]}
    price = schema["$defs"]["Price"]["properties"]["value"]
    assert price == {"type": "string", "pattern": "^[+-]?([0-9]*[.])?[0-9]+$"}
    location = schema["$defs"]["Location"]["properties"]
    assert "3dspace" in location and "space_3d" not in location
    assert "null" not in json.dumps(schema)  # optional means absent, never null


def test_a_wrong_message_fails_our_schema() -> None:
    document = json.loads(to_bytes(example_requests()["select"]))
    document["context"]["action"] = "init"
    document["message"]["order"]["items"][0]["quantity"]["selected"]["count"] = -1
    errors = list(validator("select.json").iter_errors(document))
    assert len(errors) >= 2


def test_write_then_diff_then_drift(tmp_path: Path) -> None:
    written = write_schemas(tmp_path)
    assert {p.name for p in written} == set(build_schemas()) | {INDEX}
    assert diff_schemas(tmp_path) == []

    text = (tmp_path / "search.json").read_text("utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "$defs"')
    (tmp_path / "search.json").write_text(text.replace("string", "number", 1), "utf-8")
    (tmp_path / "on_track.json").unlink()
    (tmp_path / "vieux.json").write_text("{}\n", "utf-8")
    assert diff_schemas(tmp_path) == ["on_track.json", "search.json", "vieux.json"]

    write_schemas(tmp_path)
    assert diff_schemas(tmp_path) == ["vieux.json"]  # not ours: left alone


def test_files_listed_by_an_old_index_are_removed(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    index = json.loads((tmp_path / INDEX).read_text("utf-8"))
    index["schemas"].append({"file": "on_subscribe.json"})
    (tmp_path / INDEX).write_text(json.dumps(index), "utf-8")
    (tmp_path / "on_subscribe.json").write_text("{}", "utf-8")
    write_schemas(tmp_path)
    assert not (tmp_path / "on_subscribe.json").exists()
    assert diff_schemas(tmp_path) == []


def test_a_missing_folder_lacks_every_file(tmp_path: Path) -> None:
    expected = sorted([*build_schemas(), INDEX])
    assert diff_schemas(tmp_path / "absent") == expected


def test_index_lists_every_schema_with_its_endpoint(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    index = json.loads((tmp_path / INDEX).read_text("utf-8"))
    entries = {entry["file"]: entry for entry in index["schemas"]}
    assert set(entries) == set(build_schemas())
    assert entries["on_search.json"]["endpoint"] == "POST {url}/on_search"
    assert entries["on_search.json"]["title"] == "OnSearchRequest"


def test_main_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", str(tmp_path)]) == 1
    assert main([str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path)]) == 0
    assert "search.json" in capsys.readouterr().out
