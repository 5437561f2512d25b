"""Two subscribes for the same id at once leave one consistent record (SQLite and PostgreSQL).

The participants hold their answer until both challenges have arrived, so both requests pass
every check before either writes."""

from __future__ import annotations

import threading
import uuid

import httpx

from reseau_poles.network.registry_client import encode, signer_for
from reseau_poles.protocol.keys import SubscriberKeys

from .conftest import Participant, RunningRegistry


def _both_at_once(
    registry: RunningRegistry, a: Participant, b: Participant
) -> list[httpx.Response]:
    results: list[httpx.Response | None] = [None, None]

    def send(index: int, participant: Participant) -> None:
        body = encode(registry.record(participant))
        with httpx.Client(base_url=registry.url, timeout=15) as http:
            results[index] = http.post(
                "/subscribe",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "Authorization": signer_for(participant.keys).sign(body),
                },
            )

    threads = [threading.Thread(target=send, args=(i, p)) for i, p in enumerate((a, b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def test_same_participant_twice_at_once(registry: RunningRegistry) -> None:
    sid = f"double-{uuid.uuid4().hex[:8]}.example"  # a fresh barrier for each run
    keys = SubscriberKeys.generate(sid, "k1")
    participant = registry.host.add(keys, behaviour="barrier")

    first, second = _both_at_once(registry, participant, participant)

    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert len(participant.calls) == 2
    assert sorted(r.json()["subscriber"]["action"] for r in (first, second)) == [
        "subscribe",
        "update",
    ]
    detail = registry.admin.subscriber(sid)
    assert [k["key_id"] for k in detail["keys"]] == ["k1"]
    assert len(registry.lookup({"subscriber_id": sid}).json()) == 1
    actions = sorted(e["action"] for e in registry.admin.audit(subscriber_id=sid))
    assert actions == ["subscribe", "update"]


def test_two_claimants_for_one_id(registry: RunningRegistry) -> None:
    sid = f"convoite-{uuid.uuid4().hex[:8]}.example"
    a = registry.host.add(SubscriberKeys.generate(sid, "cle-a"), behaviour="barrier")
    b = registry.host.add(SubscriberKeys.generate(sid, "cle-b"), behaviour="barrier")

    responses = _both_at_once(registry, a, b)

    # Both passed every check and got a challenge: the race really happened.
    assert (len(a.calls), len(b.calls)) == (1, 1)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 403], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()["subscriber"]["key_id"]
    loser = next(r for r in responses if r.status_code == 403).json()
    assert loser["error"]["code"] == "15006"
    detail = registry.admin.subscriber(sid)
    assert [k["key_id"] for k in detail["keys"]] == [winner]
    (record,) = registry.lookup({"subscriber_id": sid}).json()
    assert record["key_id"] == winner
    assert [e["action"] for e in registry.admin.audit(subscriber_id=sid)] == ["subscribe"]
