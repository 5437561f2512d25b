"""The inbound pipeline on a real node: signed calls accepted, every kind of forgery refused
with 401, the right challenge header and the refusing role's code."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from reseau_poles.network import (
    Inbound,
    InboundMessage,
    MemoryReplayGuard,
    RegistryLookup,
)
from reseau_poles.protocol.signing import GATEWAY_AUTHORIZATION

from .support import (
    Participant,
    StandInRegistry,
    on_status_body,
    participant,
    protocol_app,
    rfc3339,
    search_body,
    serve,
)

CHALLENGE = 'Signature realm="{}",headers="(created) (expires) digest"'


@dataclass
class Network:
    registry: StandInRegistry
    buyer: Participant
    seller: Participant
    gateway: Participant
    suspended: Participant
    stranger: Participant
    seller_url: str
    buyer_url: str
    received: list[InboundMessage]


def node(subscriber_id: str, role: str, registry_url: str, registry: StandInRegistry, **kw):
    received: list[InboundMessage] = []
    lookup = RegistryLookup(registry_url, registry_public_key=registry.public_key)
    inbound = Inbound(
        subscriber_id, role, lookup, replay_guard=MemoryReplayGuard(), max_body_bytes=4096, **kw
    )
    return protocol_app(inbound, received.append), received


@pytest.fixture(scope="module")
def network() -> Iterator[Network]:
    registry = StandInRegistry()
    buyer = participant("acheteur.example", "BAP")
    seller = participant("vendeur.example", "BPP")
    gateway = participant("passerelle.example", "BG")
    suspended = participant("suspendu.example", "BAP")
    stranger = participant("inconnu.example", "BAP")
    for who in (buyer, seller, gateway):
        registry.add(who)
    registry.add(suspended, status="SUSPENDED")
    with serve(registry.app) as registry_url:
        seller_app, received = node("vendeur.example", "BPP", registry_url, registry)
        buyer_app, buyer_received = node("acheteur.example", "BAP", registry_url, registry)
        with serve(seller_app) as seller_url, serve(buyer_app) as buyer_url:
            yield Network(
                registry,
                buyer,
                seller,
                gateway,
                suspended,
                stranger,
                seller_url,
                buyer_url,
                received,
            )
            del buyer_received


def post(url: str, action: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{url}/{action}",
        content=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=10,
    )


def assert_refused(
    response: httpx.Response, code: str, realm: str, *, header: str = "WWW-Authenticate"
) -> dict:
    assert response.status_code == 401, response.text
    assert response.headers[header] == CHALLENGE.format(realm)
    data = response.json()
    assert data["message"]["ack"]["status"] == "NACK"
    assert data["error"]["code"] == code
    return data["error"]


def test_signed_search_is_accepted_with_its_payload(network: Network) -> None:
    body = search_body(network.buyer.subscriber_id)
    response = post(
        network.seller_url, "search", body, {"Authorization": network.buyer.signer().sign(body)}
    )
    assert response.status_code == 200
    assert response.content == b'{"message":{"ack":{"status":"ACK"}}}'
    message = network.received[-1]
    assert message.body == body
    assert message.signer.subscriber_id == "acheteur.example"
    assert message.payload == json.loads(body)


def test_unsigned_call_is_refused(network: Network) -> None:
    response = post(network.seller_url, "search", search_body("acheteur.example"), {})
    error = assert_refused(response, "30016", "vendeur.example")
    assert error["paths"] == "headers.Authorization"


def test_tampered_body_is_refused(network: Network) -> None:
    body = search_body(network.buyer.subscriber_id)
    header = network.buyer.signer().sign(body)
    tampered = body.replace("érable".encode(), b"erable")
    response = post(network.seller_url, "search", tampered, {"Authorization": header})
    assert_refused(response, "30016", "vendeur.example")


def test_reserialised_body_is_refused(network: Network) -> None:
    body = search_body(network.buyer.subscriber_id)
    header = network.buyer.signer().sign(body)
    reserialised = json.dumps(json.loads(body)).encode()
    response = post(network.seller_url, "search", reserialised, {"Authorization": header})
    assert_refused(response, "30016", "vendeur.example")


def test_expired_signature_is_refused(network: Network) -> None:
    body = search_body(network.buyer.subscriber_id)
    created = int(time.time()) - 120
    header = network.buyer.signer().sign(body, created=created, expires=created + 60)
    response = post(network.seller_url, "search", body, {"Authorization": header})
    error = assert_refused(response, "30016", "vendeur.example")
    assert "expir" in error["message"]


def test_replayed_call_is_refused_with_the_stale_code(network: Network) -> None:
    body = search_body(network.buyer.subscriber_id)
    headers = {"Authorization": network.buyer.signer().sign(body)}
    assert post(network.seller_url, "search", body, headers).status_code == 200
    error = assert_refused(
        post(network.seller_url, "search", body, headers), "30022", "vendeur.example"
    )
    assert error["paths"] == "context.message_id"


def test_unknown_key_is_refused(network: Network) -> None:
    body = search_body(network.stranger.subscriber_id)
    response = post(
        network.seller_url, "search", body, {"Authorization": network.stranger.signer().sign(body)}
    )
    error = assert_refused(response, "30016", "vendeur.example")
    assert "inconnue" in error["message"]


def test_suspended_subscriber_is_refused(network: Network) -> None:
    body = search_body(network.suspended.subscriber_id)
    response = post(
        network.seller_url,
        "search",
        body,
        {"Authorization": network.suspended.signer().sign(body)},
    )
    error = assert_refused(response, "30016", "vendeur.example")
    assert "SUSPENDED" in error["message"]


def test_signer_must_be_the_bap_id(network: Network) -> None:
    # A real, registered seller signs a search that claims to come from the buyer.
    body = search_body(network.buyer.subscriber_id)
    response = post(
        network.seller_url, "search", body, {"Authorization": network.seller.signer().sign(body)}
    )
    error = assert_refused(response, "30016", "vendeur.example")
    assert error["paths"] == "context.bap_id"


def test_callback_signer_must_be_the_bpp_id_and_the_buyer_answers_with_its_codes(
    network: Network,
) -> None:
    body = on_status_body(network.buyer.subscriber_id, network.seller.subscriber_id)
    good = post(
        network.buyer_url, "on_status", body, {"Authorization": network.seller.signer().sign(body)}
    )
    assert good.status_code == 200
    forged = on_status_body(network.buyer.subscriber_id, network.seller.subscriber_id)
    response = post(
        network.buyer_url,
        "on_status",
        forged,
        {"Authorization": network.gateway.signer().sign(forged)},
    )
    error = assert_refused(response, "20001", "acheteur.example")
    assert error["paths"] == "context.bpp_id"
    replay = post(
        network.buyer_url, "on_status", body, {"Authorization": network.seller.signer().sign(body)}
    )
    assert_refused(replay, "20002", "acheteur.example")


def test_gateway_header_is_verified_when_present(network: Network) -> None:
    body = search_body(network.buyer.subscriber_id)
    headers = {
        "Authorization": network.buyer.signer().sign(body),
        GATEWAY_AUTHORIZATION: network.gateway.signer().sign(body),
    }
    assert post(network.seller_url, "search", body, headers).status_code == 200
    assert network.received[-1].gateway.subscriber_id == "passerelle.example"

    body = search_body(network.buyer.subscriber_id)
    headers = {
        "Authorization": network.buyer.signer().sign(body),
        GATEWAY_AUTHORIZATION: network.gateway.signer().sign(body + b" "),
    }
    response = post(network.seller_url, "search", body, headers)
    error = assert_refused(response, "30016", "vendeur.example", header="Proxy-Authenticate")
    assert error["paths"] == "headers.X-Gateway-Authorization"
    assert "WWW-Authenticate" not in response.headers


def test_gateway_header_must_come_from_a_gateway(network: Network) -> None:
    body = search_body(network.buyer.subscriber_id)
    headers = {
        "Authorization": network.buyer.signer().sign(body),
        GATEWAY_AUTHORIZATION: network.seller.signer().sign(body),
    }
    response = post(network.seller_url, "search", body, headers)
    error = assert_refused(response, "30016", "vendeur.example", header="Proxy-Authenticate")
    assert "passerelle" in error["message"]


def test_body_over_the_limit_gets_413(network: Network) -> None:
    body = b'{"context":{},"pad":"' + b"x" * 5000 + b'"}'
    response = post(
        network.seller_url, "search", body, {"Authorization": network.buyer.signer().sign(body)}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "30000"
    assert response.json()["message"]["ack"]["status"] == "NACK"


def test_signed_garbage_gets_400_with_a_path(network: Network) -> None:
    body = b'{"context": nope'
    response = post(
        network.seller_url, "search", body, {"Authorization": network.buyer.signer().sign(body)}
    )
    assert response.status_code == 400
    assert response.json()["error"]["paths"] == "$"

    body = search_body(network.buyer.subscriber_id).replace(b'"intent"', b'"intent":7,"x"')
    response = post(
        network.seller_url, "search", body, {"Authorization": network.buyer.signer().sign(body)}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "30000"
    assert error["paths"].startswith("message")


def test_action_must_match_the_url(network: Network) -> None:
    body = search_body(network.buyer.subscriber_id)
    response = post(
        network.seller_url, "select", body, {"Authorization": network.buyer.signer().sign(body)}
    )
    assert response.status_code == 400
    assert response.json()["error"]["paths"] == "context.action"


def test_gateway_only_mode_requires_the_gateway_signature() -> None:
    registry = StandInRegistry()
    buyer, gateway = participant("acheteur.example", "BAP"), participant("gw.example", "BG")
    registry.add(buyer)
    registry.add(gateway)
    with serve(registry.app) as registry_url:
        app, _ = node(
            "vendeur.example", "BPP", registry_url, registry, require_gateway_signature=True
        )
        with serve(app) as url:
            body = search_body(buyer.subscriber_id)
            direct = post(url, "search", body, {"Authorization": buyer.signer().sign(body)})
            assert_refused(direct, "30016", "vendeur.example", header="Proxy-Authenticate")
            body = search_body(buyer.subscriber_id)
            relayed = post(
                url,
                "search",
                body,
                {
                    "Authorization": buyer.signer().sign(body),
                    "Proxy-Authorization": gateway.signer().sign(body),
                },
            )
            assert relayed.status_code == 200, relayed.text


def test_registry_down_after_the_cache_expired_is_a_clean_401() -> None:
    registry = StandInRegistry()
    buyer = participant("acheteur.example", "BAP")
    registry.add(buyer)
    with serve(registry.app) as registry_url:
        received: list[InboundMessage] = []
        lookup = RegistryLookup(registry_url, registry_public_key=registry.public_key, ttl=0.5)
        inbound = Inbound("vendeur.example", "BPP", lookup)
        app = protocol_app(inbound, received.append)

        with serve(app) as url:

            def call() -> httpx.Response:
                body = search_body(buyer.subscriber_id)
                return post(url, "search", body, {"Authorization": buyer.signer().sign(body)})

            assert call().status_code == 200
            registry.down = True
            assert call().status_code == 200  # still cached
            time.sleep(0.6)
            error = assert_refused(call(), "30016", "vendeur.example")
            assert "registre" in error["message"]
            registry.down = False
            assert call().status_code == 200


def test_context_timestamp_must_fall_in_the_signature_window(network: Network) -> None:
    """One check for every role: a request (seller's codes) and a callback (buyer's codes)
    dated in year 1, in 9999 or ahead of the signature are refused at ``context.timestamp``;
    a body re-sent an hour later by an outbox (signed anew) passes."""

    def dated(body: bytes, stamp: str) -> bytes:
        data = json.loads(body)
        data["context"]["timestamp"] = stamp
        return json.dumps(data, separators=(",", ":")).encode()

    hour_ago = rfc3339(datetime.now(UTC) - timedelta(hours=1))
    for stamp in (
        "0001-01-01T00:00:00.000Z",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-05:00",
        rfc3339(datetime.now(UTC) + timedelta(minutes=2)),
        rfc3339(datetime.now(UTC) - timedelta(days=3)),
        hour_ago,
    ):
        request = dated(search_body(network.buyer.subscriber_id), stamp)
        to_seller = post(
            network.seller_url,
            "search",
            request,
            {"Authorization": network.buyer.signer().sign(request)},
        )
        callback = dated(
            on_status_body(network.buyer.subscriber_id, network.seller.subscriber_id), stamp
        )
        to_buyer = post(
            network.buyer_url,
            "on_status",
            callback,
            {"Authorization": network.seller.signer().sign(callback)},
        )
        if stamp == hour_ago:
            assert (to_seller.status_code, to_buyer.status_code) == (200, 200)
            continue
        for response, code in ((to_seller, "30022"), (to_buyer, "20002")):
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert (error["code"], error["paths"]) == (code, "context.timestamp"), stamp
