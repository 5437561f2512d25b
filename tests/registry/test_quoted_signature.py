"""The registry reads the whole signature header inside one pair of double quotes (ONDC's
Python helper) on subscribe and on the operator API, and nothing looser."""

from __future__ import annotations

from reseau_poles.network.registry_client import encode, signer_for

from .conftest import RunningRegistry, new_keys


def test_subscribe_accepts_the_quoted_form_only(registry: RunningRegistry) -> None:
    participant = registry.host.add(new_keys("guillemets"))
    body = encode(registry.record(participant))
    loose = f"'{signer_for(participant.keys).sign(body)}'"
    refused = registry.subscribe(participant, body=body, headers={"Authorization": loose})
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "15001"
    assert "mal formé" in refused.json()["error"]["message"]

    quoted = f'"{signer_for(participant.keys).sign(body)}"'
    response = registry.subscribe(participant, body=body, headers={"Authorization": quoted})
    assert response.status_code == 200, response.text
    assert response.json()["subscriber"]["status"] == "SUBSCRIBED"


def test_the_operator_api_accepts_the_quoted_form_only(registry: RunningRegistry) -> None:
    operator = registry.operator
    quoted = f'"{signer_for(operator).sign(b"")}"'
    assert registry.http.get("/admin/stats", headers={"Authorization": quoted}).status_code == 200
    twice = f'""{signer_for(operator).sign(b"")}""'
    refused = registry.http.get("/admin/stats", headers={"Authorization": twice})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "15001"
