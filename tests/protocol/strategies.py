"""Hypothesis strategies for Beckn 1.1 messages, as JSON data in canonical wire form.

Kept with the tests, since it imports ``hypothesis`` (a ``dev`` extra) and the package never
does; the tests of other roles may use it to fuzz their endpoints with valid messages.

Strategies are derived from the models' own fields, so a field added to a model is generated
at once. Scalars come out in the form our serialiser writes back (``"12.50"``,
``"2026-11-26T10:00:00.000Z"``), so parse-then-dump must give back the very same JSON;
every object may also carry unknown keys (``x_…``, ``@ondc/org/…``) with arbitrary JSON
values, which must survive too.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from functools import cache
from typing import Any, Literal, Union

from annotated_types import Ge, Le
from hypothesis import strategies as st
from pydantic import BaseModel, JsonValue
from pydantic.fields import FieldInfo

from reseau_poles.protocol.models.context import CALLBACK_ACTIONS, Error
from reseau_poles.protocol.models.messages import ACTION_MODELS, BecknCallback
from reseau_poles.protocol.models.scalars import (
    Date,
    DateTime,
    DecimalValue,
    Duration,
    Email,
    Gps,
    Uri,
    Uuid,
)

# Below MAX_DEPTH only scalar fields are drawn; an object at depth d draws at most
# MAX_OPTIONAL - d of its optional fields. Both keep examples small and the tests fast.
MAX_DEPTH = 8
MAX_OPTIONAL = 6

WORDS = [
    "Sirop d'érable",
    "Fromage en grains",
    "Pôle agroalimentaire de la Capitale",
    "livraison",
    "cueillette",
    "point_de_chute",
    "QC-03",
    "CAD",
    "CAN",
    "réfrigéré",
    "Bleuets sauvages du Lac-Saint-Jean",
    "Cidre de glace",
]
REGIONS = [f"QC-{n:02d}" for n in range(1, 18)] + ["*"]
HOSTS = ["marche-quebec.example", "achats.cscapitale.example", "pole-estrie.example"]

text = st.one_of(st.sampled_from(WORDS), st.text(max_size=12))
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
extra_key = st.from_regex(r"x_[a-z]{1,8}|@ondc/org/[a-z_]{1,12}|beckn:[a-z]{1,6}", fullmatch=True)

decimal_text = st.from_regex(r"-?(0|[1-9][0-9]{0,6})(\.[0-9]{1,3})?", fullmatch=True)
timestamp_text = st.builds(
    lambda moment: f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z",
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
)
date_text = st.dates().map(lambda day: f"{day.year:04d}-{day.month:02d}-{day.day:02d}")
duration_text = st.sampled_from(
    ["PT30S", "PT15M", "PT2H", "P1D", "P30D", "P1DT12H", "P2W", "P1Y2M3DT4H5M6S", "PT0.5S"]
)
gps_text = st.builds(
    lambda lat, lon, sep, digits: f"{lat:.{digits}f},{sep}{lon:.{digits}f}",
    st.floats(min_value=-90, max_value=90),
    st.floats(min_value=-180, max_value=180),
    st.sampled_from(["", " "]),
    st.integers(min_value=0, max_value=6),
)
uri_text = st.builds(
    lambda host, path: f"https://{host}/{path}",
    st.sampled_from(HOSTS),
    st.from_regex(r"[a-z0-9/-]{0,16}", fullmatch=True),
)
email_text = st.from_regex(r"[a-z]{1,8}\.[a-z]{1,8}@[a-z]{2,10}\.(ca|example)", fullmatch=True)
uuid_text = st.uuids().map(str)

_SCALARS: dict[Any, st.SearchStrategy[Any]] = {
    DecimalValue: decimal_text,
    DateTime: timestamp_text,
    Date: date_text,
    Duration: duration_text,
    Gps: gps_text,
    Uri: uri_text,
    Email: email_text,
    Uuid: uuid_text,
}


def _bounds(metadata: typing.Iterable[Any]) -> tuple[int | None, int | None]:
    low = high = None
    for item in metadata:
        inner = item.metadata if isinstance(item, FieldInfo) else [item]
        for bound in inner:
            if isinstance(bound, Ge):
                low = int(bound.ge)
            elif isinstance(bound, Le):
                high = int(bound.le)
    return low, high


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _strategy(annotation: Any, depth: int) -> st.SearchStrategy[Any] | None:
    """Data for ``annotation``, or None when it is an object too deep to draw."""
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if annotation is JsonValue:
        # A declared field's null reads as "not given" (models.base, rule 2): not drawn here,
        # or the round trip would be expected to keep it.
        return json_value.filter(lambda value: value is not None)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return _strategy(options[0], depth) if len(options) == 1 else None
    if origin is typing.Annotated:
        base, *metadata = args
        if base is int:
            low, high = _bounds(metadata)
            return st.integers(min_value=low if low is not None else -1000, max_value=high or 10**6)
        if base is bool:
            return st.booleans()
        return _strategy(base, depth)
    if origin is Literal:
        return st.sampled_from(args)
    if origin is list:
        item = _strategy(args[0], depth)
        return None if item is None else st.lists(item, max_size=2)
    if origin is dict:
        value = _strategy(args[1], depth)
        return None if value is None else st.dictionaries(text, value, max_size=2)
    if annotation is str:
        return text
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(min_value=0, max_value=10**6)
    if _is_model(annotation):
        return None if depth >= MAX_DEPTH else model_json(annotation, depth + 1)
    if annotation is Any:
        return None
    raise TypeError(f"pas de stratégie pour {annotation!r}")


@cache
def model_json(model: type[BaseModel], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object for ``model``: required fields always, a few optional ones (fewer the
    deeper it sits, so examples stay small), and now and then unknown keys."""
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, field in model.model_fields.items():
        strategy = _strategy(field.annotation, depth)
        if strategy is None:
            if field.is_required():
                raise TypeError(f"{model.__name__}.{name} est requis mais trop profond")
            continue
        (required if field.is_required() else optional)[field.alias or name] = strategy
    most = max(1, MAX_OPTIONAL - depth)
    chosen = (
        st.lists(st.sampled_from(sorted(optional)), max_size=most, unique=True)
        if optional
        else st.just([])
    )

    @st.composite
    def draw_object(draw: st.DrawFn) -> dict[str, Any]:
        data = draw(st.dictionaries(extra_key, json_value, max_size=2))
        data.update({key: draw(strategy) for key, strategy in required.items()})
        data.update({key: draw(optional[key]) for key in draw(chosen)})
        return data

    return draw_object()


def context_json(action: str) -> st.SearchStrategy[dict[str, Any]]:
    """A context for ``action`` in the Québec profile."""
    location = st.fixed_dictionaries(
        {
            "city": st.fixed_dictionaries(
                {"code": st.sampled_from(REGIONS)}, optional={"name": text}
            ),
            "country": st.fixed_dictionaries({"code": st.just("CAN")}, optional={"name": text}),
        }
    )
    subscriber = st.sampled_from(HOSTS)
    known = st.fixed_dictionaries(
        {
            "domain": st.sampled_from(["PLA:ALIMENTS", "PLA:LOGISTIQUE"]),
            "action": st.just(action),
            "bap_id": subscriber,
            "bap_uri": uri_text,
            "transaction_id": uuid_text,
            "message_id": uuid_text,
            "timestamp": timestamp_text,
        },
        optional={
            "location": location,
            "version": st.just("1.1.0"),
            "bpp_id": subscriber,
            "bpp_uri": uri_text,
            "key": text,
            "ttl": duration_text,
        },
    )
    extras = st.dictionaries(extra_key, json_value, max_size=2)
    return st.builds(lambda data, more: {**more, **data}, known, extras)


@cache
def request_json(action: str) -> st.SearchStrategy[dict[str, Any]]:
    """A whole body for ``action``: ``{"context", "message"}``, and for callbacks maybe
    ``error`` (then ``message`` may be missing, except in ``on_rating``)."""
    model = ACTION_MODELS[action]
    message_model = _message_model(model)
    message = model_json(message_model, 1)
    extras = st.dictionaries(extra_key, json_value, max_size=1)
    if action not in CALLBACK_ACTIONS:
        known = st.fixed_dictionaries({"context": context_json(action), "message": message})
    else:
        assert issubclass(model, BecknCallback)
        error = model_json(Error, 1)
        message_required = model.model_fields["message"].is_required()
        known = st.one_of(
            st.fixed_dictionaries(
                {"context": context_json(action), "message": message}, optional={"error": error}
            ),
            st.fixed_dictionaries(
                {"context": context_json(action), "error": error}
                | ({"message": message} if message_required else {})
            ),
        )
    return st.builds(lambda data, more: {**more, **data}, known, extras)


def _message_model(model: type[BaseModel]) -> type[BaseModel]:
    annotation = model.model_fields["message"].annotation
    options = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    found = options[0]
    assert _is_model(found), found
    return found


__all__ = ["context_json", "model_json", "request_json"]
