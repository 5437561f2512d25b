"""Rate limits of the seller node's management API, per pôle: past its bucket a pôle's key
gets 429 ``trop_de_requetes`` with ``Retry-After``; another pôle's key is still answered; a
request without a valid key gets 401 and counts against nobody; the bucket refills."""

from __future__ import annotations

import time
from typing import Any

import pytest

from .support import CAPITALE, ESTRIE
from .test_api import Management, api  # noqa: F401  (fixture)


@pytest.fixture
def api_overrides() -> dict[str, Any]:
    return {"api_rate_burst": 5, "api_rate_per_second": 0.5}


def test_a_pole_past_its_rate_gets_429_and_the_other_pole_does_not(
    api: Management,  # noqa: F811
) -> None:
    base = f"/api/providers/{CAPITALE}"
    statuses = [api.call("GET", base).status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5  # the burst
    assert 429 in statuses[5:]
    refused = api.call("GET", base)
    assert refused.status_code == 429, refused.text
    error = refused.json()["error"]
    assert error["code"] == "trop_de_requetes"
    assert error["path"] == "headers.X-API-Key"
    assert "par seconde" in error["message"]
    retry_after = int(refused.headers["Retry-After"])
    assert retry_after >= 1

    # Another pôle's key has its own bucket.
    assert api.call("GET", f"/api/providers/{ESTRIE}", key=api.other_key).status_code == 200
    # Unknown key: 401 as always (not counted, not refused for the rate).
    unknown = api.call("GET", base, key="rpv_inconnue")
    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == "non_authentifie"

    time.sleep(retry_after)
    assert api.call("GET", base).status_code == 200
