"""``check_message`` (typed-dict validation, no model instances) says exactly what
``parse_message`` (the models) says: the same yes, or the same refusal with the same message,
path and details, for valid documents of every action and for documents broken at random."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.models import ACTION_MODELS, parse_message, to_dict
from reseau_poles.protocol.models.codec import check_message
from reseau_poles.protocol.models.examples import example_requests
from tests.protocol.strategies import json_value, request_json

CHECK = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def outcome(check: Any, action: str, raw: bytes) -> tuple[Any, ...]:
    try:
        check(action, raw)
    except ProtocolError as refusal:
        return ("refus", refusal.code, str(refusal), refusal.path, refusal.details)
    return ("ok",)


def same(action: str, raw: bytes) -> tuple[Any, ...]:
    expected = outcome(parse_message, action, raw)
    assert outcome(check_message, action, raw) == expected
    return expected


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*at, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*at, index))
    return found


@st.composite
def broken(draw: st.DrawFn, action: str) -> dict[str, Any]:
    """A valid document of ``action`` with one to three places replaced or removed."""
    document = draw(request_json(action))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(document) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = document
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_value)
    return document


@pytest.mark.parametrize("action", list(ACTION_MODELS))
def test_same_answer_on_valid_documents(action: str) -> None:
    @CHECK
    @given(request_json(action))
    def check(document: dict[str, Any]) -> None:
        assert same(action, json.dumps(document, ensure_ascii=False).encode()) == ("ok",)

    check()


@pytest.mark.parametrize("action", list(ACTION_MODELS))
def test_same_refusal_on_broken_documents(action: str) -> None:
    @CHECK
    @given(st.data())
    def check(data: st.DataObject) -> None:
        same(action, json.dumps(data.draw(broken(action)), ensure_ascii=False).encode())

    check()


@pytest.mark.parametrize(("action", "example"), list(example_requests().items()))
def test_the_examples_and_their_wrong_action_and_empty_callback(action: str, example: Any) -> None:
    document = to_dict(example)
    assert same(action, json.dumps(document).encode()) == ("ok",)
    other = "search" if action != "search" else "select"
    moved = {**document, "context": {**document["context"], "action": other}}
    assert same(action, json.dumps(moved).encode())[0] == "refus"
    if action.startswith("on_"):
        empty = {"context": document["context"]}
        assert same(action, json.dumps(empty).encode())[0] == "refus"


@pytest.mark.parametrize(
    "raw", [b"", b"[]", b"null", b'{"context": 1}', b"{", b'{"context":{}}', "é".encode()]
)
def test_same_refusal_on_garbage(raw: bytes) -> None:
    for action in ("search", "on_search", "confirm"):
        assert same(action, raw)[0] == "refus"
