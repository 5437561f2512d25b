"""The running gateway answers the registry's challenge in either scheme: the sealed box of
its registration, and ONDC's (AES-256-ECB under the X25519 shared secret with the registry's
encryption key, read from the registry's well-known document)."""

from __future__ import annotations

from reseau_poles.network.registry_client import build_record, encode, signer_for
from reseau_poles.protocol.errors import ErrorCode
from reseau_poles.protocol.keys import new_challenge, seal_challenge

from .conftest import GatewayNetwork


def _resubscribe(network: GatewayNetwork, **extra: str) -> dict:
    keys = network.gateway_keys
    record = build_record(keys, url=network.url, type="BG", domains=["PLA:ALIMENTS"], regions=["*"])
    body = encode({**record, **extra})
    response = network.registry.http.post(
        "/subscribe",
        content=body,
        headers={"Authorization": signer_for(keys).sign(body), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    return response.json()["subscriber"]


def test_the_gateway_answers_an_ondc_challenge_and_a_sealed_box(network: GatewayNetwork) -> None:
    assert _resubscribe(network, challenge_scheme="ondc")["status"] == "SUBSCRIBED"
    assert _resubscribe(network, challenge_scheme="sealed_box")["status"] == "SUBSCRIBED"
    # A challenge in neither scheme for its key: a NACK naming the field, never a 500.
    response = network.http.post(
        f"{network.url}/on_subscribe",
        json={"subscriber_id": network.gateway_keys.subscriber_id, "challenge": "A" * 64},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["paths"] == "challenge"


def test_the_gateway_answers_only_a_challenge_meant_for_it(network: GatewayNetwork) -> None:
    """The nodes' rule, now the gateway's too (one /on_subscribe for every participant): a
    challenge naming another subscriber is refused on ``subscriber_id``, even one the
    gateway's key could open; the same challenge for the gateway itself is answered."""
    keys = network.gateway_keys
    secret = new_challenge()
    sealed = seal_challenge(keys.encryption.public_key_b64, secret)
    url = f"{network.url}/on_subscribe"

    refused = network.http.post(url, json={"subscriber_id": "autre.example", "challenge": sealed})
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["paths"] == "subscriber_id"
    assert error["code"] == ErrorCode.GATEWAY_INVALID_REQUEST.value
    assert "autre abonné" in error["message"]
    assert "answer" not in refused.json()

    for body in ({"subscriber_id": keys.subscriber_id, "challenge": sealed}, {"challenge": sealed}):
        answered = network.http.post(url, json=body)
        assert answered.status_code == 200, answered.text
        assert answered.json() == {"answer": secret}
