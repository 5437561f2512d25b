"""Two registry operators acting on the same participant at the same instant (SQLite and
PostgreSQL): whatever the interleaving, one consistent state and a complete audit trail.

Each round sends both signed requests from two threads released by a barrier. Afterwards:
every 200 has exactly one audit line and every refusal none (409 with code 15007); the
audit lines of the participant form one chain (each ``before`` is the previous ``after``),
and the participant's status is the last ``after``."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reseau_poles.network.registry_client import AdminClient, encode, signer_for
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.registry.settings import OperatorKey, Policy
from tests.registry.conftest import (  # noqa: F401  (fixtures)
    RunningRegistry,
    new_keys,
    operator_keys,
    participant_host,
    registry_factory,
)
from tests.reliability.conftest import FULL, record

ROUNDS = 25 if FULL else 5
# (status of the participant before the round, action of operator A, action of operator B)
PAIRS = [
    ("UNDER_SUBSCRIPTION", "approve", "suspend"),
    ("SUBSCRIBED", "suspend", "suspend"),
    ("SUSPENDED", "reactivate", "reactivate"),
    ("SUBSCRIBED", "suspend", "revoke_key"),
]


def _admin_post(
    url: str, signer: Any, action: str, subscriber_id: str, key_id: str
) -> httpx.Response:
    body: dict[str, Any] = {"action": action, "subscriber_id": subscriber_id, "reason": "course"}
    path = f"/admin/subscribers/{subscriber_id}/{action}"
    if action == "revoke_key":
        body["key_id"] = key_id
        path = f"/admin/subscribers/{subscriber_id}/keys/{key_id}/revoke"
    raw = encode(body)
    return httpx.post(
        url + path,
        content=raw,
        headers={"Authorization": signer.sign(raw), "Content-Type": "application/json"},
        timeout=30,
    )


def _at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(calls))
    results: list[httpx.Response | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], httpx.Response]) -> None:
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def _bring_to(admin: AdminClient, subscriber_id: str, status: str) -> None:
    current = admin.subscriber(subscriber_id)["status"]
    if current == status:
        return
    if status == "SUSPENDED":
        admin.change("suspend", subscriber_id, "mise en place")
    elif status == "SUBSCRIBED" and current == "SUSPENDED":
        admin.change("reactivate", subscriber_id)
    elif status == "SUBSCRIBED" and current == "UNDER_SUBSCRIPTION":
        admin.change("approve", subscriber_id)
    else:
        raise AssertionError(f"{current} → {status}")


@pytest.mark.parametrize(("start", "action_a", "action_b"), PAIRS)
def test_two_operators_on_one_participant(
    registry_factory: Callable[..., RunningRegistry],  # noqa: F811
    operator_keys: SubscriberKeys,  # noqa: F811
    database_url: str,
    start: str,
    action_a: str,
    action_b: str,
) -> None:
    second = new_keys("operatrice")
    registry = registry_factory(
        policy=Policy.APPROVAL if start == "UNDER_SUBSCRIPTION" else Policy.OPEN,
        operators=[
            OperatorKey(
                operator_id=keys.subscriber_id,
                key_id=keys.key_id,
                signing_public_key=keys.signing.public_key_b64,
            )
            for keys in (operator_keys, second)
        ],
    )
    signer_a, signer_b = signer_for(operator_keys), signer_for(second)
    outcomes: dict[str, int] = {}
    for _ in range(ROUNDS):
        participant = registry.host.add(new_keys("pole-dispute"))
        assert registry.subscribe(participant).status_code == 200
        sid, key_id = participant.keys.subscriber_id, participant.keys.key_id
        _bring_to(registry.admin, sid, start)
        trail_before = len(registry.admin.audit(subscriber_id=sid))

        first, other = _at_once(
            lambda sid=sid, key_id=key_id: _admin_post(
                registry.url, signer_a, action_a, sid, key_id
            ),
            lambda sid=sid, key_id=key_id: _admin_post(
                registry.url, signer_b, action_b, sid, key_id
            ),
        )
        for response in (first, other):
            assert response.status_code in (200, 409), response.text
            if response.status_code == 409:
                assert response.json()["error"]["code"] == "15007"
        key = f"{first.status_code}/{other.status_code}"
        outcomes[key] = outcomes.get(key, 0) + 1

        trail = list(reversed(registry.admin.audit(subscriber_id=sid)))  # oldest first
        ok = [r for r in (first, other) if r.status_code == 200]
        assert len(trail) - trail_before == len(ok), (first.text, other.text, trail)
        actors = {entry["actor"] for entry in trail[trail_before:]}
        assert len(actors) == len(ok)  # each success is written once, under its operator
        for previous, entry in itertools.pairwise(trail):
            if previous.get("after") and entry.get("before"):
                assert entry["before"]["status"] == previous["after"]["status"], trail
        detail = registry.admin.subscriber(sid)
        assert detail["status"] == trail[-1]["after"]["status"]
        if action_b == "revoke_key" and other.status_code == 200:
            assert {k["key_id"]: k["status"] for k in detail["keys"]}[key_id] == "REVOKED"
    assert sum(outcomes.values()) == ROUNDS
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    record(
        "concurrency",
        backend=backend,
        start=start,
        a=action_a,
        b=action_b,
        rounds=ROUNDS,
        outcomes=outcomes,
    )
