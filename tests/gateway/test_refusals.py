"""What the gateway refuses, and that a refused search reaches no seller: unsigned, tampered,
expired, replayed, unknown key, wrong signer, suspended buyer, dated outside its signature;
rate limit (without taking a replay slot); junk never answers 500, the unexpected a 500 NACK."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

from reseau_poles.network.pipeline import Call, Step
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.signing import Signer

from .conftest import CACHE_TTL, GatewayNetwork
from .support import message_id_of, search_body


def _nack(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    data = response.json()
    assert data["message"]["ack"]["status"] == "NACK"
    assert data["error"]["code"] == code, data
    return data["error"]


def _reached_no_seller(network: GatewayNetwork, *bodies: bytes) -> None:
    """Send one good search after the bad ones; once it has arrived, nothing else may have."""
    buyer = network.buyer()
    good = search_body(buyer, city="QC-06")
    assert network.search(buyer, good).status_code == 200
    assert len(network.sellers.wait_for(message_id_of(good), 2)) == 2
    time.sleep(0.1)
    for body in bodies:
        assert network.sellers.received(message_id_of(body)) == []


def test_bad_signatures_get_401_and_reach_no_seller(network: GatewayNetwork) -> None:
    buyer = network.buyer()
    bap = buyer.keys.subscriber_id
    signer = Signer(bap, buyer.keys.key_id, buyer.keys.signing)

    unsigned = search_body(bap)
    error = _nack(network.post(unsigned), 401, "10001")
    assert error["paths"] == "headers.Authorization"

    original = search_body(bap)
    header = signer.sign(original)
    tampered = original.replace(b"sirop", b"SIROP")
    response = network.post(tampered, {"Authorization": header})
    _nack(response, 401, "10001")
    assert "WWW-Authenticate" in response.headers

    expired = search_body(bap)
    now = int(time.time())
    _nack(network.search(buyer, expired, created=now - 120, expires=now - 60), 401, "10001")

    stranger = SubscriberKeys.generate("inconnu.example", "k1")
    unknown = search_body("inconnu.example")
    strange = Signer("inconnu.example", "k1", stranger.signing)
    _nack(network.post(unknown, {"Authorization": strange.sign(unknown)}), 401, "10001")

    other = network.buyer()  # a real buyer signing another's bap_id
    impostor = search_body(bap)
    error = _nack(network.search(other, impostor), 401, "10001")
    assert error["paths"] == "context.bap_id"

    replayed = search_body(buyer)
    header = signer.sign(replayed)
    assert network.post(replayed, {"Authorization": header}).status_code == 200
    _nack(network.post(replayed, {"Authorization": header}), 401, "10000")
    assert len(network.sellers.wait_for(message_id_of(replayed), 3)) == 3

    _reached_no_seller(network, unsigned, tampered, expired, unknown, impostor)
    time.sleep(0.1)
    assert len(network.sellers.received(message_id_of(replayed))) == 3  # once each


def test_a_suspended_buyer_is_refused_within_the_cache_ttl(network: GatewayNetwork) -> None:
    """The bound is the lookup cache's TTL (60 s in production, 1 s here)."""
    buyer = network.buyer()
    assert network.search(buyer, search_body(buyer)).status_code == 200
    network.registry.admin.change("suspend", buyer.keys.subscriber_id, "essai")
    suspended = time.monotonic()
    attempts = []
    while True:
        body = search_body(buyer)
        response = network.search(buyer, body)
        attempts.append(body)
        if response.status_code == 401:
            break
        assert time.monotonic() - suspended < CACHE_TTL + 1.0, "suspension pas vue à temps"
        time.sleep(0.05)
    elapsed = time.monotonic() - suspended
    # registry snapshot refresh (0.2 s) + cache TTL + one request
    assert elapsed <= CACHE_TTL + 0.5, elapsed
    _nack(response, 401, "10001")
    _reached_no_seller(network, attempts[-1])


def test_rate_limit_per_subscriber(network: GatewayNetwork) -> None:
    buyer, other = network.buyer(), network.buyer()
    answers = [network.search(buyer, search_body(buyer)) for _ in range(8)]
    statuses = [r.status_code for r in answers]
    assert statuses.count(200) in (5, 6)  # burst of 5, +1 if a token refilled meanwhile
    limited = [r for r in answers if r.status_code == 429]
    assert limited
    _nack(limited[0], 429, "10003")
    assert int(limited[0].headers["Retry-After"]) >= 1
    # Another buyer has its own bucket; a limited search reached no seller.
    assert network.search(other, search_body(other)).status_code == 200
    refused = [
        json.loads(r.request.content)["context"]["message_id"]
        for r in answers
        if r.status_code == 429
    ]
    time.sleep(0.3)
    for message_id in refused:
        assert network.sellers.received(message_id) == []
    # The bucket refills: 2 tokens per second.
    time.sleep(0.6)
    assert network.search(buyer, search_body(buyer)).status_code == 200


def test_a_bap_uri_other_than_the_registered_one_reaches_no_seller(network: GatewayNetwork) -> None:
    """Sellers answer a search at its ``bap_uri``: one the registry does not hold for the
    signer (an internal address here) is refused before any seller hears of it."""
    buyer = network.buyer()
    for elsewhere in ("http://169.254.169.254/latest/meta-data", buyer.url + "/../autre", None):
        payload = json.loads(search_body(buyer))
        payload["context"]["bap_uri"] = elsewhere
        body = json.dumps(payload).encode()
        error = _nack(network.search(buyer, body), 401, "10001")
        assert error["paths"] == "context.bap_uri"
        assert "registre" in error["message"]
        _reached_no_seller(network, body)
    # The registered address, written with a trailing slash, is the same address.
    payload = json.loads(search_body(buyer))
    payload["context"]["bap_uri"] = buyer.url + "/"
    assert network.search(buyer, json.dumps(payload).encode()).status_code == 200


def test_routing_errors_name_the_field(network: GatewayNetwork) -> None:
    buyer = network.buyer()
    error = _nack(network.search(buyer, search_body(buyer, city="QC-18")), 400, "10002")
    assert error["paths"] == "context.location.city.code"
    _nack(network.search(buyer, search_body(buyer, city="Montréal")), 400, "10002")
    # A city without a code is a mistake (no city at all is every region).
    error = _nack(network.search(buyer, search_body(buyer, city=None)), 400, "10002")
    assert error["paths"] == "context.location.city.code"
    assert "context.location.city.code manquant" in error["message"]
    error = _nack(network.search(buyer, search_body(buyer, domain="ONDC:RET10")), 400, "10000")
    assert error["paths"] == "context.domain"


def test_junk_never_gets_a_500(network: GatewayNetwork) -> None:
    buyer = network.buyer()
    bap = buyer.keys.subscriber_id
    signer = Signer(bap, buyer.keys.key_id, buyer.keys.signing)
    context = json.loads(search_body(bap))["context"]
    signed_junk = [
        b"",
        b"not json",
        b"[]",
        b"{}",
        b'{"context": 3}',
        json.dumps({"context": {**context, "action": "select"}}).encode(),
        json.dumps({"context": {**context, "message_id": None}}).encode(),
        json.dumps({"context": {**context, "location": "QC-03"}}).encode(),
        json.dumps({"context": {**context, "location": {"city": {"code": ["QC-03"]}}}}).encode(),
        json.dumps({"context": {**context, "domain": 42}}).encode(),
        json.dumps({"context": {**context, "bpp_id": 7}}).encode(),
        b"\xff\xfe\x00",
    ]
    for body in signed_junk:
        response = network.post(body, {"Authorization": signer.sign(body)})
        assert response.status_code in (400, 401), (body, response.status_code, response.text)
        assert response.json()["message"]["ack"]["status"] == "NACK"
    for header in (
        "Signature",
        'Signature keyId="a|b|ed25519"',
        "x" * 5000,
        "\xe9".encode("latin-1"),
    ):
        response = network.post(search_body(bap), {"Authorization": header})
        assert response.status_code == 401
    big = b"{" + b" " * 400_000 + b"}"
    assert network.post(big).status_code == 413
    for method, path in (("GET", "/search"), ("POST", "/nowhere"), ("PUT", "/health")):
        response = network.http.request(method, network.url + path)
        assert response.status_code in (404, 405)
        assert response.json()["message"]["ack"]["status"] == "NACK"
    response = network.http.get(f"{network.url}/searches/{uuid.uuid4()}")
    assert response.status_code == 404
    response = network.http.post(f"{network.url}/on_subscribe", content=b"{")
    assert response.status_code == 400


def test_health_metrics_and_recent_searches(network: GatewayNetwork) -> None:
    buyer = network.buyer()
    body = search_body(buyer)
    assert network.search(buyer, body).status_code == 200
    network.sellers.wait_for(message_id_of(body), 3)
    health = network.http.get(f"{network.url}/health").json()
    assert health["status"] == "ok"
    assert health["subscriber_id"] == network.gateway_keys.subscriber_id
    metrics = network.http.get(f"{network.url}/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'gateway_searches_total{outcome="ack"}' in text
    assert 'gateway_seller_calls_total{status="ack"}' in text
    assert "gateway_fanout_seconds_bucket" in text
    assert "gateway_process_peak_resident_memory_bytes" in text
    recent = network.http.get(f"{network.url}/searches", params={"limit": 5}).json()
    assert recent and "sellers" not in recent[0]
    assert message_id_of(body) in {r["message_id"] for r in network.service.stats.recent(200)}
    schema = network.http.get(f"{network.url}/openapi.json").json()
    assert "/search" in schema["paths"]


def test_the_gateway_steps_sit_at_their_anchors(network: GatewayNetwork) -> None:
    """The network layer's order, the gateway's steps before the replay guard (a search they
    refuse takes no replay slot), the multicast last; the Beckn model only when
    ``validate_models`` is on (off by default: the sellers check it)."""
    assert not network.service.settings.validate_models
    assert network.service.pipeline.names == (
        "read_body",
        "verify_signature",
        "decode",
        "check_signer",
        "check_sender_uri",
        "check_timestamp",
        "route",
        "check_target",
        "rate_limit",
        "guard_replay",
        "multicast",
    )


def _dated(body: bytes, stamp: str) -> bytes:
    payload = json.loads(body)
    payload["context"]["timestamp"] = stamp
    return json.dumps(payload, separators=(",", ":")).encode()


def test_a_search_dated_outside_its_signature_window_is_refused(network: GatewayNetwork) -> None:
    """As at the nodes: a ``context.timestamp`` in year 1, in 9999 or after the signature
    expires is refused at ``context.timestamp`` and reaches no seller; a body an outbox
    re-sends an hour later (signed anew) passes."""
    buyer = network.buyer()
    ahead = datetime.now(UTC) + timedelta(minutes=10)
    refused = []
    for stamp in (
        "0001-01-01T00:00:00.000Z",
        "9999-12-31T23:59:59.999Z",
        ahead.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    ):
        body = _dated(search_body(buyer), stamp)
        error = _nack(network.search(buyer, body), 400, "10000")
        assert error["paths"] == "context.timestamp", error
        refused.append(body)
    _reached_no_seller(network, *refused)
    earlier = datetime.now(UTC) - timedelta(hours=1)
    body = _dated(search_body(buyer), earlier.isoformat(timespec="milliseconds"))
    assert network.search(buyer, body).status_code == 200


def test_a_rate_limited_search_takes_no_replay_slot(network: GatewayNetwork) -> None:
    """The rate limit comes before the replay guard: the search it refused, sent again once
    the bucket refilled, is accepted, not refused as a replay."""
    buyer = network.buyer()
    limited = None
    for _ in range(12):
        body = search_body(buyer)
        response = network.search(buyer, body)
        if response.status_code == 429:
            limited = body
            break
        assert response.status_code == 200, response.text
    assert limited is not None, "la limite de débit n'a jamais refusé"
    time.sleep(1.1)  # 2 tokens per second
    again = network.search(buyer, limited)
    assert again.status_code == 200, again.text
    assert len(network.sellers.wait_for(message_id_of(limited), 3)) == 3  # QC-03: 3 sellers


def test_an_unexpected_error_is_a_500_nack_and_gives_its_replay_slot_back(
    network: GatewayNetwork,
) -> None:
    """Anything unexpected answers as at the nodes (one function for every role): 500, a NACK
    in the gateway's code, no trace of the error; counted as a refusal; the message, never
    accepted, may be sent again."""
    service = network.service
    buyer = network.buyer()
    body = search_body(buyer)
    target = message_id_of(body)

    def fail(call: Call) -> None:
        if call.context["message_id"] == target:
            raise RuntimeError("secret interne de la passerelle")

    before = service.metrics.value("gateway_refusals_total", code="10000")
    service.pipeline.insert_before("multicast", Step("panne", fail))
    try:
        response = network.search(buyer, body)
    finally:
        service.pipeline.remove("panne")
    error = _nack(response, 500, "10000")
    assert error["message"] == "erreur interne de la passerelle ; réessayez plus tard"
    assert "secret" not in response.text and "Traceback" not in response.text
    assert service.metrics.value("gateway_refusals_total", code="10000") == before + 1
    assert network.sellers.received(target) == []
    again = network.search(buyer, body)
    assert again.status_code == 200, again.text
    assert len(network.sellers.wait_for(target, 3)) == 3
