"""The network's defensive JSON reader (network.jsonguard): same values as ``json.loads``
on what it accepts, a clear refusal with a path on what it does not."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reseau_poles.network.jsonguard import JsonShapeError, check_shape, loads_guarded

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=40,
)


@given(JSON)
@settings(max_examples=100, deadline=None)
def test_accepts_what_json_accepts_within_limits(value: object) -> None:
    raw = json.dumps(value).encode()
    assert loads_guarded(raw) == json.loads(raw)


@given(st.integers(min_value=65, max_value=5000), st.booleans())
@settings(max_examples=50, deadline=None)
def test_refuses_deep_nesting_even_past_the_parser_limit(depth: int, arrays: bool) -> None:
    text = "[" * depth + "1" + "]" * depth if arrays else '{"a":' * depth + "1" + "}" * depth
    with pytest.raises(JsonShapeError) as refused:
        loads_guarded(text)
    assert "imbriqué" in refused.value.message


def test_refuses_a_million_levels_without_recursion_error() -> None:
    with pytest.raises(JsonShapeError):
        loads_guarded("[" * 1_000_000 + "]" * 1_000_000)


def test_refuses_duplicate_members_anywhere() -> None:
    with pytest.raises(JsonShapeError) as refused:
        loads_guarded('{"context":{"a":1},"message":{"x":1,"x":2}}')
    assert "'x'" in refused.value.message


def test_paths_name_the_excess() -> None:
    with pytest.raises(JsonShapeError) as long_string:
        check_shape({"message": {"items": [{"name": "x"}, {"name": "y" * 100_001}]}})
    assert long_string.value.path == "message.items[1].name"
    with pytest.raises(JsonShapeError) as long_array:
        check_shape({"message": {"tags": [0] * 10_001}})
    assert long_array.value.path == "message.tags"
    assert "10001" in long_array.value.message
    check_shape({"message": {"tags": [0] * 10_000, "name": "z" * 100_000}})  # at the limits


def test_malformed_json_is_still_a_value_error() -> None:
    with pytest.raises(ValueError):
        loads_guarded(b"{pas du json")
