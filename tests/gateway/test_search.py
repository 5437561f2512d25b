"""A signed search reaches exactly the sellers of its domain and region, with both
signatures valid; bpp_id narrows it to one seller; a dead or slow seller slows no one."""

from __future__ import annotations

import json
import time

import httpx

from reseau_poles.protocol import signing

from .conftest import SELLER_TIMEOUT, GatewayNetwork
from .support import NO_LOCATION, message_id_of, search_body


def test_gateway_is_found_by_buyer_tools(network: GatewayNetwork) -> None:
    found = network.registry.lookup({"type": "BG", "domain": "PLA:ALIMENTS"}).json()
    assert [r["subscriber_id"] for r in found] == [network.gateway_keys.subscriber_id]
    assert found[0]["subscriber_url"] == network.url
    assert found[0]["status"] == "SUBSCRIBED"


def test_search_reaches_exactly_the_sellers_of_its_domain_and_region(
    network: GatewayNetwork,
) -> None:
    buyer = network.buyer()
    body = search_body(buyer, city="QC-03")
    response = network.search(buyer, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"message": {"ack": {"status": "ACK"}}}
    deliveries = network.sellers.wait_for(message_id_of(body), 3)
    time.sleep(0.2)  # anything extra would have arrived by now
    deliveries = network.sellers.received(message_id_of(body))
    assert network.names(deliveries) == {"capitale-a", "capitale-b", "province"}
    assert len(deliveries) == 3

    buyer_key = network.public_key(buyer.keys.subscriber_id)
    gateway_key = network.public_key(network.gateway_keys.subscriber_id)
    for delivery in deliveries:
        assert delivery.body == body  # the bytes, unchanged
        assert delivery.headers["authorization"] == response.request.headers["authorization"]
        who = signing.verify(delivery.body, delivery.headers["authorization"], buyer_key)
        assert who.subscriber_id == buyer.keys.subscriber_id
        gateway = signing.verify(
            delivery.body,
            delivery.headers["x-gateway-authorization"],
            gateway_key,
            header_name=signing.GATEWAY_AUTHORIZATION,
        )
        assert gateway.subscriber_id == network.gateway_keys.subscriber_id

    stats = network.http.get(f"{network.url}/searches/{message_id_of(body)}").json()
    assert stats["targeted"] == 3 and stats["acked"] == 3 and stats["state"] == "done"


def test_other_domain_and_whole_province(network: GatewayNetwork) -> None:
    buyer = network.buyer()
    logistics = search_body(buyer, city="QC-03", domain="PLA:LOGISTIQUE")
    assert network.search(buyer, logistics).status_code == 200
    everywhere = search_body(buyer, city="*")
    assert network.search(buyer, everywhere).status_code == 200
    montreal = search_body(buyer, city="qc-6")  # lenient form
    assert network.search(buyer, montreal).status_code == 200

    assert network.names(network.sellers.wait_for(message_id_of(logistics), 1)) == {"transport"}
    expected = {
        "capitale-a",
        "capitale-b",
        "province",
        "montreal",
        "estrie-ok",
        "estrie-nack",
        "estrie-lent",
    }
    assert network.names(network.sellers.wait_for(message_id_of(everywhere), 7)) == expected
    assert network.names(network.sellers.wait_for(message_id_of(montreal), 2)) == {
        "montreal",
        "province",
    }
    time.sleep(0.2)
    assert len(network.sellers.received(message_id_of(everywhere))) == 7
    assert len(network.sellers.received(message_id_of(logistics))) == 1


def test_bpp_id_targets_one_seller(network: GatewayNetwork) -> None:
    buyer = network.buyer()
    target = network.sellers_by_name["capitale-b"].subscriber_id
    body = search_body(buyer, city="QC-03", bpp_id=target)
    assert network.search(buyer, body).status_code == 200
    network.sellers.wait_for(message_id_of(body), 1)
    time.sleep(0.2)
    assert network.names(network.sellers.received(message_id_of(body))) == {"capitale-b"}


def test_dead_and_slow_sellers_do_not_slow_the_others(network: GatewayNetwork) -> None:
    buyer = network.buyer()
    body = search_body(buyer, city="QC-05")
    sent = time.monotonic()
    response = network.search(buyer, body)
    acked = time.monotonic()
    assert response.status_code == 200
    assert acked - sent < 0.5  # the ACK does not wait for any seller
    deliveries = network.sellers.wait_for(message_id_of(body), 4)
    fast = {d.seller: d.at - sent for d in deliveries}
    assert set(fast) == {"estrie-ok", "estrie-nack", "estrie-lent", "province"}
    assert max(fast.values()) < 0.5, fast

    # The statistics: the slow seller timed out, the dead one failed after one retry.
    mid = message_id_of(body)
    deadline = time.monotonic() + SELLER_TIMEOUT + 3
    while (stats := network.http.get(f"{network.url}/searches/{mid}").json())["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert stats["targeted"] == 5
    assert (stats["acked"], stats["nacked"], stats["failed"], stats["timed_out"]) == (2, 1, 2, 1)
    outcomes = {s["subscriber_id"].split(".")[0]: s for s in stats["sellers"]}
    assert outcomes["estrie-mort"]["status"] == "ERROR"
    assert outcomes["estrie-mort"]["attempts"] == 2
    assert outcomes["estrie-lent"]["status"] == "TIMEOUT"
    assert outcomes["estrie-lent"]["attempts"] == 1
    assert outcomes["estrie-nack"]["error_code"] == "30000"
    assert stats["latency_ms"] < (SELLER_TIMEOUT + 0.5) * 1000


def test_a_suspended_seller_is_refused_as_a_target_and_comes_back(
    network: GatewayNetwork,
) -> None:
    """A search for one suspended seller gets a clear 400 (not an ACK that reaches nobody);
    searches of its region reach the others; reactivated, it receives searches again."""
    buyer = network.buyer()
    target = network.sellers_by_name["capitale-b"].subscriber_id

    def targeted() -> tuple[bytes, httpx.Response]:
        body = search_body(buyer, city="QC-03", bpp_id=target)
        return body, network.search(buyer, body)

    network.registry.admin.change("suspend", target, "essai")
    try:
        deadline = time.monotonic() + 10
        while (answer := targeted()[1]).status_code in (200, 429):
            assert time.monotonic() < deadline, "suspension jamais vue par la passerelle"
            time.sleep(0.6)  # under the buyer's rate limit here (2/s)
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert (error["code"], error["paths"]) == ("10000", "context.bpp_id")
        assert "suspendu" in error["message"]
        region = search_body(buyer, city="QC-03")
        assert network.search(buyer, region).status_code == 200
        network.sellers.wait_for(message_id_of(region), 1)
        time.sleep(0.2)
        assert "capitale-b" not in network.names(network.sellers.received(message_id_of(region)))
    finally:
        network.registry.admin.change("reactivate", target)
    deadline = time.monotonic() + 10
    while True:
        body, answer = targeted()
        if answer.status_code == 200 and network.sellers.wait_for(message_id_of(body), 1, 1.0):
            break
        assert time.monotonic() < deadline, "réactivation jamais vue par la passerelle"
        time.sleep(0.6)


EVERY_FOOD_SELLER = {
    "capitale-a",
    "capitale-b",
    "province",
    "montreal",
    "estrie-ok",
    "estrie-nack",
    "estrie-lent",
}


def test_a_search_without_location_goes_to_every_seller_of_its_domain(
    network: GatewayNetwork,
) -> None:
    buyer = network.buyer()
    nowhere = search_body(buyer, city=NO_LOCATION)
    assert "location" not in json.loads(nowhere)["context"]
    assert network.search(buyer, nowhere).status_code == 200
    # A location with a country and no city is every region of that country.
    payload = json.loads(search_body(buyer))
    payload["context"]["location"] = {"country": {"code": "CAN"}}
    country_only = json.dumps(payload).encode()
    assert network.search(buyer, country_only).status_code == 200

    for body in (nowhere, country_only):
        network.sellers.wait_for(message_id_of(body), len(EVERY_FOOD_SELLER))
    time.sleep(0.2)
    for body in (nowhere, country_only):
        deliveries = network.sellers.received(message_id_of(body))
        assert network.names(deliveries) == EVERY_FOOD_SELLER
        assert len(deliveries) == len(EVERY_FOOD_SELLER)  # each once; PLA:LOGISTIQUE never
        assert all(d.body == body for d in deliveries)


def test_the_ondc_quoted_authorization_is_acked_and_relayed_unchanged(
    network: GatewayNetwork,
) -> None:
    buyer = network.buyer()
    body = search_body(buyer, city="QC-03")
    signer = signing.Signer(buyer.keys.subscriber_id, buyer.keys.key_id, buyer.keys.signing)
    quoted = f'"{signer.sign(body)}"'
    response = network.post(body, {"Authorization": quoted})
    assert response.status_code == 200, response.text
    assert response.json() == {"message": {"ack": {"status": "ACK"}}}
    deliveries = network.sellers.wait_for(message_id_of(body), 3)
    assert network.names(deliveries) == {"capitale-a", "capitale-b", "province"}
    buyer_key = network.public_key(buyer.keys.subscriber_id)
    for delivery in deliveries:
        # The buyer's header goes on as it came: the sellers judge it themselves.
        assert delivery.headers["authorization"] == quoted
        assert signing.verify(delivery.body, quoted, buyer_key).subscriber_id == (
            buyer.keys.subscriber_id
        )
    # One pair only, around the whole value: anything looser is refused before any relay.
    for wrapping in ("'{}'", '""{}""', '"{}'):
        again = search_body(buyer, city="QC-03")
        header = wrapping.format(signer.sign(again))
        refused = network.post(again, {"Authorization": header})
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["code"] == "10001"
        assert "mal formé" in refused.json()["error"]["message"]
