"""Reading bodies: every bad body is a ProtocolError with the JSON path at fault, nothing else."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.models import (
    ACTION_MODELS,
    AckResponse,
    OnSearchRequest,
    SelectRequest,
    json_path,
    parse_as,
    parse_message,
    to_bytes,
)
from reseau_poles.protocol.models.examples import example_json, example_requests
from tests.protocol.strategies import json_value

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def refusal(action: str, document: Any) -> ProtocolError:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    with pytest.raises(ProtocolError) as caught:
        parse_message(action, raw)
    return caught.value


def select_with(**changes: Any) -> dict[str, Any]:
    document = example_json("select")
    item = document["message"]["order"]["items"][0]
    item["quantity"]["selected"].update(changes)
    return document


def test_a_zero_count_is_fine() -> None:
    parse_message("select", json.dumps(select_with(count=0)).encode())


@pytest.mark.parametrize("count", [-1, "2", 2.5, True, [2], {"n": 2}])
def test_bad_count_is_refused_at_its_exact_path(count: Any) -> None:
    document = select_with(count=count)
    error = refusal("select", document)
    assert error.code is ErrorCode.INVALID_REQUEST
    assert error.path == "message.order.items[0].quantity.selected.count"
    assert error.to_error()["paths"] == error.path
    assert error.details["errors"][0]["path"] == error.path


@pytest.mark.parametrize(
    ("where", "value", "path"),
    [
        (("context", "timestamp"), "2026-11-26T10:00:00", "context.timestamp"),
        (("context", "timestamp"), "26/11/2026", "context.timestamp"),
        (("context", "transaction_id"), "pas-un-uuid", "context.transaction_id"),
        (("context", "bap_uri"), "pas une uri", "context.bap_uri"),
        (("context", "ttl"), "30 secondes", "context.ttl"),
        (("context", "action"), "init", "context.action"),
        (("context", "action"), "acheter", "context.action"),
        (("context", "location", "gps"), "95,10", "context.location.gps"),
        (("message", "order", "quote"), {"price": {"value": 247.49}}, None),
        (("message", "order", "status"), "EN_COURS", "message.order.status"),
        (("message", "order", "items"), {"id": "x"}, "message.order.items"),
        (("message", "order", "provider", "ttl"), -2, "message.order.provider.ttl"),
    ],
)
def test_refusal_paths(where: tuple[str, ...], value: Any, path: str | None) -> None:
    document = example_json("select")
    target = document
    for key in where[:-1]:
        target = target.setdefault(key, {})
    target[where[-1]] = value
    error = refusal("select", document)
    assert error.path == (path or "message.order.quote.price.value")


def test_missing_fields_are_named() -> None:
    document = example_json("select")
    del document["message"]["order"]
    assert refusal("select", document).path == "message.order"
    del document["message"]
    assert refusal("select", document).path == "message"
    document = example_json("select")
    del document["context"]["message_id"]
    assert refusal("select", document).path == "context.message_id"


def test_a_callback_must_say_something() -> None:
    document = example_json("on_search")
    del document["message"]
    assert refusal("on_search", document).path == "message"
    document["error"] = {"code": "30009", "message": "Hors zone de livraison"}
    request = parse_message("on_search", json.dumps(document).encode())
    assert isinstance(request, OnSearchRequest)
    assert request.message is None
    assert request.error is not None and request.error.code == "30009"


def test_a_body_for_another_action_is_refused_at_context_action() -> None:
    error = refusal("init", example_json("select"))
    assert error.path == "context.action"
    assert "« select »" in error.message and "« init »" in error.message


def test_unknown_action() -> None:
    error = refusal("acheter", example_json("select"))
    assert error.path == "context.action"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b"{",
        b'{"context": }',
        b"\xff\xfe{}",
        b"\xef\xbb\xbf{}",
        b'{"a":"\xff"}',
        b'{"a":"\\ud800"}',
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b"[]",
        b'"search"',
        b"42",
        b"null",
        b'{"context":null,"message":null}',
        b'{"context":{},"message":{}} trailing',
    ],
)
def test_garbage_is_a_protocol_error_not_a_crash(raw: bytes) -> None:
    error = refusal("search", raw)
    assert error.code is ErrorCode.INVALID_REQUEST
    assert error.message.startswith("Message search invalide")


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1E400"])
def test_non_finite_numbers_in_unknown_fields_are_refused(number: bytes) -> None:
    raw = to_bytes(example_requests()["search"]).replace(
        b'"context":{', b'"context":{"x_score":' + number + b",", 1
    )
    error = refusal("search", raw)
    assert error.path == "context.x_score"


def test_large_finite_numbers_in_unknown_fields_are_kept() -> None:
    raw = to_bytes(example_requests()["search"]).replace(
        b'"context":{', b'"context":{"x_big":1e300,"x_int":123456789012345678901234567890,', 1
    )
    request = parse_message("search", raw)
    assert json.loads(to_bytes(request))["context"]["x_big"] == 1e300
    assert json.loads(to_bytes(request))["context"]["x_int"] == 123456789012345678901234567890


def test_the_code_can_be_chosen_by_the_receiver() -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_message("on_select", b"{}", code=ErrorCode.BUYER_INVALID_RESPONSE)
    assert caught.value.code is ErrorCode.BUYER_INVALID_RESPONSE
    assert caught.value.to_nack()["error"]["code"] == "20007"


def test_parse_accepts_str_bytearray_and_memoryview() -> None:
    body = to_bytes(example_requests()["select"])
    for raw in (body.decode(), bytearray(body), memoryview(body)):
        assert isinstance(parse_message("select", raw), SelectRequest)


def test_nack_from_a_protocol_error() -> None:
    error = refusal("select", select_with(count=-1))
    nack = AckResponse.nack(error)
    assert not nack.is_ack
    assert json.loads(to_bytes(nack)) == error.to_nack()
    assert parse_as(AckResponse, to_bytes(nack)) == nack


def test_json_path_forms() -> None:
    assert json_path(("message", "order", "items", 0, "id")) == "message.order.items[0].id"
    assert json_path(("quote", "breakup", 1, "@ondc/org/title_type")) == (
        "quote.breakup[1].@ondc/org/title_type"
    )
    assert json_path(("location", "3dspace")) == "location.3dspace"
    assert json_path(("tags", "a.b")) == "tags['a.b']"
    assert json_path(()) == ""


def _resolves(document: Any, path: str) -> bool:
    """Whether ``path`` (as json_path writes it) names a node of ``document``."""
    node = document
    for token in path.replace("[", ".[").split("."):
        if not token:
            continue
        if token.startswith("["):
            inner = token[1:-1]
            key: Any = int(inner) if inner.isdigit() else inner.strip("'")
        else:
            key = token
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return False
    return True


@pytest.mark.parametrize("action", ["select", "on_confirm", "on_search"])
def test_mutated_messages_fail_only_with_protocol_errors_pointing_into_the_body(
    action: str,
) -> None:
    """Replace a random node of a valid message with random JSON: the body is accepted, or
    refused with a path that exists in it (or whose parent does, for a missing field)."""

    @FAST
    @given(st.data())
    def check(data: st.DataObject) -> None:
        document = example_json(action)
        parents: list[tuple[Any, Any]] = []

        def walk(node: Any) -> None:
            children = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in children:
                parents.append((node, key))
                if isinstance(child, dict | list):
                    walk(child)

        walk(document)
        node, key = data.draw(st.sampled_from(parents))
        node[key] = data.draw(json_value)
        raw = json.dumps(document).encode()
        try:
            parse_message(action, raw)
        except ProtocolError as error:
            assert error.path, error
            parent = error.path.rpartition(".")[0] if "." in error.path else ""
            assert _resolves(document, error.path) or _resolves(document, parent), error.path

    check()


@FAST
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(raw: bytes) -> None:
    for action in ("search", "on_status"):
        with contextlib.suppress(ProtocolError):
            parse_message(action, raw)


def test_every_action_has_a_model() -> None:
    assert len(ACTION_MODELS) == 20
    assert all(action == model.ACTION for action, model in ACTION_MODELS.items())
