"""protocol.jsonfast: orjson's speed, the standard library's answers."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reseau_poles.protocol.jsonfast import dumps, dumps_text, has_digit_run, loads_exact, wire


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 is not 1.0, -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # past 64 bits too
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(["é", "Sirop d'érable", "\u2028", "\x00", "a:b", "\ud800x"])
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


@given(documents)
@settings(max_examples=400)
def test_dumps_reads_back_as_json_dumps_does(value: Any) -> None:
    written = dumps(value)
    assert isinstance(written, bytes)
    assert same(json.loads(written), json.loads(json.dumps(value)))
    assert b"\n" not in written and b"\r" not in written  # one line (an SSE data line)
    assert dumps_text(value) == written.decode()


def test_dumps_is_compact_and_keeps_non_ascii() -> None:
    assert dumps({"nom": "Sirop d'érable", "n": [1, 2]}) == (
        '{"nom":"Sirop d\'érable","n":[1,2]}'.encode()
    )


class Colour(StrEnum):
    RED = "rouge"


@dataclass
class Point:
    x: int


def test_dumps_takes_what_json_takes_and_refuses_what_it_refuses() -> None:
    assert (
        dumps({1: "a", 2**80: [2**80]})
        == json.dumps({1: "a", 2**80: [2**80]}, separators=(",", ":")).encode()
    )
    assert dumps([Colour.RED]) == b'["rouge"]'
    for foreign in (datetime.now(UTC), Decimal("1.5"), Point(1), {1, 2}, b"octets"):
        with pytest.raises(TypeError):
            json.dumps(foreign)
        with pytest.raises(TypeError):
            dumps({"valeur": foreign})


@given(documents)
@settings(max_examples=400)
def test_loads_exact_is_json_loads_or_declines(value: Any) -> None:
    for body in (
        json.dumps(value).encode(),
        json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"),
    ):
        found = loads_exact(body)
        expected = json.loads(body)
        if found is not None:
            assert same(found[0], expected)


@given(
    st.binary(max_size=60) | st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
@settings(max_examples=600)
def test_loads_exact_never_reads_what_json_refuses_or_reads_otherwise(body: bytes) -> None:
    found = loads_exact(body)
    try:
        expected = json.loads(body)
    except (ValueError, RecursionError):
        assert found is None
        return
    if found is not None:
        assert same(found[0], expected)


@pytest.mark.parametrize(
    "body",
    [
        b'{"n":123456789012345678901234567890}',  # past 64 bits: json keeps an int
        b'{"n":18446744073709551616}',
        b'{"n":NaN}',
        b'{"n":Infinity}',
        b'{"n":1e999}',
        b'{"s":"\\ud800"}',  # a lone surrogate: json reads it
        b"\xef\xbb\xbf{}",  # byte-order mark
        '{"a":1}'.encode("utf-16"),
        b'{"a":1,"a":2}',  # duplicates: both keep the last (jsonguard refuses them)
    ],
)
def test_loads_exact_edges(body: bytes) -> None:
    found = loads_exact(body)
    try:
        expected = json.loads(body)
    except ValueError:
        assert found is None
        return
    assert found is None or same(found[0], expected)


def test_loads_exact_answers_for_ordinary_bodies() -> None:
    assert loads_exact(b'{"a":[1,2.5,"x",null,true]}') == ({"a": [1, 2.5, "x", None, True]},)
    assert loads_exact(b"null") == (None,)
    assert loads_exact(bytearray(b"{}")) is None  # bytes only


@given(st.binary(max_size=80), st.integers(min_value=1, max_value=30))
def test_has_digit_run_is_the_regular_expression(body: bytes, length: int) -> None:
    import re

    assert has_digit_run(body, length) == bool(re.search(rb"[0-9]{%d}" % length, body))


# --- wire: the bytes every role sends, signs or hashes -------------------------------------

wire_documents = st.recursive(
    scalars.filter(lambda v: not (isinstance(v, str) and "\ud800" in v)),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(max_size=8), inner, max_size=5)
        | st.dictionaries(st.integers() | st.booleans() | st.none(), inner, max_size=3)
    ),
    max_leaves=30,
)


@given(wire_documents)
@settings(max_examples=500)
def test_wire_writes_the_bytes_each_sender_wrote(value: Any) -> None:
    # The forms written by the network client, the NACKs, the registry's answers and the
    # conformance peer (compact UTF-8), and by the registry lookup (compact ASCII).
    before = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert wire(value) == before
    assert wire(value, ascii_only=True) == json.dumps(value, separators=(",", ":")).encode()
    assert wire(value).decode() == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_wire_writes_floats_as_the_standard_library_does() -> None:
    value = {"a": 1e16, "b": 1e-05, "c": 0.1, "n": 2**80, "t": "Sirop d'érable \u2028"}
    assert (
        wire(value)
        == (
            '{"a":1e+16,"b":1e-05,"c":0.1,"n":1208925819614629174706176,'
            '"t":"Sirop d\'érable \u2028"}'
        ).encode()
    )


def test_wire_escapes_a_lone_surrogate_instead_of_failing() -> None:
    assert wire({"k": "\ud800x"}) == b'{"k":"\\ud800x"}'


def test_wire_refuses_what_json_refuses() -> None:
    with pytest.raises(TypeError):
        wire({"when": datetime(2025, 1, 1, tzinfo=UTC)})
    with pytest.raises(TypeError):
        wire({"amount": Decimal("1.5")})
