"""Our messages against the official Beckn core 1.1.1 OpenAPI schemas.

The spec (``api/transaction/build/transaction.yaml`` at tag ``core-v1.1.1`` of
beckn/protocol-specifications) is CC BY-NC-SA, so it is never copied into the project: it is
read at test time from ``RESEAU_POLES_BECKN_SPEC`` (a path to the YAML), or from a local
mirror of the repository via ``git show``; without either, these tests are skipped.

The document is OpenAPI 3.1, whose schemas are JSON Schema 2020-12: it is registered whole
as one resource, and each path's request body schema is reached by a ``$ref`` into it, so
the spec's internal references (``#/components/schemas/Order/properties/id`` …) resolve as
written. Formats are checked too, with checkers of our own where jsonschema would need extra
packages (``date-time``, ``uri``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from reseau_poles.protocol.models import (
    ACTION_MODELS,
    AckResponse,
    parse_message,
    to_bytes,
)
from reseau_poles.protocol.models.examples import example_nack, example_requests
from tests.protocol.strategies import request_json

from .test_models_foreign import FOREIGN_ON_CONFIRM

# The official schema is found only through this setting: the path of the file
# ``api/transaction/build/transaction.yaml`` (tag ``core-v1.1.1`` of
# beckn/protocol-specifications), or of a git directory of that repository (a clone's
# ``.git`` or a bare mirror), read at the tag.
SPEC_ENV = "RESEAU_POLES_BECKN_SPEC"
SPEC_REF = "refs/tags/core-v1.1.1:api/transaction/build/transaction.yaml"
SPEC_URI = "urn:beckn:core:1.1.1:transaction"

_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")


def _load_spec_text() -> str | None:
    setting = os.environ.get(SPEC_ENV)
    if not setting:
        return None
    path = Path(setting)
    if path.is_file():
        try:
            return path.read_text("utf-8")
        except OSError:
            return None
    if not path.is_dir():
        return None
    try:
        result = subprocess.run(
            ["git", f"--git-dir={path}", "show", SPEC_REF],
            capture_output=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.decode("utf-8")


@cache
def _spec() -> dict[str, Any] | None:
    text = _load_spec_text()
    return None if text is None else yaml.safe_load(text)


def _formats() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("date-time")
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.fullmatch(value):
            return False
        datetime.fromisoformat(value[:19])  # raises for 2026-02-30
        return True

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        return not isinstance(value, str) or bool(_URI.fullmatch(value))

    return checker


@cache
def _validator(pointer: str) -> Draft202012Validator:
    spec = _spec()
    assert spec is not None
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry = Registry().with_resource(SPEC_URI, resource)
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#{pointer}"}, registry=registry, format_checker=_formats()
    )


def request_validator(action: str) -> Draft202012Validator:
    return _validator(f"/paths/~1{action}/post/requestBody/content/application~1json/schema")


def response_validator() -> Draft202012Validator:
    return _validator("/paths/~1init/post/responses/default/content/application~1json/schema")


def _problems(validator: Draft202012Validator, document: Any) -> list[str]:
    return [
        f"{'.'.join(map(str, error.absolute_path)) or '(racine)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]


pytestmark = pytest.mark.skipif(
    _spec() is None,
    reason=(
        f"spec Beckn 1.1.1 introuvable ({SPEC_ENV}={os.environ.get(SPEC_ENV, '')!r}) : "
        f"définir {SPEC_ENV}=/chemin/transaction.yaml (git clone "
        "https://github.com/beckn/protocol-specifications, tag core-v1.1.1, fichier "
        "api/transaction/build/transaction.yaml) ou le dossier .git de ce dépôt"
    ),
)


def test_the_spec_declares_every_action_we_model() -> None:
    spec = _spec()
    assert spec is not None
    assert {path.removeprefix("/") for path in spec["paths"]} == set(ACTION_MODELS)


@pytest.mark.parametrize("action", list(ACTION_MODELS))
def test_example_messages_validate_against_the_official_schema(action: str) -> None:
    document = json.loads(to_bytes(example_requests()[action]))
    assert _problems(request_validator(action), document) == []


def test_a_foreign_message_after_our_round_trip_still_validates() -> None:
    body = json.dumps(FOREIGN_ON_CONFIRM).encode()
    document = json.loads(to_bytes(parse_message("on_confirm", body)))
    assert _problems(request_validator("on_confirm"), document) == []


def test_the_validator_really_checks() -> None:
    """A guard against a vacuous validator: broken messages must fail."""
    document = json.loads(to_bytes(example_requests()["select"]))
    document["message"]["order"]["status"] = "EN_COURS"
    document["context"]["timestamp"] = "26/11/2026 10:00"
    document["context"]["action"] = "init"
    problems = _problems(request_validator("select"), document)
    assert any("context.timestamp" in p for p in problems)
    assert any("context.action" in p for p in problems)
    assert any("message.order.status" in p for p in problems)
    del document["message"]["order"]
    assert _problems(request_validator("select"), document)


@pytest.mark.parametrize("answer", [AckResponse.ack(), example_nack()], ids=["ack", "nack"])
def test_ack_and_nack_validate_against_the_official_response_schema(
    answer: AckResponse,
) -> None:
    assert _problems(response_validator(), json.loads(to_bytes(answer))) == []


@pytest.mark.parametrize("action", list(ACTION_MODELS))
def test_generated_messages_validate_against_the_official_schema(action: str) -> None:
    validator = request_validator(action)

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def check(data: st.DataObject) -> None:
        raw = json.dumps(data.draw(request_json(action)), ensure_ascii=False).encode()
        document = json.loads(to_bytes(parse_message(action, raw)))
        assert _problems(validator, document) == []

    check()
