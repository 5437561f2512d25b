"""``jsonguard.loads_inbound``: the inbound pipeline's one JSON pass. Same value and same
refusals as ``loads_guarded``; it says a body's numbers are all finite only when the models'
own check (``codec._check_numbers``) would find nothing, so skipping that check never lets a
NaN, Infinity or 1e999 through."""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reseau_poles.network.jsonguard import JsonShapeError, loads_guarded, loads_inbound
from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.models.codec import _check_numbers

NUMBER_TEXT = st.sampled_from(
    ["1e999", "-1e999", "1E400", "1e-999", "12.50", "0.5e3", "NaN", "Infinity", "-Infinity"]
)
LEAF = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | NUMBER_TEXT  # as strings: must not count as numbers
    | st.uuids().map(str)  # "3e4f…": digits before an e, inside a string
)
JSON = st.recursive(
    LEAF,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=40,
)


def _same(left: object, right: object) -> bool:
    """Equality where NaN equals NaN."""
    if isinstance(left, float) and isinstance(right, float):
        return (math.isnan(left) and math.isnan(right)) or left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return type(left) is type(right) and left == right


def _models_would_refuse(raw: bytes) -> bool:
    try:
        _check_numbers(raw, "Message", code=None)  # type: ignore[arg-type]
    except ProtocolError:
        return True
    return False


@given(JSON, st.lists(NUMBER_TEXT, max_size=3))
@settings(max_examples=200, deadline=None)
def test_same_value_and_finite_only_when_the_models_find_nothing(
    value: object, literals: list[str]
) -> None:
    # Number literals written as such (json.dumps never writes 1e999).
    raw = json.dumps({"v": value, "n": [{"x": 1}]}).encode()
    if literals:
        raw = raw[:-1] + b',"raw":[' + ",".join(literals).encode() + b"]}"
    parsed, finite = loads_inbound(raw)
    assert _same(parsed, loads_guarded(raw))
    if finite:
        assert not _models_would_refuse(raw)
    else:
        # Only a real non-finite number (or 300 digits in a row) turns the check back on.
        assert _models_would_refuse(raw) or re.search(rb"[0-9]{300}", raw)


def test_uuids_and_number_words_in_strings_are_not_numbers() -> None:
    raw = b'{"context":{"message_id":"3e4f5a00-1e99-4e00-8e00-000000000000"},"x":"NaN 1e999"}'
    assert loads_inbound(raw)[1] is True
    assert loads_inbound(b'{"a":1e999}')[1] is False
    assert loads_inbound(b'{"a":[NaN]}')[1] is False
    assert loads_inbound(b'{"a":-Infinity}')[1] is False
    assert loads_inbound(b'{"a":"' + b"9" * 300 + b'"}')[1] is False  # the models look again


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":1,"a":2}',
        b'{"context":{"x":[{"b":1,"b":1}]}}',
        b"[" * 100 + b"]" * 100,
        b'{"s":"' + b"x" * 100_001 + b'"}',
        b"[" + b"0," * 10_000 + b"0]",
    ],
)
def test_refuses_exactly_what_loads_guarded_refuses(raw: bytes) -> None:
    with pytest.raises(JsonShapeError) as guarded:
        loads_guarded(raw)
    with pytest.raises(JsonShapeError) as inbound:
        loads_inbound(raw)
    assert (inbound.value.message, inbound.value.path) == (
        guarded.value.message,
        guarded.value.path,
    )


def test_malformed_json_is_still_a_value_error() -> None:
    with pytest.raises(ValueError):
        loads_inbound(b'{"a":')


def _ids_by_full_parse(raw: bytes) -> tuple[str | None, str | None]:
    try:
        context = json.loads(raw).get("context")
    except (ValueError, AttributeError):
        return None, None
    if not isinstance(context, dict):
        return None, None
    found = context.get("transaction_id"), context.get("message_id")
    return tuple(v if isinstance(v, str) else None for v in found)  # type: ignore[return-value]


@given(
    st.dictionaries(
        st.sampled_from(["transaction_id", "message_id", "action"]),
        st.text(max_size=10) | st.integers() | st.none(),
    ),
    JSON,
    st.sampled_from([(",", ":"), (", ", ": "), (",", ": ")]),
)
@settings(max_examples=200, deadline=None)
def test_context_ids_reads_only_the_context_and_agrees_with_a_full_parse(
    context: dict[str, object], message: object, separators: tuple[str, str]
) -> None:
    from reseau_poles.network.acks import context_ids

    raw = json.dumps(
        {"context": context, "message": message}, separators=separators, ensure_ascii=False
    ).encode()
    assert context_ids(raw) == _ids_by_full_parse(raw)
    # The catalog after the context is not read: a cut body still names its message.
    head = json.dumps({"context": context}, separators=separators, ensure_ascii=False)
    assert context_ids(raw[: len(head.encode()) + 4]) == _ids_by_full_parse(raw)


# Member names that make the count of ":" tricky: colons in names and values, the escaped
# colon, a backslash, quotes.
NAME = st.sampled_from(["a", "b", "a:b", ":", "::", 'q"', "\\", "é", "c"])
TEXT_LEAF = st.sampled_from(
    ['"x"', '"1:2"', '"\\u003a"', '"\\u003A"', '"\\\\:"', "1", "null", '":"']
)


@st.composite
def raw_json(draw: st.DrawFn, depth: int = 0) -> str:
    """JSON text written by hand, so that an object may hold a member name twice."""
    if depth >= 3 or draw(st.booleans()):
        return draw(TEXT_LEAF)
    if draw(st.booleans()):
        members = draw(st.lists(st.tuples(NAME, st.just(depth)), max_size=4))
        body = ",".join(
            f"{json.dumps(name, ensure_ascii=draw(st.booleans()))}:{draw(raw_json(depth + 1))}"
            for name, _ in members
        )
        return "{" + body + "}"
    items = draw(st.lists(st.just(depth), max_size=3))
    return "[" + ",".join(draw(raw_json(depth + 1)) for _ in items) + "]"


@given(raw_json())
@settings(max_examples=400)
def test_a_member_written_twice_is_found_however_the_colons_fall(text: str) -> None:
    """The fast count of ``:`` (loads_inbound) refuses exactly the bodies that the hook on
    every object (loads_guarded, the reference) refuses, with the same message."""
    raw = text.encode()
    try:
        expected = loads_guarded(raw)
    except JsonShapeError as refusal:
        with pytest.raises(JsonShapeError) as found:
            loads_inbound(raw)
        assert found.value.message == refusal.message
        return
    assert _same(loads_inbound(raw)[0], expected)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":"x:y","a":1}',  # the hidden value holds a colon
        b'{"a:b":1,"a:b":2}',
        b'{"a":"\\u003a","a":"\\u003a"}',  # escaped colons on both sides
        b'{"a":1,"b":"\\u003a","a":2}',  # one duplicate, one escaped colon: counts balance
        '{"a":1,"a":2}'.encode("utf-16"),
    ],
)
def test_duplicates_the_count_alone_could_miss_are_refused(raw: bytes) -> None:
    with pytest.raises(JsonShapeError, match="en double"):
        loads_inbound(raw)


@given(
    st.binary(max_size=700)
    | st.text("0123456789 a", max_size=700).map(str.encode)
    | st.tuples(st.integers(290, 310), st.binary(max_size=5)).map(lambda t: b"7" * t[0] + t[1])
)
def test_long_digit_runs_as_the_regular_expression_finds_them(raw: bytes) -> None:
    from reseau_poles.network.jsonguard import has_long_digit_run

    assert has_long_digit_run(raw) == (re.search(rb"[0-9]{300}", raw) is not None)


DEEP = st.integers(min_value=1, max_value=80).map(lambda n: "[" * n + "]" * n)


@given(
    JSON | DEEP.map(json.loads), st.sampled_from([(64, 100_000, 10_000), (3, 6, 2), (10, 40, 5)])
)
@settings(max_examples=400)
def test_the_quick_census_is_the_walks_count_or_defers_to_it(value: object, limits: tuple) -> None:
    """Where the body's size proves a limit cannot be crossed, the count comes from orjson;
    otherwise (or past the depth) the full walk decides, with its own error and path."""
    from reseau_poles.network.jsonguard import _quick_census, check_shape

    max_depth, max_string, max_array = limits
    try:
        body = json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return  # NaN, or a lone surrogate: orjson does not read these bodies (the slow way)
    quick = _quick_census(value, body, max_depth, max_string, max_array)
    try:
        full = check_shape(value, max_depth=max_depth, max_string=max_string, max_array=max_array)
    except JsonShapeError:
        assert quick is None
        return
    assert quick is None or quick == full


def test_the_quick_census_answers_for_an_ordinary_catalogue() -> None:
    from reseau_poles.network.jsonguard import _quick_census, check_shape

    value = {
        "context": {"timestamp": "2026-12-06T19:48:20.000Z", "bpp_uri": "https://pole.example"},
        "message": {"catalog": {"providers": [{"id": "p:1", "items": [{"id": "a"}] * 20}]}},
    }
    body = json.dumps(value).encode()
    assert _quick_census(value, body, 64, 100_000, 10_000) == check_shape(value)
    assert _quick_census(value, body, 3, 100_000, 10_000) is None  # too deep: the walk says
    assert loads_inbound(body)[0] == value
