"""Lookup: filters, the shape every element takes, signed answers, suspension, bad input."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from reseau_poles.network.registry_client import verify_lookup_answer
from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.registry.requests import parse_lookup

from .conftest import RunningRegistry, new_keys

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(r["subscriber_id"] for r in response.json())


def test_filters(registry: RunningRegistry) -> None:
    quebec = registry.join(new_keys("quebec"), regions=["QC-03"], type="BPP")
    everywhere = registry.join(new_keys("partout"), regions=["*"], type="bpp")
    beauce = registry.join(
        new_keys("beauce"), regions=["QC-12"], type="BPP", domains=["PLA:LOGISTIQUE"]
    )
    buyer = registry.join(new_keys("acheteur"), regions=["QC-03"], type="BAP")
    gateway = registry.join(new_keys("passerelle"), regions=["*"], type="BG", domains=["*"])
    q, e, b, a, g = (p.keys.subscriber_id for p in (quebec, everywhere, beauce, buyer, gateway))

    assert _ids(registry.lookup({})) == sorted([q, e, b, a, g])
    assert _ids(registry.lookup({"type": "bpp"})) == sorted([q, e, b])
    assert _ids(registry.lookup({"type": "BPP", "city": "QC-03"})) == sorted([q, e])
    assert _ids(registry.lookup({"type": "BPP", "location": {"city": {"code": "qc-12"}}})) == (
        sorted([e, b])
    )
    assert _ids(registry.lookup({"domain": "pla:logistique"})) == sorted([b, g])
    assert _ids(registry.lookup({"type": "BPP", "domain": "PLA:ALIMENTS", "city": "*"})) == (
        sorted([q, e])
    )
    assert _ids(registry.lookup({"country": "CAN", "type": "BAP"})) == [a]
    assert _ids(registry.lookup({"country": {"code": "IND"}})) == []
    assert _ids(registry.lookup({"subscriber_id": "inconnu.example"})) == []
    assert _ids(registry.lookup({"type": "BPP", "unknown_field": 1})) == sorted([q, e, b])


def test_element_shape_and_signed_answer(registry: RunningRegistry) -> None:
    participant = registry.join(
        regions=["QC-03", "QC-12"], domains=["PLA:ALIMENTS", "PLA:LOGISTIQUE"]
    )
    keys = participant.keys

    response = registry.lookup(
        {"subscriber_id": keys.subscriber_id, "domain": "PLA:LOGISTIQUE", "city": "QC-12"}
    )

    (record,) = response.json()
    assert record["subscriber_id"] == keys.subscriber_id
    assert record["url"] == record["subscriber_url"] == participant.url
    assert record["type"] == "BPP"
    assert record["domain"] == "PLA:LOGISTIQUE"
    assert record["domains"] == ["PLA:ALIMENTS", "PLA:LOGISTIQUE"]
    assert record["city"] == "QC-12"
    assert record["location"] == {"city": {"code": "QC-12"}, "country": {"code": "CAN"}}
    assert record["country"] == "CAN"
    assert record["key_id"] == record["ukId"] == record["unique_key_id"] == keys.key_id
    assert record["signing_public_key"] == keys.signing.public_key_b64
    assert record["encr_public_key"] == keys.encryption.public_key_b64
    assert record["status"] == "SUBSCRIBED"
    for name in ("valid_from", "valid_until", "created", "updated"):
        assert RFC3339_Z.match(record[name]), (name, record[name])

    published = registry.http.get("/.well-known/reseau-poles/registry.json").json()
    assert published["subscriber_id"] == "registre.test.example"
    verify_lookup_answer(
        response, published["signing_public_key"], registry_id=published["subscriber_id"]
    )
    # The registry itself answers to a BREG lookup, with the same key.
    (own,) = registry.lookup({"type": "BREG"}).json()
    assert own["signing_public_key"] == published["signing_public_key"]
    assert own["key_id"] == published["key_id"]


def test_suspension_is_reflected_at_once(registry: RunningRegistry) -> None:
    participant = registry.join()
    sid = participant.keys.subscriber_id
    assert _ids(registry.lookup({"subscriber_id": sid})) == [sid]

    registry.admin.change("suspend", sid, reason="plainte")
    assert _ids(registry.lookup({"subscriber_id": sid})) == []
    assert _ids(registry.lookup({"type": "BPP"})) == []

    registry.admin.change("reactivate", sid)
    assert _ids(registry.lookup({"subscriber_id": sid})) == [sid]

    registry.admin.revoke_key(sid, participant.keys.key_id)
    assert _ids(registry.lookup({"subscriber_id": sid})) == []


def test_a_suspended_participant_stays_named_during_its_grace_period(
    registry_factory,
) -> None:
    """Lookups that name a suspended participant and ask for it (``include_suspended``) get
    its keys marked SUSPENDED, with when it was suspended and the end of its grace period,
    so that verifiers can finish the orders it had under way; routing lookups never see it;
    the grace ends on time; reactivation clears it; the revision moves at every change."""
    registry = registry_factory(suspension_grace_seconds=1.5)
    participant = registry.join()
    sid = participant.keys.subscriber_id
    named = {"subscriber_id": sid, "include_suspended": True}
    revision = registry.http.get("/revision").json()["revision"]

    suspended = registry.admin.change("suspend", sid, reason="plainte")
    assert suspended["status"] == "SUSPENDED" and suspended["suspended_at"].endswith("Z")
    assert registry.http.get("/revision").json()["revision"] > revision
    records = registry.lookup(named).json()
    assert [r["status"] for r in records] == ["SUSPENDED"]
    assert records[0]["suspended_at"] == suspended["suspended_at"]
    assert records[0]["grace_until"] == suspended["grace_until"]
    assert records[0]["key_id"] == participant.keys.key_id
    assert _ids(registry.lookup({"subscriber_id": sid})) == []  # not asked: not returned
    assert _ids(registry.lookup({"type": "BPP", "include_suspended": True})) == []
    shown = registry.admin.get(f"/admin/subscribers/{sid}")
    assert shown["grace_until"] == suspended["grace_until"]

    registry.admin.change("reactivate", sid)
    records = registry.lookup(named).json()
    assert [r["status"] for r in records] == ["SUBSCRIBED"] and "suspended_at" not in records[0]

    registry.admin.change("suspend", sid, reason="encore")
    assert _ids(registry.lookup(named)) == [sid]
    import time

    deadline = time.monotonic() + 5
    while _ids(registry.lookup(named)) != []:  # the grace period is over: gone
        assert time.monotonic() < deadline, "la période de grâce ne finit pas"
        time.sleep(0.1)

    bad = registry.lookup({"subscriber_id": sid, "include_suspended": "oui"})
    assert bad.status_code == 400 and bad.json()["error"]["paths"] == "include_suspended"


def test_writes_of_another_worker_reach_the_snapshot(registry_factory) -> None:
    """Two registry processes on one database: a suspension through one reaches the other's
    lookups within the refresh period."""
    first = registry_factory()
    second = registry_factory(key_dir=first.settings.key_dir)
    participant = first.join()
    sid = participant.keys.subscriber_id
    import time

    deadline = time.monotonic() + 3
    while _ids(second.lookup({"subscriber_id": sid})) != [sid]:
        assert time.monotonic() < deadline, "le second registre ne voit pas l'inscription"
        time.sleep(0.05)
    first.admin.change("suspend", sid, "essai")
    deadline = time.monotonic() + 3
    while _ids(second.lookup({"subscriber_id": sid})) != []:
        assert time.monotonic() < deadline, "le second registre ne voit pas la suspension"
        time.sleep(0.05)


def test_bad_lookups_are_nacks(registry: RunningRegistry) -> None:
    cases = [
        (b"{pas du json", "$"),
        (b"[]", "$"),
        (b'"texte"', "$"),
        (b'{"type": "XYZ"}', "type"),
        (b'{"subscriber_id": 12}', "subscriber_id"),
        (b'{"city": {"code": 3}}', "city.code"),
        (b'{"location": "QC-03"}', "location"),
        (b'{"ukId": ["a"]}', "ukId"),
    ]
    for body, path in cases:
        response = registry.lookup(body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()["error"]
        assert (error["code"], error["paths"]) == ("15000", path), body
    # An empty body is "no filter".
    assert registry.lookup(b"").status_code == 200


def test_health_and_metrics(registry: RunningRegistry) -> None:
    registry.join()

    def metric(text: str, name: str) -> int:
        found = re.search(rf"^{re.escape(name)} (\d+)$", text, re.M)
        return int(found.group(1)) if found else 0

    # The same lookup twice in a row is one computation and one hit; on a loaded machine a
    # snapshot refresh may fall between the two (then both are computed): ask again.
    asked, text = 0, ""
    while asked < 10 and metric(text, 'registry_lookup_cache_total{result="hit"}') < 1:
        registry.lookup({"type": "BPP"})
        asked += 1
        text = registry.http.get("/metrics").text
    health = registry.http.get("/health").json()
    assert health["status"] == "ok"
    assert health["subscribers"] == {"SUBSCRIBED": 1}
    assert metric(text, "registry_lookups_total") == asked >= 2
    hits = metric(text, 'registry_lookup_cache_total{result="hit"}')
    assert hits >= 1 and hits + metric(text, 'registry_lookup_cache_total{result="miss"}') == asked
    assert 'registry_subscriptions_total{code="",outcome="subscribe"} 1' in text
    assert 'registry_subscribers{status="SUBSCRIBED"} 1' in text
    assert "# TYPE registry_lookups_total counter" in text


def test_keys_in_der_form_come_back_raw(registry: RunningRegistry) -> None:
    keys = SubscriberKeys.generate("der.example", "k-der")
    participant = registry.host.add(keys)
    response = registry.subscribe(participant, encr_public_key=keys.encryption.public_key_der_b64)
    assert response.status_code == 200, response.text
    (record,) = registry.lookup({"subscriber_id": "der.example"}).json()
    assert record["encr_public_key"] == keys.encryption.public_key_b64


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


@given(value=json_values, named=st.booleans())
def test_include_suspended_is_a_boolean_or_a_nack_naming_it(value: object, named: bool) -> None:
    """Whatever JSON value ``include_suspended`` holds: a boolean is taken as is, anything
    else is refused with its path; never another error."""
    data = {"include_suspended": value, **({"subscriber_id": "Pole.Example"} if named else {})}
    try:
        query = parse_lookup(data)
    except ProtocolError as exc:
        assert not isinstance(value, bool)
        assert exc.path == "include_suspended" and exc.code.value == "15000"
    else:
        assert isinstance(value, bool) and query.include_suspended is value
        assert query.subscriber_id == ("pole.example" if named else None)
