"""Bytes in, models out, and back: the only way messages cross the wire.

:func:`parse_message` turns a raw body into the request model of its action, or raises
:class:`~reseau_poles.protocol.errors.ProtocolError` with the JSON path at fault
(``message.order.items[0].quantity.selected.count``), and nothing else, whatever the bytes:
a peer's garbage is an answer (a NACK), never a crash.

:func:`to_bytes` serialises a model once, compactly, so the node signs and sends those very
bytes (BECKN-006 hashes the body as sent).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import pydantic_core
from pydantic import BaseModel, ValidationError

from ..errors import ErrorCode, ProtocolError
from ..jsonpath import json_path as render_path
from ..validation_text import french_message
from .messages import ACTION_MODELS, AT, BecknRequest
from .scalars import WIRE

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")

# Number literals that may overflow to infinity (an exponent, or 300 digits in a row), and
# NaN/Infinity, which the JSON parser lets through: all would come out as `null`.
_SUSPECT_NUMBER = re.compile(rb"[0-9][eE]|[0-9]{300}|NaN|Infinity")
_MAX_ERRORS_IN_DETAILS: Final = 10


def json_path(location: Sequence[int | str]) -> str:
    """``("message", "order", "items", 0, "id")`` → ``message.order.items[0].id``; ``""`` for
    the whole body (the models' form of :func:`reseau_poles.protocol.jsonpath.json_path`)."""
    return render_path(location, style="quoted", root="")


def _error_path(error: Any) -> str:
    location = list(error.get("loc", ()))
    at = (error.get("ctx") or {}).get(AT)
    if at:
        location.append(at)
    return json_path(location)


def _refusal_of(errors: list[Any], what: str, code: ErrorCode) -> ProtocolError:
    first = errors[0]
    path = _error_path(first) or None
    if first["type"] == "json_invalid":
        message = f"{what} : {french_message(first)}"
    elif first["type"] == "model_type" and not first["loc"]:
        message = f"{what} : le corps doit être un objet JSON"
    else:
        message = f"{what} : {path or 'corps'} : {french_message(first)}"
    details = {
        "errors": [
            {"path": _error_path(e), "type": e["type"], "message": french_message(e)}
            for e in errors[:_MAX_ERRORS_IN_DETAILS]
        ],
        "error_count": len(errors),
    }
    return ProtocolError(message, code=code, path=path, details=details)


def _non_finite_path(value: Any, location: tuple[int | str, ...] = ()) -> str | None:
    if isinstance(value, float):
        return (
            json_path(location)
            if value != value or value in (float("inf"), float("-inf"))
            else None
        )
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, child in items:
        found = _non_finite_path(child, (*location, key))
        if found is not None:
            return found
    return None


def _check_numbers(raw: bytes, what: str, code: ErrorCode) -> None:
    if not _SUSPECT_NUMBER.search(raw):
        return
    try:
        tree = pydantic_core.from_json(raw, allow_inf_nan=True)
    except ValueError:
        return  # the model's own parse reports it, with its position
    path = _non_finite_path(tree)
    if path is not None:
        raise ProtocolError(
            f"{what} : nombre non fini ou hors limites (NaN, Infinity, 1e999) à {path or 'corps'}",
            code=code,
            path=path or None,
        )


def parse_as(
    model: type[ModelT],
    raw: bytes | bytearray | memoryview | str,
    *,
    code: ErrorCode = ErrorCode.INVALID_REQUEST,
    what: str | None = None,
    check_numbers: bool = True,
) -> ModelT:
    """Validate a raw JSON body as ``model`` with the wire's rules, or raise ProtocolError.

    ``check_numbers=False`` skips the search for non-finite numbers (NaN, Infinity, 1e999),
    for a caller that already read the body and knows every number in it is finite
    (:func:`reseau_poles.network.jsonguard.loads_inbound`)."""
    what = what or f"Message {model.__name__} invalide"
    return _validated(
        raw,
        what,
        code,
        check_numbers,
        lambda data: model.model_validate_json(data, context=dict(WIRE)),
    )


def _validated(
    raw: bytes | bytearray | memoryview | str,
    what: str,
    code: ErrorCode,
    check_numbers: bool,
    validate: Callable[[bytes | str], T],
    errors_of: Callable[[list[Any]], list[Any]] | None = None,
) -> T:
    """``validate(raw)``, or the refusal: a peer's bytes never raise anything else."""
    data = bytes(raw) if isinstance(raw, bytearray | memoryview) else raw
    try:
        if check_numbers and isinstance(data, bytes):
            _check_numbers(data, what, code)
        return validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        raise _refusal_of(errors_of(errors) if errors_of else errors, what, code) from None
    except ProtocolError:
        raise
    except (ValueError, TypeError, RecursionError) as exc:  # never a 500 for a peer's bytes
        raise ProtocolError(f"{what} : {exc}", code=code) from None


def parse_message(
    action: str,
    raw: bytes | bytearray | memoryview | str,
    *,
    code: ErrorCode = ErrorCode.INVALID_REQUEST,
    check_numbers: bool = True,
) -> BecknRequest:
    """The request model of ``action`` (``search`` … ``on_support``) read from ``raw``."""
    model = ACTION_MODELS.get(action)
    if model is None:
        raise ProtocolError(f"Action inconnue : {action!r}", code=code, path="context.action")
    return parse_as(
        model, raw, code=code, what=f"Message {action} invalide", check_numbers=check_numbers
    )


def check_message(
    action: str,
    raw: bytes | bytearray | memoryview | str,
    *,
    code: ErrorCode = ErrorCode.INVALID_REQUEST,
    check_numbers: bool = True,
) -> Any:
    """:func:`parse_message`'s yes or refusal, without building the model: the same rules,
    errors and paths (:mod:`.checker`), about three times faster; returns the validated
    document as plain data. For a caller that checks a message and works on its JSON (the
    network layer's inbound pipeline)."""
    from .checker import as_model_errors, check_request

    model = ACTION_MODELS.get(action)
    if model is None:
        raise ProtocolError(f"Action inconnue : {action!r}", code=code, path="context.action")
    return _validated(
        raw,
        f"Message {action} invalide",
        code,
        check_numbers,
        lambda data: check_request(model, data, dict(WIRE)),
        lambda errors: as_model_errors(model, errors),
    )


def to_dict(model: BaseModel) -> dict[str, Any]:
    """The JSON object of ``model`` as plain Python data (what :func:`to_bytes` encodes)."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def to_bytes(model: BaseModel) -> bytes:
    """Compact UTF-8 JSON, non-ASCII kept as is, only the fields that were given.

    Serialise once, then sign and send these bytes: never re-encode a signed body.
    """
    return model.__pydantic_serializer__.to_json(model, by_alias=True, exclude_unset=True)


__all__ = ["check_message", "json_path", "parse_as", "parse_message", "to_bytes", "to_dict"]
