"""The pipeline itself: steps by name at their anchors, the undo of the steps before a
refusal (and not past a settling step), and the one function that turns any exception into
the answer, the same for every role."""

from __future__ import annotations

import asyncio
import logging

import pytest
import sqlalchemy.exc
from hypothesis import given
from hypothesis import strategies as st

from reseau_poles.network.acks import INVALID_REQUEST_BY_ROLE, Refusal
from reseau_poles.network.answers import refusal_for
from reseau_poles.network.inbound import Inbound
from reseau_poles.network.lookup import RegistryLookup
from reseau_poles.network.pipeline import (
    Call,
    Pipeline,
    ProtocolDocs,
    Step,
    inbound_pipeline,
)
from reseau_poles.protocol.errors import ErrorCode, ProtocolError

SHARED = (
    "read_body",
    "verify_signature",
    "decode",
    "check_signer",
    "check_sender_uri",
    "check_timestamp",
    "guard_replay",
    "validate",
)


def _noop(_call: Call) -> None:
    return None


def _inbound() -> Inbound:
    return Inbound("vendeur.example", "BPP", RegistryLookup("http://127.0.0.1:9"))


def test_the_shared_steps_in_their_order() -> None:
    assert inbound_pipeline(_inbound()).names == SHARED


def test_a_role_adds_and_replaces_steps_at_named_anchors() -> None:
    pipeline = inbound_pipeline(_inbound())
    pipeline.insert_before("guard_replay", Step("route", _noop), Step("rate_limit", _noop))
    pipeline.insert_after("read_body", Step("gate", _noop))
    pipeline.append(Step("handle", _noop, settles=True))
    pipeline.replace("validate", Step("validate", _noop))
    pipeline.remove("check_timestamp")
    assert pipeline.names == (
        "read_body",
        "gate",
        "verify_signature",
        "decode",
        "check_signer",
        "check_sender_uri",
        "route",
        "rate_limit",
        "guard_replay",
        "validate",
        "handle",
    )
    assert pipeline["validate"].run is _noop and pipeline["handle"].settles
    assert pipeline["guard_replay"].undo is not None  # the replay slot given back
    with pytest.raises(KeyError, match="étape inconnue : 'nulle_part'"):
        pipeline.insert_before("nulle_part", Step("x", _noop))
    with pytest.raises(ValueError, match="en double : 'route'"):
        pipeline.append(Step("route", _noop))
    with pytest.raises(ValueError, match="en double : 'gate'"):
        pipeline.replace("route", Step("gate", _noop))


@given(
    length=st.integers(min_value=1, max_value=8),
    data=st.data(),
)
def test_undo_runs_for_a_refusal_after_the_step_and_before_any_settling_step(
    length: int, data: st.DataObject
) -> None:
    """Steps ``0 … length-1``; ``guard`` has an undo, ``settle`` settles (or none), ``fail``
    fails (or none), with a refusal (an answer: 400) or a failure to handle (503 database
    down, 500 unexpected). The undo runs exactly when the guard ran, a later step failed, and
    no settling step came after the guard and answered: one before the failing step, or the
    failing step itself when its failure is an answer."""
    guard = data.draw(st.integers(0, length - 1), label="guard")
    settle = data.draw(st.one_of(st.none(), st.integers(0, length - 1)), label="settle")
    fail = data.draw(st.one_of(st.none(), st.integers(0, length - 1)), label="fail")
    kind = data.draw(st.sampled_from(["refusal", "database", "unexpected"]), label="kind")
    failures = {
        "refusal": Refusal(ProtocolError("non", code=ErrorCode.INVALID_REQUEST)),
        "database": sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("verrouillée")),
        "unexpected": RuntimeError("imprévu"),
    }
    ran: list[int] = []
    undone: list[int] = []

    def make(index: int) -> Step:
        async def run(_call: Call) -> None:
            ran.append(index)
            if index == fail:
                raise failures[kind]

        async def undo(_call: Call) -> None:
            undone.append(index)

        return Step(
            f"s{index}",
            run,
            undo=undo if index == guard else None,
            settles=index == settle,
        )

    pipeline = Pipeline(make(index) for index in range(length))
    call = Call("search", {}, body=b"{}")
    if fail is None:
        assert asyncio.run(pipeline.run(call)) is call
        assert ran == list(range(length)) and undone == []
        return
    with pytest.raises(type(failures[kind])):
        asyncio.run(pipeline.run(call))
    assert ran == list(range(fail + 1))
    settled = (
        settle is not None
        and guard < settle
        and (settle < fail or (settle == fail and kind == "refusal"))
    )
    expected = [guard] if guard < fail and not settled else []
    assert undone == expected


def test_sync_and_async_steps_both_run() -> None:
    seen: list[str] = []

    async def later(_call: Call) -> None:
        await asyncio.sleep(0)
        seen.append("async")

    pipeline = Pipeline([Step("a", lambda _call: seen.append("sync")), Step("b", later)])
    assert not pipeline["a"].asynchronous and pipeline["b"].asynchronous
    asyncio.run(pipeline.run(Call("search", {})))
    assert seen == ["sync", "async"]


@pytest.mark.parametrize("role", ["BAP", "BPP", "BG", "BREG"])
def test_one_answer_per_kind_of_exception_for_every_role(
    role: str, caplog: pytest.LogCaptureFixture
) -> None:
    code = INVALID_REQUEST_BY_ROLE[role]
    refusal = Refusal(ProtocolError("non", code=code, path="x"), status_code=401)
    assert refusal_for(refusal, role) is refusal

    business = ProtocolError("stock épuisé", code=ErrorCode.QUANTITY_UNAVAILABLE)
    answer = refusal_for(business, role)
    assert answer.status_code == business.http_status and answer.error is business

    down = refusal_for(sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("x")), role)
    assert down.status_code == 503 and down.headers == {"Retry-After": "1"}
    assert down.error.code == code and "indisponible" in down.error.message

    with caplog.at_level(logging.ERROR, logger="reseau_poles.network"):
        unexpected = refusal_for(RuntimeError("secret interne"), role, "POST /search")
    assert unexpected.status_code == 500 and unexpected.headers == {}
    assert unexpected.error.code == code
    assert unexpected.error.message.startswith("erreur interne ")
    assert b"secret" not in unexpected.body() and b"NACK" in unexpected.body()
    (record,) = [r for r in caplog.records if "POST /search" in r.getMessage()]
    assert record.exc_info is not None and "secret interne" in str(record.exc_info[1])


def test_the_declared_path_item_is_the_documented_one() -> None:
    """Each protocol endpoint's operation in the served document is its declaration (the
    generic completion only adds refusals it does not declare)."""
    from reseau_poles.gateway.api.search import SEARCH_DOCS
    from reseau_poles.openapi_export import generate
    from reseau_poles.participant.app import PROTOCOL_DOCS

    documents = generate().documents
    for role, docs in (
        ("seller", PROTOCOL_DOCS["BPP"]),
        ("buyer", PROTOCOL_DOCS["BAP"]),
        ("gateway", SEARCH_DOCS),
    ):
        assert isinstance(docs, ProtocolDocs)
        declared = docs.path_item()["post"]
        served = documents[role]["paths"][docs.path]["post"]
        for key, value in declared.items():
            if key == "responses":
                for status, answer in value.items():
                    assert served["responses"][status] == answer, (role, status)
            else:
                assert served[key] == value, (role, key)
        assert set(served["responses"]) - set(declared["responses"]) <= {"404"}
