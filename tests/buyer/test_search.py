"""A buyer searches every pôle at once: real registry, real seller nodes, the buyer node."""

from __future__ import annotations

import json
import time

from reseau_poles.buyer.repositories import organisations as repo
from reseau_poles.buyer.repositories import searches as search_repo
from reseau_poles.network import InboundMessage, SubscriberRecord
from reseau_poles.protocol.signing import Signer, parse_header
from reseau_poles.storage import read_session, write_session
from tests.registry.conftest import new_keys
from tests.seller.support import CAPITALE, SYRUP

from .conftest import World, new_transaction

SYRUP_PROVIDER = {
    "id": "pole-gaspesie",
    "descriptor": {"name": "Pôle nourricier de la Gaspésie"},
    "items": [
        {
            "id": "sirop-gaspesie",
            "descriptor": {"name": "Sirop d'érable de la Baie"},
            "price": {"currency": "CAD", "value": "11.00"},
        }
    ],
}


def test_a_search_gathers_the_catalogs_of_every_matching_seller(world: World) -> None:
    started = time.monotonic()
    transaction_id = world.search(text="erable", region="QC-03", certification="biologique_canada")
    found = world.results(transaction_id, wait_ms=10_000)
    assert time.monotonic() - started < 5
    assert found["state"] == "complete" and found["complete"]
    capitale, estrie = world.sellers["capitale"], world.sellers["estrie"]
    # The seller of the Gaspésie only is not asked about the Capitale-Nationale.
    assert sorted(found["sellers"]["targeted"]) == sorted([capitale, estrie])
    assert sorted(a["bpp_id"] for a in found["sellers"]["answered"]) == sorted([capitale, estrie])
    assert found["sellers"]["pending"] == [] and found["sellers"]["refused"] == []
    # Each seller hosts the Capitale's pôle: one entry per (seller, pôle), the organic syrup.
    assert sorted(p["bpp_id"] for p in found["providers"]) == sorted([capitale, estrie])
    for provider in found["providers"]:
        assert provider["id"] == CAPITALE
        assert [item["id"] for item in provider["items"]] == [SYRUP]
    assert found["counts"] == {
        "providers": 2,
        "items": 2,
        "matched": 2,
        "received": 2,
        "truncated": False,
    }
    assert found["notice"] is None

    # The Estrie: only the seller that serves it.
    other = world.results(world.search(text="pommes", region="QC-05"), wait_ms=10_000)
    assert other["complete"] and other["sellers"]["targeted"] == [estrie]


def test_wait_ends_on_time_and_a_late_callback_still_lands(world: World) -> None:
    transaction_id = world.search(text="sirop", region="QC-11")
    search = world.hand.wait_search(transaction_id)
    assert search["message"]["intent"]["item"]["descriptor"]["name"] == "sirop"

    started = time.monotonic()
    waiting = world.results(transaction_id, wait_ms=400)
    assert 0.35 < time.monotonic() - started < 3
    assert waiting["state"] == "en_attente" and not waiting["complete"]
    assert waiting["sellers"]["pending"] == [world.hand.keys.subscriber_id]

    body = world.hand.on_search(search, [SYRUP_PROVIDER])
    response = world.callback(body, world.hand.signer)
    assert response.status_code == 200, response.text
    assert response.json() == {"message": {"ack": {"status": "ACK"}}}
    done = world.results(transaction_id)
    assert done["complete"] and done["counts"]["items"] == 1
    assert done["providers"][0]["items"][0]["id"] == "sirop-gaspesie"

    # The same callback again is stored once, whether the replay guard or the database
    # catches it.
    again = world.callback(body, world.hand.signer)
    assert again.status_code in (200, 401), again.text
    header = world.hand.signer.sign(body)
    payload = json.loads(body)
    record = SubscriberRecord.from_json(
        {"subscriber_id": world.hand.keys.subscriber_id, "url": payload["context"]["bpp_uri"]}
    )
    assert record is not None
    message = InboundMessage("on_search", body, payload, parse_header(header), record)
    assert world.service.receive_on_search(message) is False
    with read_session(world.service.factory) as session:
        assert search_repo.count_callbacks(session, transaction_id) == 1
        assert len(search_repo.results_of(session, transaction_id)) == 1


def test_forged_and_unknown_callbacks_are_refused(world: World) -> None:
    transaction_id = world.search(region="QC-11")
    search = world.hand.wait_search(transaction_id)
    body = world.hand.on_search(search, [SYRUP_PROVIDER])

    # Signed with another key under the hand seller's name: 401, invalid signature.
    impostor = new_keys("imposteur")
    forged = Signer(world.hand.keys.subscriber_id, world.hand.keys.key_id, impostor.signing)
    response = world.callback(body, forged)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "20001"

    # A transaction this buyer never started: NACK 20006 with the path.
    unknown = dict(search, context={**search["context"], "transaction_id": new_transaction()})
    response = world.callback(world.hand.on_search(unknown, []), world.hand.signer)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "20006" and error["paths"] == "context.transaction_id"
    assert response.json()["message"]["ack"]["status"] == "NACK"

    assert world.results(transaction_id)["counts"]["items"] == 0


def test_the_client_api_wants_a_key_and_good_parameters(world: World) -> None:
    assert world.http.post(world.buyer_url + "/api/searches", json={}).status_code == 401
    refused = world.api("POST", "/api/searches", key="rpa_faux", json={})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "non_authentifie"
    bearer = world.http.post(
        world.buyer_url + "/api/searches",
        json={"region": "QC-05"},
        headers={"Authorization": f"Bearer {world.api_key}"},
    )
    assert bearer.status_code == 202

    for params, path in (
        ({"region": "QC-99"}, "region"),
        ({"certification": ["bidon"]}, "certification"),
        ({"conservation": "tiede"}, "conservation"),
        ({"prix": 3}, "prix"),
    ):
        response = world.api("POST", "/api/searches", json=params)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["path"] == path
    assert world.api("POST", "/api/searches", content=b"{pas du json").status_code == 400
    assert world.api("POST", "/api/searches", json=[1]).status_code == 400
    assert world.api("GET", "/api/searches/inconnue").status_code == 404
    tx = bearer.json()["transaction_id"]
    assert world.api("GET", f"/api/searches/{tx}?wait_ms=abc").status_code == 400

    # Another organisation does not see this one's searches.
    with write_session(world.service.factory) as session:
        repo.add_organisation(session, "chu-sherbrooke", "CHU de Sherbrooke")
        other_key = repo.create_api_key(session, "chu-sherbrooke")
    assert world.api("GET", f"/api/searches/{tx}", key=other_key).status_code == 404


def test_a_seller_cannot_pose_as_another_in_the_results(world: World) -> None:
    """Identity fields inside a catalogue's provider (``bpp_id``, ``bpp_uri``) never override
    the verified signer and its registered address: a cheap offer stays the hand seller's."""
    transaction_id = world.search(text="sirop", region="QC-11")
    search = world.hand.wait_search(transaction_id)
    impostor = {
        **SYRUP_PROVIDER,
        "bpp_id": world.sellers["capitale"],  # another, honest seller of the network
        "bpp_uri": "http://169.254.169.254/latest",
        "items": [
            {
                "id": "sirop-a-un-sou",
                "descriptor": {"name": "Sirop d'érable à un sou"},
                "price": {"currency": "CAD", "value": "0.01"},
            }
        ],
    }
    body = world.hand.on_search(search, [impostor])
    assert world.callback(body, world.hand.signer).status_code == 200
    results = world.results(transaction_id)
    (provider,) = [p for p in results["providers"] if p["id"] == SYRUP_PROVIDER["id"]]
    assert provider["bpp_id"] == world.hand.keys.subscriber_id
    assert provider["bpp_uri"] == json.loads(body)["context"]["bpp_uri"]
    assert provider["items"][0]["id"] == "sirop-a-un-sou"
    assert all(
        p["bpp_id"] != world.sellers["capitale"] or "sirop-a-un-sou" not in str(p["items"])
        for p in results["providers"]
    )
