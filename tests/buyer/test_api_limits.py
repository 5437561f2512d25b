"""Rate limits of the buyer's client API, per organisation, on a real buyer node with real
seller nodes: one organisation flooding ``POST /api/searches`` gets 429 ``trop_de_requetes``
with ``Retry-After`` while another organisation's search still goes out; the bucket refills;
a request without a valid key is answered 401 and counts against nobody."""

from __future__ import annotations

import time
from typing import Any

import pytest

from reseau_poles.buyer.repositories import organisations as repo
from reseau_poles.storage import make_session_factory, write_session

from .conftest import World


@pytest.fixture
def buyer_overrides() -> dict[str, Any]:
    # Searches: 3 at once, then one every 2 s; everything else: 30 at once, 10/s.
    return {
        "api_search_burst": 3,
        "api_search_rate_per_second": 0.5,
        "api_rate_burst": 30,
        "api_rate_per_second": 10.0,
    }


def other_organisation(world: World) -> str:
    with write_session(make_session_factory(world.service.engine)) as session:
        repo.add_organisation(session, "chu-sherbrooke", "CHU de Sherbrooke")
        return repo.create_api_key(session, "chu-sherbrooke", "tests")


def flood(world: World, key: str | None = None) -> tuple[int, Any]:
    """Searches until the first refusal: how many went, and the refusal."""
    for sent in range(12):
        response = world.api("POST", "/api/searches", key=key, json={"region": "QC-05"})
        if response.status_code != 202:
            return sent, response
    raise AssertionError("12 recherches acceptées : aucune limite")


def test_one_organisation_flooding_searches_does_not_hold_back_another(world: World) -> None:
    accepted, refused = flood(world)
    assert accepted >= 3  # the burst
    assert refused.status_code == 429, refused.text
    assert refused.json() == {
        "error": {
            "code": "trop_de_requetes",
            "message": refused.json()["error"]["message"],
            "path": "headers.X-API-Key",
        }
    }
    assert "Trop de requêtes" in refused.json()["error"]["message"]
    retry_after = int(refused.headers["Retry-After"])
    assert retry_after >= 1

    # Past its rate, a search is refused before its body is read: not even parsed (the JSON
    # guard would answer 400 to this nesting), nor the next page of a search (the same bucket).
    refused_early = world.http.post(
        f"{world.buyer_url}/api/searches",
        content=b"[" * 5000 + b"]" * 5000,
        headers={"X-API-Key": world.api_key, "Content-Type": "application/json"},
    )
    assert refused_early.status_code == 429, refused_early.text
    assert refused_early.json()["error"]["code"] == "trop_de_requetes"
    assert int(refused_early.headers["Retry-After"]) >= 1
    more = world.api("POST", "/api/searches/inconnue/more")
    assert more.status_code == 429, more.text

    # Another organisation's search still goes out, and is answered by the sellers.
    other = other_organisation(world)
    response = world.api("POST", "/api/searches", key=other, json={"region": "QC-05"})
    assert response.status_code == 202, response.text
    tx = response.json()["transaction_id"]
    results = world.api("GET", f"/api/searches/{tx}", key=other, params={"wait_ms": "10000"})
    assert results.status_code == 200 and results.json()["complete"], results.text

    # The flooding organisation's other calls take from its general bucket: still answered.
    assert world.api("GET", f"/api/searches/{tx}").status_code == 404  # not its search

    # No key, or an unknown one: 401, never 429, and nobody's bucket is touched.
    for headers in ({}, {"X-API-Key": "rpa_inconnue"}):
        response = world.http.post(
            f"{world.buyer_url}/api/searches", json={"region": "QC-05"}, headers=headers
        )
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "non_authentifie"

    # The bucket refills: after Retry-After seconds, the next search goes.
    time.sleep(retry_after)
    response = world.api("POST", "/api/searches", json={"region": "QC-05"})
    assert response.status_code == 202, response.text
