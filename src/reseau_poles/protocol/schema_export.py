"""JSON Schemas of the network's messages, generated from the models and kept in ``schemas/``.

Implementers in other languages read these files instead of our Python; a test compares them
with the models so they never drift (``make schemas`` rewrites them).

The schemas describe what our nodes *send*: an optional field is either absent or of its
type, never ``null`` (the models accept ``null`` on the way in and treat it as absent), and
decimals, times and points are the strings of the wire.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from reseau_poles.generated import drifted_files, write_files

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


def _previous_files(folder: Path) -> set[str]:
    try:
        index = json.loads((folder / INDEX).read_text("utf-8"))
        return {entry["file"] for entry in index["schemas"]} | {INDEX}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def write_schemas(folder: str | Path) -> list[Path]:
    """Write every schema and ``index.json`` into ``folder``; return the paths written.

    Files the previous ``index.json`` listed and that are no longer generated are removed
    (an action renamed, say); nothing else in the folder is touched.
    """
    folder = Path(folder)
    files = expected_files()
    for stale in sorted(_previous_files(folder) - set(files)):
        (folder / stale).unlink(missing_ok=True)
    return write_files(folder, files)


def diff_schemas(folder: str | Path) -> list[str]:
    """Names of the files that are missing, different, or extra (``*.json`` not generated)."""
    return drifted_files(folder, expected_files())


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m reseau_poles.protocol.schema_export [FOLDER]``; ``--check`` only compares."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    folder = Path(next((a for a in args if not a.startswith("-")), "schemas"))
    if check:
        drift = diff_schemas(folder)
        for name in drift:
            print(f"différent : {folder / name}")
        return 1 if drift else 0
    for path in write_schemas(folder):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
