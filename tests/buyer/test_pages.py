"""Broad searches are never silently cut: per pôle, how many items matched and how many
arrived, and the rest fetched on demand (protocol profile: groups ``resultats`` and
``pagination``). Real seller nodes capped at two items per answer, on loopback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reseau_poles.protocol.profile import Page, ProviderResults, parse_page
from tests.seller.support import APPLES, CAPITALE, CHIPS, CURDS, ESTRIE, SYRUP

from .conftest import World


@pytest.fixture
def seller_overrides() -> dict[str, Any]:
    return {"on_search_max_items": 2}


def _everywhere(world: World) -> str:
    """A search of the whole province; the hand-driven seller answers with nothing."""
    tx = world.search()
    body = world.hand.wait_search(tx)
    assert world.callback(world.hand.on_search(body, []), world.hand.signer).status_code == 200
    return tx


def _poles(found: dict[str, Any]) -> dict[tuple[str, str], tuple[int, int, bool]]:
    return {
        (p["bpp_id"], p["provider_id"]): (p["matched"], p["received"], p["truncated"])
        for p in found["poles"]
    }


def test_a_cut_is_said_per_pole_and_the_rest_comes_on_demand(world: World) -> None:
    tx = _everywhere(world)
    found = world.results(tx, wait_ms=10_000)
    assert found["complete"]
    capitale, estrie = world.sellers["capitale"], world.sellers["estrie"]
    # Each seller node sent two items of four: the Capitale's first two, nothing of the
    # Estrie's pôle, which is named all the same, with its count.
    assert _poles(found) == {
        (capitale, CAPITALE): (3, 2, True),
        (capitale, ESTRIE): (1, 0, True),
        (estrie, CAPITALE): (3, 2, True),
        (estrie, ESTRIE): (1, 0, True),
    }
    assert found["counts"]["truncated"] is True
    assert (found["counts"]["matched"], found["counts"]["received"]) == (8, 4)
    assert found["notice"].startswith("Résultats partiels : 4 pôle(s) sur 4")
    assert f"/api/searches/{tx}/more" in found["notice"]

    # Asking for the Estrie's pôle by name fetches its items (a signed follow-up search to
    # each seller node, for that pôle), then shows them.
    apples = world.api("GET", f"/api/searches/{tx}?provider={ESTRIE}&wait_ms=10000").json()
    assert apples["complete"]
    assert [o["item_id"] for o in apples["offers"]] == [APPLES, APPLES]
    assert {(p["bpp_id"], p["received"], p["truncated"]) for p in apples["poles"]} == {
        (capitale, 1, False),
        (estrie, 1, False),
    }

    # The rest of the Capitale's pôle, on demand.
    response = world.api("POST", f"/api/searches/{tx}/more", json={"provider": CAPITALE})
    assert response.status_code == 202, response.text
    pages = response.json()["pages"]
    assert {(p["bpp_id"], p["provider_id"], p["start"], p["status"]) for p in pages} == {
        (capitale, CAPITALE, 2, "ACK"),
        (estrie, CAPITALE, 2, "ACK"),
    }
    whole = world.results(tx, wait_ms=10_000)
    assert whole["complete"] and whole["pages_pending"] == []
    assert set(_poles(whole).values()) == {(3, 3, False), (1, 1, False)}
    assert whole["counts"]["truncated"] is False and whole["notice"] is None
    assert sorted(o["item_id"] for o in whole["offers"]) == sorted(
        [SYRUP, CURDS, CHIPS, APPLES] * 2
    )
    # Nothing left to ask for.
    again = world.api("POST", f"/api/searches/{tx}/more", json={})
    assert again.status_code == 200 and again.json()["pages"] == []
    # The event stream replays every answer, pages included, each with its seller's counts.
    stream = world.api("GET", f"/api/searches/{tx}/events?wait_ms=1000").text
    events = [
        json.loads(line[len("data: ") :])
        for block in stream.split("\n\n")
        if block.startswith("event: resultats")
        for line in block.splitlines()
        if line.startswith("data: ")
    ]
    assert len(events) == 7  # 2 first answers, 2 pages for the Estrie, 2 for the Capitale, hand
    # Each event gives the counts so far of the pôles its callback brought: the latest per pôle.
    latest = {
        (e["bpp_id"], p["provider_id"]): (p["received"], p["truncated"])
        for e in events
        for p in e["poles"]
    }
    assert {pole: v for (bpp, pole), v in latest.items() if bpp == capitale} == {
        CAPITALE: (3, False),
        ESTRIE: (1, False),
    }


def test_more_refuses_what_it_cannot_do(world: World) -> None:
    tx = _everywhere(world)
    world.results(tx, wait_ms=10_000)
    for body, status, path in (
        ({"provider": "pole-inconnu"}, 404, "provider"),
        ({"size": 0}, 400, "size"),
        ({"pole": CAPITALE}, 400, "pole"),
    ):
        response = world.api("POST", f"/api/searches/{tx}/more", json=body)
        assert response.status_code == status, response.text
        assert response.json()["error"]["path"] == path
    unknown = world.api("POST", "/api/searches/inconnue/more", json={})
    assert unknown.status_code == 404


def test_regions_by_name(world: World) -> None:
    for typed in ("Capitale-Nationale", "capitale nationale", "QC-03", "qc-3"):
        response = world.api("POST", "/api/searches", json={"text": "érable", "region": typed})
        assert response.status_code == 202, response.text
        found = world.results(response.json()["transaction_id"])
        assert found["params"]["region"] == "QC-03"
    response = world.api("POST", "/api/searches", json={"region": "Narnia"})
    assert response.status_code == 400
    assert response.json()["error"]["path"] == "region"
    assert "Estrie" in response.json()["error"]["message"]
    tx = world.search(region="Saguenay–Lac-Saint-Jean")
    assert world.results(tx)["params"]["region"] == "QC-02"
    origin = world.api("GET", f"/api/searches/{tx}?origin=Chaudière-Appalaches")
    assert origin.status_code == 200 and origin.json()["filters"]["origin"] == ["QC-12"]


def test_a_page_is_waited_for_and_not_asked_twice(world: World) -> None:
    """A page asked for is due until its seller answers (``complete`` stays false, ``wait_ms``
    waits for it); a seller whose page brings nothing new is not asked the same again."""
    hand = world.hand
    tx = world.search(region="QC-11")
    first = hand.wait_search(tx)
    apple = {"id": "pommes-gaspe", "descriptor": {"name": "Pommes de Gaspé"}}
    pole = {
        "id": "pole-gaspe",
        "descriptor": {"name": "Pôle de la Gaspésie"},
        "items": [apple],
        "tags": [ProviderResults(total=5, shown=1).to_group()],
    }
    assert world.callback(hand.on_search(first, [pole]), hand.signer).status_code == 200
    found = world.results(tx, wait_ms=5_000)
    assert found["complete"] and _poles(found) == {
        (hand.keys.subscriber_id, "pole-gaspe"): (5, 1, True)
    }

    response = world.api("POST", f"/api/searches/{tx}/more", json={"provider": "pole-gaspe"})
    assert response.status_code == 202, response.text
    assert [(p["start"], p["status"]) for p in response.json()["pages"]] == [(1, "ACK")]
    follow_up = next(
        body
        for body in hand.searches
        if body["context"]["transaction_id"] == tx
        and body["context"]["message_id"] != first["context"]["message_id"]
    )
    intent = follow_up["message"]["intent"]
    assert intent["provider"] == {"id": "pole-gaspe"}
    assert parse_page(intent["tags"]) == Page(start=1)
    due = world.results(tx)
    assert not due["complete"] and due["state"] == "en_attente"
    assert [p["start"] for p in due["pages_pending"]] == [1]
    assert due["poles"][0]["page_pending"] is True
    # Asked again while the page is due: nothing new is sent.
    assert world.api("POST", f"/api/searches/{tx}/more", json={}).json()["pages"] == []

    # The seller's page brings nothing new (the same item): the count stands, not asked again.
    again = {**pole, "tags": [ProviderResults(total=5, shown=1, start=1).to_group()]}
    assert world.callback(hand.on_search(follow_up, [again]), hand.signer).status_code == 200
    done = world.results(tx, wait_ms=5_000)
    assert done["complete"] and done["pages_pending"] == []
    assert done["counts"]["truncated"] and done["notice"]
    assert world.api("POST", f"/api/searches/{tx}/more", json={}).json()["pages"] == []
