"""A participant slow to start gets one more attempt (``challenge_retries``), with a fresh
challenge: a real answerer that is silent the first time is subscribed on the retry; one
silent both times gets the uniform refusal; a wrong answer is not retried."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request

from reseau_poles.protocol.keys import SubscriberKeys, open_challenge
from tests.registry.conftest import RunningRegistry, UvicornThread, new_keys

RETRYING = {
    "challenge_timeout_seconds": 1.0,
    "challenge_deadline_seconds": 1.5,
    "challenge_retries": 1,
    "challenge_retry_delay_seconds": 0.2,
}


class SlowAnswerer:
    """``/on_subscribe`` that stays silent (``silence`` seconds) for its first ``slow_calls``
    challenges, then answers at once; ``wrong`` answers wrongly instead."""

    def __init__(self, keys: SubscriberKeys, slow_calls: int, silence: float = 4.0) -> None:
        self.keys, self.slow_calls, self.silence = keys, slow_calls, silence
        self.wrong = False
        self.challenges: list[str] = []
        app = FastAPI()
        app.add_api_route("/pile/on_subscribe", self.on_subscribe, methods=["POST"])
        self.server = UvicornThread(app)

    @property
    def url(self) -> str:
        return f"{self.server.url}/pile"

    async def on_subscribe(self, request: Request) -> Any:
        challenge = json.loads(await request.body())["challenge"]
        self.challenges.append(challenge)
        if self.wrong:
            return {"answer": "pas le bon texte"}
        if len(self.challenges) <= self.slow_calls:
            await asyncio.sleep(self.silence)  # blocked, as a stack still starting
        return {"answer": open_challenge(self.keys.encryption, challenge)}


@pytest.fixture
def answerer() -> Iterator[Callable[[int], SlowAnswerer]]:
    started: list[SlowAnswerer] = []

    def start(slow_calls: int) -> SlowAnswerer:
        one = SlowAnswerer(new_keys("lente"), slow_calls)
        one.server.start()
        started.append(one)
        return one

    yield start
    for one in started:
        one.server.stop()


def test_a_stack_silent_at_first_is_subscribed_on_the_retry(
    registry_factory: Callable[..., RunningRegistry],
    answerer: Callable[[int], SlowAnswerer],
) -> None:
    registry = registry_factory(**RETRYING)
    slow = answerer(1)
    response = registry.subscribe(registry.host.add(slow.keys), url=slow.url)
    assert response.status_code == 200, response.text
    assert response.json()["subscriber"]["status"] == "SUBSCRIBED"
    assert len(slow.challenges) == 2
    assert slow.challenges[0] != slow.challenges[1]  # a fresh challenge for the retry


def test_without_retries_the_same_stack_is_refused_after_one_attempt(
    registry_factory: Callable[..., RunningRegistry],
    answerer: Callable[[int], SlowAnswerer],
) -> None:
    registry = registry_factory(**{**RETRYING, "challenge_retries": 0})
    slow = answerer(1)
    response = registry.subscribe(registry.host.add(slow.keys), url=slow.url)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "15003"
    assert len(slow.challenges) == 1


def test_silent_both_times_gets_the_uniform_refusal_and_a_wrong_answer_is_not_retried(
    registry_factory: Callable[..., RunningRegistry],
    answerer: Callable[[int], SlowAnswerer],
) -> None:
    registry = registry_factory(**RETRYING)
    silent = answerer(2)
    wrong = answerer(0)
    wrong.wrong = True
    messages = {}
    for name, one in (("silence", silent), ("wrong", wrong)):
        response = registry.subscribe(registry.host.add(one.keys), url=one.url)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["code"], error["paths"]) == ("15003", "url"), error
        messages[name] = error["message"].replace(one.url, "{url}")
    assert messages["silence"] == messages["wrong"], messages
    assert messages["silence"].startswith("Défi non relevé")
    assert "2 essais" in messages["silence"]
    assert len(silent.challenges) == 2
    assert len(wrong.challenges) == 1  # a wrong answer will not get better
    assert registry.admin.subscribers()["total"] == 0


def test_retries_lengthen_the_retry_after_of_a_busy_registry(
    registry_factory: Callable[..., RunningRegistry],
) -> None:
    plain = registry_factory(challenge_deadline_seconds=1.5, challenge_retries=0)
    retrying = registry_factory(**RETRYING)
    assert plain.service.challenger.gate.retry_after == 2
    # Two attempts of 1.5 s and a pause of 0.2 s: a place may be held 3.2 s.
    assert retrying.service.challenger.gate.retry_after == 4
