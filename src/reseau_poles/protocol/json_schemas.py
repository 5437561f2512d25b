"""JSON Schemas of the network's messages, generated from the models: each file's text, and
the index. No I/O: :mod:`reseau_poles.schema_export` writes them into ``schemas/`` and checks
them for drift.

Implementers in other languages read these files instead of our Python; a test compares them
with the models so they never drift (``make schemas`` rewrites them).

The schemas describe what our nodes *send*: an optional field is either absent or of its
type, never ``null`` (the models accept ``null`` on the way in and treat it as absent), and
decimals, times and points are the strings of the wire.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from .models import ACTION_MODELS, CORE_VERSION, AckResponse

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
INDEX: Final = "index.json"
ACK_RESPONSE: Final = "ack_response.json"


class WireJsonSchema(GenerateJsonSchema):
    """Pydantic's generator, minus what does not travel: ``null`` options, ``None``
    defaults, and a title on every field."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        json_schema = super().default_schema(schema)
        if json_schema.get("default", ...) is None:
            del json_schema["default"]
        return json_schema

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema (2020-12) of ``model`` as validated on the wire."""
    schema = model.model_json_schema(schema_generator=WireJsonSchema, mode="validation")
    return {"$schema": JSON_SCHEMA_DIALECT, **schema}


@cache
def _generated() -> dict[str, dict[str, Any]]:
    # Half a second of work, and the models do not change while the process runs.
    schemas = {f"{action}.json": model_schema(model) for action, model in ACTION_MODELS.items()}
    schemas[ACK_RESPONSE] = model_schema(AckResponse)
    return schemas


def build_schemas() -> dict[str, dict[str, Any]]:
    """File name → schema: one per action (``search.json`` …) and ``ack_response.json``."""
    return copy.deepcopy(_generated())


def build_index(schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What ``index.json`` lists: each file, its model and, for actions, its endpoint."""
    entries = []
    for name, schema in schemas.items():
        action = name.removesuffix(".json")
        entry = {"file": name, "title": schema.get("title", action)}
        if action in ACTION_MODELS:
            entry |= {"action": action, "endpoint": f"POST {{url}}/{action}"}
        else:
            entry["use"] = "réponse synchrone à tout appel (ACK / NACK)"
        entries.append(entry)
    return {
        "description": "Schémas JSON des messages Beckn de Réseau Pôles",
        "beckn_core_version": CORE_VERSION,
        "conforms_to": "beckn/protocol-specifications core-v1.1.1",
        "regenerate": "make schemas",
        "schemas": entries,
    }


def render(document: dict[str, Any]) -> str:
    """Pretty, stable JSON: sorted keys, 2-space indent, UTF-8 text, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    """Every file ``schemas/`` should hold, with its exact text."""
    schemas = _generated()
    files = {name: render(schema) for name, schema in schemas.items()}
    files[INDEX] = render(build_index(schemas))
    return files
