"""Validation without the objects: the rules of a Beckn model, applied to a body for a yes or
a refusal only.

A node checks every inbound message against the model of its action and then works on the
parsed JSON; the model instances themselves were thrown away. Building them was most of the
cost: a 20-item ``on_search`` is about 1,100 objects, each a pydantic instance with its own
``__dict__``, fields-set and extras. :func:`checker` turns a model's core schema into the
same schema where every model is a typed dict (fields, aliases, defaults, constraints, our
scalar validators, ``extra="allow"`` all kept): pydantic-core applies the same rules and
returns plain dicts, about three times faster.

What a core schema cannot carry over is the models' own class validators, which expect an
instance; there are two (:mod:`.messages`) and :func:`check_request` applies them to the
result: ``context.action`` must be the model's, and a callback must carry a ``message`` or
an ``error``. Same errors, same paths, same French (the equivalence is property-tested
against the models in ``tests/protocol/test_checker.py``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError, SchemaValidator

from .base import BecknModel
from .messages import AT, BecknCallback, BecknRequest

_FUNCTIONS = ("function-after", "function-before", "function-wrap", "function-plain")


def _is_class_validator(node: dict[str, Any]) -> bool:
    """A validator written as a method of one of our models (it expects an instance)."""
    spec = node.get("function")
    function = spec.get("function") if isinstance(spec, dict) else spec
    owner = getattr(function, "__self__", None)  # a classmethod, bound to its class
    if isinstance(owner, type) and issubclass(owner, BecknModel):
        return True
    qualname = getattr(function, "__qualname__", "")
    return qualname.split(".", 1)[0] in {c.__name__ for c in _models()}


@cache
def _models() -> tuple[type[BaseModel], ...]:
    found: list[type[BaseModel]] = []
    pending: list[type[BaseModel]] = [BecknModel]
    while pending:
        model = pending.pop()
        found.append(model)
        pending.extend(model.__subclasses__())
    return tuple(found)


def _typed(node: Any) -> Any:
    if isinstance(node, list):
        return [_typed(child) for child in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind in _FUNCTIONS and _is_class_validator(node):
        if kind == "function-plain":  # pragma: no cover - none of ours replaces the schema
            raise TypeError("validateur de classe « plain » : pas d'équivalent sans instance")
        return _typed(node["schema"])
    if kind == "model":
        inner = _typed(node["schema"])
        if inner.get("type") != "model-fields":  # pragma: no cover - a root model
            raise TypeError(f"schéma de modèle inattendu : {inner.get('type')}")
        fields = {}
        for name, field in inner["fields"].items():
            typed_field: dict[str, Any] = {
                "type": "typed-dict-field",
                "schema": field["schema"],
                "required": field["schema"].get("type") != "default",
            }
            for key in ("validation_alias", "serialization_alias", "metadata"):
                if key in field:
                    typed_field[key] = field[key]
            fields[name] = typed_field
        typed: dict[str, Any] = {
            "type": "typed-dict",
            "fields": fields,
            "extra_behavior": inner.get("extra_behavior", "allow"),
        }
        for key in ("ref", "config", "metadata"):
            if key in node:
                typed[key] = node[key]
        return typed
    return {key: _typed(value) for key, value in node.items()}


@cache
def checker(model: type[BaseModel]) -> SchemaValidator:
    """A validator with ``model``'s rules that returns plain data instead of instances."""
    return SchemaValidator(_typed(model.__pydantic_core_schema__))


def check_request(model: type[BecknRequest], raw: bytes | str, context: dict[str, Any]) -> Any:
    """Validate ``raw`` by the rules of ``model``; the plain document, or ValidationError."""
    document = checker(model).validate_json(raw, context=context)
    found = document.get("context") if isinstance(document, dict) else None
    action = found.get("action") if isinstance(found, dict) else None
    if action != model.ACTION:  # BecknRequest._action_matches
        raise _error(
            "action_mismatch",
            "context.action vaut « {actual} » : « {expected} » attendu à cet endroit",
            {"actual": action, "expected": model.ACTION, AT: "action"},
            ("context",),
            found,
        )
    if (
        issubclass(model, BecknCallback)
        and document.get("message") is None
        and document.get("error") is None
    ):  # BecknCallback._says_something
        raise _error(
            "callback_empty",
            "un rappel porte un « message », une « error », ou les deux",
            {AT: "message"},
            (),
            document,
        )
    return document


def _error(
    kind: str, message: str, context: dict[str, Any], location: tuple[Any, ...], value: Any
) -> ValidationError:
    return ValidationError.from_exception_data(
        "message",
        [{"type": PydanticCustomError(kind, message, context), "loc": location, "input": value}],
    )


def as_model_errors(model: type[BaseModel], errors: list[Any]) -> list[Any]:
    """The errors as the model would word them: where an object was expected, a typed dict
    says ``dict_type`` and a model ``model_type``; the few fields that are real dicts
    (``jcard``, a tag's ``data``) keep ``dict_type``."""
    plain = _dict_fields(model)
    for error in errors:
        if error["type"] == "dict_type":
            location = error.get("loc") or ()
            if not location or location[-1] not in plain:
                error["type"] = "model_type"
    return errors


@cache
def _dict_fields(model: type[BaseModel]) -> frozenset[str]:
    """Names of the fields, anywhere under ``model``, whose value is a plain dict."""
    names: set[str] = set()

    def inner(schema: Any) -> Any:
        while isinstance(schema, dict) and schema.get("type") in ("nullable", "default"):
            schema = schema["schema"]
        return schema

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            if node.get("type") == "model-fields":
                for name, field in node["fields"].items():
                    target = inner(field["schema"])
                    if isinstance(target, dict) and target.get("type") == "dict":
                        names.add(field.get("validation_alias") or name)
            for value in node.values():
                walk(value)

    walk(model.__pydantic_core_schema__)
    return frozenset(names)
