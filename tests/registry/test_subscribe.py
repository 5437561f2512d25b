"""Subscribe: the full challenge round trip, every refusal with its code, updates, rotation."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from reseau_poles.network.registry_client import encode, signer_for
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.signing import Signer, verify

from .conftest import RunningRegistry, new_keys, now_plus, rfc3339


def test_full_subscribe_with_challenge(registry: RunningRegistry) -> None:
    participant = registry.host.add(new_keys("marche"))

    response = registry.subscribe(participant, regions=["QC-03", "QC-12"])

    assert response.status_code == 200, response.text
    ack = response.json()
    assert ack["message"]["ack"]["status"] == "ACK"
    assert ack["subscriber"]["status"] == "SUBSCRIBED"
    assert ack["subscriber"]["action"] == "subscribe"

    # The challenge came signed by the registry, whose key is published.
    (call,) = participant.calls
    published = registry.http.get("/.well-known/reseau-poles/registry.json").json()
    verify(call["body"], call["headers"]["authorization"], published["signing_public_key"])
    assert json.loads(call["body"])["subscriber_id"] == participant.keys.subscriber_id

    found = registry.lookup({"subscriber_id": participant.keys.subscriber_id}).json()
    assert [r["key_id"] for r in found] == [participant.keys.key_id]
    assert found[0]["regions"] == ["QC-03", "QC-12"]
    assert found[0]["status"] == "SUBSCRIBED"

    (entry,) = registry.admin.audit(subscriber_id=participant.keys.subscriber_id)
    assert entry["action"] == "subscribe"
    assert entry["before"] is None
    assert entry["after"]["status"] == "SUBSCRIBED"
    assert (
        entry["actor"] == f"participant:{participant.keys.subscriber_id}|{participant.keys.key_id}"
    )


def test_approval_policy_waits_for_the_operator(registry_factory) -> None:
    registry = registry_factory(policy="approval")
    participant = registry.host.add(new_keys())

    response = registry.subscribe(participant)

    assert response.status_code == 200, response.text
    assert response.json()["subscriber"]["status"] == "UNDER_SUBSCRIPTION"
    assert registry.lookup({"subscriber_id": participant.keys.subscriber_id}).json() == []

    registry.admin.change("approve", participant.keys.subscriber_id, reason="dossier complet")
    found = registry.lookup({"subscriber_id": participant.keys.subscriber_id}).json()
    assert [r["status"] for r in found] == ["SUBSCRIBED"]
    actions = [
        e["action"] for e in registry.admin.audit(subscriber_id=participant.keys.subscriber_id)
    ]
    assert actions == ["approve", "subscribe"]


def test_under_approval_an_update_that_widens_reach_waits_for_the_operator(
    registry_factory,
) -> None:
    registry = registry_factory(policy="approval")
    participant = registry.host.add(new_keys())
    sid = participant.keys.subscriber_id
    assert registry.subscribe(participant, regions=["QC-03", "QC-12"]).status_code == 200
    registry.admin.change("approve", sid, reason="dossier complet")

    # A new URL and fewer regions stay within what was approved.
    moved = registry.host.add(participant.keys, name=f"{sid}-nouvelle-adresse")
    narrower = registry.subscribe(moved, regions=["QC-03"])
    assert narrower.status_code == 200, narrower.text
    assert narrower.json()["subscriber"]["status"] == "SUBSCRIBED"

    # Another region, another domain or another role is more than the operator approved.
    for change in (
        {"regions": ["QC-03", "QC-06"]},
        {"domains": ["PLA:LOGISTIQUE"]},
        {"type": "BG"},
    ):
        wider = registry.subscribe(moved, **change)
        assert wider.status_code == 200, wider.text
        assert wider.json()["subscriber"]["status"] == "UNDER_SUBSCRIPTION", change
        assert registry.lookup({"subscriber_id": sid}).json() == []
        registry.admin.change("approve", sid, reason=f"changement vu : {change}")
        assert [r["status"] for r in registry.lookup({"subscriber_id": sid}).json()] == [
            "SUBSCRIBED"
        ]
    statuses = [
        entry["after"]["status"]
        for entry in registry.admin.audit(subscriber_id=sid)
        if entry["action"] == "update"
    ]
    assert statuses.count("UNDER_SUBSCRIPTION") == 3


def _nack(response, status: int, code: str, path: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["message"]["ack"]["status"] == "NACK", body
    assert body["error"]["code"] == code, body
    assert body["error"]["paths"] == path, body
    assert body["error"]["message"]


def test_every_rejection_has_its_code_and_leaves_nothing(
    registry: RunningRegistry, unused_port
) -> None:
    host = registry.host
    ok = host.add(new_keys())
    other = SubscriberKeys.generate(ok.keys.subscriber_id, ok.keys.key_id)

    cases = [
        ("missing url", registry.subscribe(ok, url=None), 400, "15000", "url"),
        (
            "bad region",
            registry.subscribe(ok, regions=["QC-03", "QC-99"]),
            400,
            "15000",
            "regions[1]",
        ),
        ("bad url", registry.subscribe(ok, url="ftp://x.example"), 400, "15000", "url"),
        ("bad type", registry.subscribe(ok, type="XYZ"), 400, "15000", "type"),
        (
            "bad key",
            registry.subscribe(ok, signing_public_key="pas-une-cle"),
            400,
            "15000",
            "signing_public_key",
        ),
        (
            "short encr key",
            registry.subscribe(ok, encr_public_key="AAAA"),
            400,
            "15000",
            "encr_public_key",
        ),
        ("empty domains", registry.subscribe(ok, domains=[]), 400, "15000", "domains"),
        ("bad time", registry.subscribe(ok, valid_from="demain"), 400, "15000", "valid_from"),
        (
            "window reversed",
            registry.subscribe(ok, valid_from=now_plus(3600), valid_until=now_plus(60)),
            400,
            "15000",
            "valid_until",
        ),
        (
            "window over",
            registry.subscribe(ok, valid_from=now_plus(-7200), valid_until=now_plus(-3600)),
            400,
            "15000",
            "valid_until",
        ),
        ("not JSON", registry.subscribe(ok, body=b"{pas du json"), 400, "15000", "$"),
        ("not an object", registry.subscribe(ok, body=b"[1, 2]"), 400, "15000", "$"),
        ("no signature", registry.subscribe(ok, headers={}), 401, "15001", "headers.Authorization"),
        (
            "garbled signature",
            registry.subscribe(ok, headers={"Authorization": "Signature n'importe quoi"}),
            401,
            "15001",
            "headers.Authorization",
        ),
        (
            "signed by another key",
            registry.subscribe(ok, signer=signer_for(other)),
            401,
            "15001",
            "headers.Authorization",
        ),
        (
            "signed for another subscriber",
            registry.subscribe(ok, signer=Signer("autre.example", ok.keys.key_id, ok.keys.signing)),
            401,
            "15001",
            "headers.Authorization",
        ),
        (
            "expired signature",
            registry.subscribe(ok, signer=_OldSigner(ok.keys)),
            401,
            "15001",
            "headers.Authorization",
        ),
    ]
    # The body changed after signing.
    body = encode(registry.record(ok))
    header = signer_for(ok.keys).sign(body)
    cases.append(
        (
            "tampered body",
            registry.subscribe(
                ok, body=body.replace(b"QC-03", b"QC-04"), headers={"Authorization": header}
            ),
            401,
            "15001",
            "headers.Authorization",
        )
    )
    wrong = host.add(new_keys(), behaviour="wrong")
    cases.append(("wrong answer", registry.subscribe(wrong), 400, "15003", "url"))
    failing = host.add(new_keys(), behaviour="error")
    cases.append(("HTTP 500 answer", registry.subscribe(failing), 400, "15003", "url"))
    garbage = host.add(new_keys(), behaviour="garbage")
    cases.append(("answer not JSON", registry.subscribe(garbage), 400, "15003", "url"))
    cases.append(
        (
            "unreachable",
            registry.subscribe(ok, url=f"http://127.0.0.1:{unused_port}/rien"),
            400,
            "15003",
            "url",
        )
    )

    for name, response, status, code, path in cases:
        try:
            _nack(response, status, code, path)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None
        if status == 401:
            assert "Signature" in response.headers["www-authenticate"], name

    # Nothing half-written: no participant, no audit entry, nothing to look up.
    assert registry.admin.subscribers()["total"] == 0
    assert registry.admin.audit() == []
    assert registry.lookup({}).json() == []
    metrics = registry.http.get("/metrics").text
    assert 'registry_subscriptions_total{code="15003",outcome="rejected"} 4' in metrics


class _OldSigner(Signer):
    def __init__(self, keys: SubscriberKeys) -> None:
        super().__init__(keys.subscriber_id, keys.key_id, keys.signing)

    def sign(self, body: bytes, **_: object) -> str:
        created = int(time.time()) - 600
        return super().sign(body, created=created, expires=created + 30)


def test_update_changes_the_record_and_is_audited(registry: RunningRegistry) -> None:
    participant = registry.join()
    sid = participant.keys.subscriber_id
    moved = registry.host.add(participant.keys, name=f"{sid}-nouvelle-adresse")

    response = registry.subscribe(moved, regions=["QC-03", "QC-04"], domains=["PLA:LOGISTIQUE"])

    assert response.status_code == 200, response.text
    assert response.json()["subscriber"]["action"] == "update"
    (record,) = registry.lookup({"subscriber_id": sid}).json()
    assert record["url"] == moved.url
    assert record["regions"] == ["QC-03", "QC-04"]
    assert record["domains"] == ["PLA:LOGISTIQUE"]
    update, _subscribe = registry.admin.audit(subscriber_id=sid)
    assert update["action"] == "update"
    assert update["before"]["url"] == participant.url
    assert update["after"]["url"] == moved.url
    assert update["before"]["regions"] == ["QC-03"]


def test_rotation_with_overlapping_keys(registry: RunningRegistry) -> None:
    first = registry.join()
    sid = first.keys.subscriber_id
    second_keys = SubscriberKeys.generate(sid, "cle-2")
    second = registry.host.add(second_keys)
    start = datetime.now(UTC).replace(microsecond=0)

    # The new key is registered by a request signed with the current one.
    response = registry.subscribe(
        second, signer=signer_for(first.keys), valid_from=rfc3339(start - timedelta(seconds=1))
    )
    assert response.status_code == 200, response.text
    assert response.json()["subscriber"]["action"] == "add_key"

    both = registry.lookup({"subscriber_id": sid}).json()
    assert {r["key_id"] for r in both} == {first.keys.key_id, "cle-2"}
    assert registry.lookup({"subscriber_id": sid, "ukId": "cle-2"}).json()[0][
        "signing_public_key"
    ] == (second_keys.signing.public_key_b64)
    old = registry.lookup({"subscriber_id": sid, "key_id": first.keys.key_id}).json()
    assert [r["key_id"] for r in old] == [first.keys.key_id]

    # The participant ends the old key's window soon (signed by the new key): once past, the
    # old key is never returned again.
    response = registry.subscribe(
        registry.host.add(first.keys, name=f"{sid}-fin"),
        signer=signer_for(second_keys),
        url=first.url,
        valid_until=now_plus(1),
    )
    assert response.status_code == 200, response.text
    time.sleep(1.5)
    assert registry.lookup({"subscriber_id": sid, "key_id": first.keys.key_id}).json() == []
    assert [r["key_id"] for r in registry.lookup({"subscriber_id": sid}).json()] == ["cle-2"]
    # And it can no longer sign an update.
    late = registry.subscribe(second, signer=signer_for(first.keys))
    _nack(late, 401, "15001", "headers.Authorization")
    actions = [e["action"] for e in registry.admin.audit(subscriber_id=sid)]
    assert actions == ["update", "add_key", "subscribe"]


def test_a_key_not_yet_valid_is_not_returned(registry: RunningRegistry) -> None:
    first = registry.join()
    sid = first.keys.subscriber_id
    later = registry.host.add(SubscriberKeys.generate(sid, "cle-future"))
    response = registry.subscribe(
        later, signer=signer_for(first.keys), valid_from=now_plus(3600), valid_until=now_plus(7200)
    )
    assert response.status_code == 200, response.text
    assert registry.lookup({"subscriber_id": sid, "ukId": "cle-future"}).json() == []
    assert [r["key_id"] for r in registry.lookup({"subscriber_id": sid}).json()] == [
        first.keys.key_id
    ]


def test_duplicate_key_id_and_impostors_are_refused(registry: RunningRegistry) -> None:
    owner = registry.join()
    sid = owner.keys.subscriber_id

    # Same key id, other public keys, signed by the registered key: a duplicate key id.
    same_id = SubscriberKeys.generate(sid, owner.keys.key_id)
    duplicate = registry.subscribe(
        registry.host.add(same_id, name=f"{sid}-dup"), signer=signer_for(owner.keys)
    )
    _nack(duplicate, 409, "15002", "key_id")

    # Someone else claims the id with its own key: refused, an update needs a registered key.
    impostor = registry.host.add(SubscriberKeys.generate(sid, "cle-pirate"))
    _nack(registry.subscribe(impostor), 403, "15006", "headers.Authorization")

    (record,) = registry.lookup({"subscriber_id": sid}).json()
    assert record["signing_public_key"] == owner.keys.signing.public_key_b64
    assert [e["action"] for e in registry.admin.audit(subscriber_id=sid)] == ["subscribe"]


def test_suspended_or_revoked_cannot_update(registry: RunningRegistry) -> None:
    participant = registry.join()
    sid = participant.keys.subscriber_id
    registry.admin.change("suspend", sid, "essai")
    _nack(registry.subscribe(participant), 403, "15007", "subscriber_id")

    registry.admin.change("reactivate", sid)
    registry.admin.revoke_key(sid, participant.keys.key_id, reason="clé compromise")
    _nack(registry.subscribe(participant), 401, "15001", "headers.Authorization")
    # A revoked key id cannot come back, even signed by a valid key.
    fresh = SubscriberKeys.generate(sid, "cle-2")
    # (no valid key left: the operator's revocation leaves the participant unable to sign)
    refused = registry.subscribe(registry.host.add(fresh), signer=signer_for(participant.keys))
    _nack(refused, 401, "15001", "headers.Authorization")
    assert json.loads(registry.lookup({"subscriber_id": sid}).content) == []
