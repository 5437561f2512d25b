"""The exact lookups that Beckn's own software sends (PROTOCOL.md, "Working with existing Beckn
tools"), replayed byte for byte, under both paths a deployment may use. Each tool reads a bare
JSON array and takes element [0]."""

from __future__ import annotations

import re
from typing import Any

import pytest

from reseau_poles.network.registry_client import signer_for
from reseau_poles.protocol.keys import SubscriberKeys

from .conftest import RunningRegistry, new_keys

ZONED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture
def network(registry: RunningRegistry) -> dict[str, Any]:
    seller = registry.join(SubscriberKeys.generate("vendeur.example", "cle-1"), type="BPP")
    # The seller rotated: a second key, valid at the same time; lookups by key id must put the
    # key asked for first.
    second = registry.host.add(SubscriberKeys.generate("vendeur.example", "cle-2"))
    assert registry.subscribe(second, signer=signer_for(seller.keys)).status_code == 200
    gateway = registry.join(
        new_keys("passerelle"), type="BG", domains=["PLA:ALIMENTS", "PLA:LOGISTIQUE"], regions=["*"]
    )
    registry.join(new_keys("acheteur"), type="BAP")
    return {"registry": registry, "seller": seller, "second": second, "gateway": gateway}


REQUESTS = [
    # beckn protocol-server: verifying a signature, key id as ukId.
    (b'{"subscriber_id":"vendeur.example","ukId":"cle-2"}', "vendeur.example", "cle-2"),
    # ONDC-style clients: unique_key_id.
    (b'{"subscriber_id":"vendeur.example","unique_key_id":"cle-1"}', "vendeur.example", "cle-1"),
    # beckn-onix: key_id.
    (b'{"subscriber_id": "vendeur.example", "key_id": "cle-2"}', "vendeur.example", "cle-2"),
    # A buyer tool looking for the gateway.
    (b'{"type":"BG","domain":"PLA:ALIMENTS"}', "passerelle", None),
    # A gateway (or buyer) looking for one seller node.
    (
        b'{"type":"BPP","domain":"PLA:ALIMENTS","subscriber_id":"vendeur.example"}',
        "vendeur.example",
        None,
    ),
]


def test_beckn_tool_lookups(network) -> None:
    for path in ("/lookup", "/subscribers/lookup"):
        for body, subscriber, key_id in REQUESTS:
            try:
                check_answer(network, path, body, subscriber, key_id)
            except AssertionError as exc:
                raise AssertionError(f"{path} {body.decode()}: {exc}") from None


def check_answer(network, path: str, body: bytes, subscriber: str, key_id: str | None) -> None:
    registry: RunningRegistry = network["registry"]
    response = registry.http.post(path, content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    answer = response.json()
    assert isinstance(answer, list) and answer, answer
    first = answer[0]
    assert first["subscriber_id"].startswith(subscriber)
    if key_id is not None:
        # The key asked for, and it first.
        assert [r["key_id"] for r in answer] == [key_id]
        keys = network["seller"].keys if key_id == "cle-1" else network["second"].keys
        assert first["signing_public_key"] == keys.signing.public_key_b64
    # What every tool reads from element [0].
    for name in (
        "subscriber_id",
        "subscriber_url",
        "url",
        "type",
        "domain",
        "signing_public_key",
        "encr_public_key",
        "key_id",
        "ukId",
        "unique_key_id",
        "valid_from",
        "valid_until",
        "status",
        "created",
        "updated",
    ):
        assert first.get(name), name
    assert first["type"] in ("BAP", "BPP", "BG", "BREG")
    assert first["subscriber_url"] == first["url"]
    assert first["key_id"] == first["ukId"] == first["unique_key_id"]
    assert first["status"] == "SUBSCRIBED"
    # Every time carries a zone: a naive one makes Go clients drop the whole answer.
    for record in answer:
        for name in ("valid_from", "valid_until", "created", "updated"):
            assert ZONED.match(record[name]), (name, record[name])
    if b'"BG"' in body:
        assert first["type"] == "BG"
        assert first["subscriber_url"] == network["gateway"].url
