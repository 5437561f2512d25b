"""A real seller node receiving what other Beckn stacks send: the whole ``Authorization``
inside one pair of double quotes (ONDC's Python helper), and the gateway's signature in the
older ``Proxy-Authorization`` header instead of ``X-Gateway-Authorization``."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from reseau_poles.protocol.signing import Signer
from tests.registry.conftest import new_keys

from .conftest import Network

SEARCH = {"intent": {"item": {"descriptor": {"name": "érable"}}}}


def _search(network: Network, headers: dict[str, str] | None = None, **sign: Any):
    """A signed search to the node: ``(response, body bytes, message id)``. ``headers``
    values may be callables of the body (a signature over it)."""
    context = network.context("search", str(uuid.uuid4()))
    raw = json.dumps({"context": context, "message": SEARCH}, ensure_ascii=False).encode()
    sent = {"Content-Type": "application/json"}
    for name, value in {"Authorization": network.buyer.signer.sign, **(headers or {})}.items():
        sent[name] = value(raw) if callable(value) else value
    response = network.http.post(f"{network.seller_url}/search", content=raw, headers=sent)
    return response, raw, context["message_id"]


def _acked(network: Network, response: httpx.Response, message_id: str) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {"message": {"ack": {"status": "ACK"}}}
    callback = network.buyer.wait(message_id)
    assert callback.action == "on_search"
    assert callback.message["catalog"]["providers"]


def _refused(response: httpx.Response, path: str, words: str) -> None:
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert response.json()["message"]["ack"]["status"] == "NACK"
    assert error["code"] == "30016" and error["paths"] == path, error
    assert words in error["message"], error
    assert "Proxy-Authenticate" in response.headers


def test_the_ondc_quoted_authorization_is_acked(network: Network) -> None:
    quoted = {"Authorization": lambda raw: f'"{network.buyer.signer.sign(raw)}"'}
    response, _raw, message_id = _search(network, quoted)
    _acked(network, response, message_id)
    for wrapping in ("'{}'", '""{}""', '"{}'):
        loose = {"Authorization": lambda raw, w=wrapping: w.format(network.buyer.signer.sign(raw))}
        response, _raw, _id = _search(network, loose)
        assert response.status_code == 401, response.text
        assert "mal formé" in response.json()["error"]["message"]


def test_proxy_authorization_from_a_registered_gateway_is_the_gateway_signature(
    network: Network,
) -> None:
    gateway = network.registry.join(new_keys("passerelle"), type="BG")
    gateway_signer = Signer(gateway.keys.subscriber_id, gateway.keys.key_id, gateway.keys.signing)
    network.seller_app.state.network.inbound.require_gateway_signature = True

    # A search that must come through a gateway: none at all is refused...
    response, _raw, _id = _search(network)
    _refused(response, "headers.X-Gateway-Authorization", "absent")
    # ...the older header carrying the gateway's signature is accepted, quoted or not.
    for value in (gateway_signer.sign, lambda raw: f'"{gateway_signer.sign(raw)}"'):
        response, _raw, message_id = _search(network, {"Proxy-Authorization": value})
        _acked(network, response, message_id)

    # It is verified as the gateway header is: over these very bytes, by a gateway.
    response, _raw, _id = _search(network, {"Proxy-Authorization": gateway_signer.sign(b"{}")})
    _refused(response, "headers.Proxy-Authorization", "ne correspond pas")
    response, _raw, _id = _search(network, {"Proxy-Authorization": network.buyer.signer.sign})
    _refused(response, "headers.Proxy-Authorization", "pas inscrit comme passerelle")
    # A forward proxy's own credentials are no gateway signature: as if absent.
    basic = {"Proxy-Authorization": "Basic dXNlcjpwYXNz"}
    response, _raw, _id = _search(network, basic)
    _refused(response, "headers.X-Gateway-Authorization", "absent")
    # X-Gateway-Authorization, when there, is the one judged.
    both = {"X-Gateway-Authorization": gateway_signer.sign, "Proxy-Authorization": "junk"}
    response, _raw, message_id = _search(network, both)
    _acked(network, response, message_id)

    network.seller_app.state.network.inbound.require_gateway_signature = False
    response, _raw, message_id = _search(network, basic)
    _acked(network, response, message_id)
