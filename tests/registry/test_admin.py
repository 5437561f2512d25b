"""The operator API: signed requests only, every action audited, statistics."""

from __future__ import annotations

import time

import httpx
import pytest

from reseau_poles.network.registry_client import AdminClient, RegistryRefusal, encode, signer_for
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.signing import Signer

from .conftest import OPERATOR_ID, RunningRegistry


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Signature")
    body = response.json()
    assert body["message"]["ack"]["status"] == "NACK"
    assert body["error"]["code"] == "15001"


def test_admin_refuses_anything_but_an_operator_signature(registry: RunningRegistry) -> None:
    http = registry.http
    operator = registry.operator
    stranger = SubscriberKeys.generate("curieux.example", "k")
    impostor = SubscriberKeys.generate(OPERATOR_ID, operator.key_id)  # right name, wrong key

    _refused(http.get("/admin/subscribers"))
    _refused(http.get("/admin/stats", headers={"Authorization": "Bearer secret"}))
    _refused(http.get("/admin/audit", headers={"Authorization": signer_for(stranger).sign(b"")}))
    _refused(http.get("/admin/audit", headers={"Authorization": signer_for(impostor).sign(b"")}))
    old = int(time.time()) - 3600
    expired = signer_for(operator).sign(b"", created=old, expires=old + 30)
    _refused(http.get("/admin/stats", headers={"Authorization": expired}))
    # Signed over another body than the one sent.
    body = encode({"action": "suspend", "subscriber_id": "x.example"})
    header = signer_for(operator).sign(b"{}")
    _refused(
        http.post(
            "/admin/subscribers/x.example/suspend", content=body, headers={"Authorization": header}
        )
    )

    # The operator's own signature works, and a POST's signature serves once.
    assert (
        http.get(
            "/admin/stats", headers={"Authorization": signer_for(operator).sign(b"")}
        ).status_code
        == 200
    )
    participant = registry.join()
    sid = participant.keys.subscriber_id
    body = encode({"action": "suspend", "subscriber_id": sid, "reason": "essai"})
    header = signer_for(operator).sign(body)
    first = http.post(
        f"/admin/subscribers/{sid}/suspend", content=body, headers={"Authorization": header}
    )
    assert first.status_code == 200, first.text
    _refused(
        http.post(
            f"/admin/subscribers/{sid}/suspend", content=body, headers={"Authorization": header}
        )
    )
    # A body signed for one action does not serve for another.
    body = encode({"action": "suspend", "subscriber_id": sid, "reason": "une autre fois"})
    response = http.post(
        f"/admin/subscribers/{sid}/reactivate",
        content=body,
        headers={"Authorization": signer_for(operator).sign(body)},
    )
    assert response.status_code == 400
    assert response.json()["error"]["paths"] == "action"


def test_operator_actions_are_audited(registry: RunningRegistry) -> None:
    admin = registry.admin
    participant = registry.join()
    sid = participant.keys.subscriber_id
    actor = f"operator:{OPERATOR_ID}|{registry.operator.key_id}"

    suspended = admin.change("suspend", sid, reason="paiements en souffrance")
    assert suspended["status"] == "SUSPENDED"
    admin.change("reactivate", sid)
    revoked = admin.revoke_key(sid, participant.keys.key_id, reason="clé perdue")
    assert revoked["keys"][0]["status"] == "REVOKED"

    entries = admin.audit(subscriber_id=sid)
    assert [e["action"] for e in entries] == ["revoke_key", "reactivate", "suspend", "subscribe"]
    revoke, reactivate, suspend, _ = entries
    assert suspend["actor"] == reactivate["actor"] == revoke["actor"] == actor
    assert suspend["reason"] == "paiements en souffrance"
    assert (suspend["before"]["status"], suspend["after"]["status"]) == ("SUBSCRIBED", "SUSPENDED")
    assert (reactivate["before"]["status"], reactivate["after"]["status"]) == (
        "SUSPENDED",
        "SUBSCRIBED",
    )
    assert revoke["key_id"] == participant.keys.key_id
    assert revoke["before"]["keys"][0]["status"] == "ACTIVE"
    assert revoke["after"]["keys"][0]["status"] == "REVOKED"
    assert all(e["at"].endswith("Z") for e in entries)
    assert admin.audit(action="suspend")[0]["id"] == suspend["id"]


def test_invalid_transitions_and_unknown_targets(registry: RunningRegistry) -> None:
    admin = registry.admin
    participant = registry.join()
    sid = participant.keys.subscriber_id
    with pytest.raises(RegistryRefusal) as refusal:
        admin.change("approve", sid)
    assert (refusal.value.status, refusal.value.code) == (409, "15007")
    with pytest.raises(RegistryRefusal) as refusal:
        admin.change("reactivate", sid)
    assert (refusal.value.status, refusal.value.code) == (409, "15007")
    with pytest.raises(RegistryRefusal) as refusal:
        admin.change("suspend", "inconnu.example", "essai")
    assert (refusal.value.status, refusal.value.code) == (404, "15005")
    with pytest.raises(RegistryRefusal) as refusal:
        admin.revoke_key(sid, "pas-de-cle")
    assert (refusal.value.status, refusal.value.code, refusal.value.path) == (
        404,
        "15005",
        "key_id",
    )
    with pytest.raises(RegistryRefusal) as refusal:
        admin.get("/admin/subscribers", limit="beaucoup")
    assert (refusal.value.status, refusal.value.code, refusal.value.path) == (400, "15000", "limit")
    assert [e["action"] for e in admin.audit()] == ["subscribe"]


def test_list_filter_and_statistics(registry: RunningRegistry) -> None:
    registry.join(regions=["QC-03"], type="BPP")
    registry.join(regions=["*"], type="BPP", domains=["PLA:ALIMENTS", "PLA:LOGISTIQUE"])
    buyer = registry.join(regions=["QC-06"], type="BAP")
    registry.admin.change("suspend", buyer.keys.subscriber_id, "essai")

    admin: AdminClient = registry.admin
    assert admin.subscribers()["total"] == 3
    assert admin.subscribers(type="bpp")["total"] == 2
    assert admin.subscribers(region="QC-03")["total"] == 2  # QC-03 and "*"
    assert admin.subscribers(domain="PLA:LOGISTIQUE")["total"] == 1
    suspended = admin.subscribers(status="SUSPENDED")["subscribers"]
    assert [s["subscriber_id"] for s in suspended] == [buyer.keys.subscriber_id]
    detail = admin.subscriber(buyer.keys.subscriber_id)
    assert detail["keys"][0]["valid_now"] is True

    stats = admin.stats()
    assert stats["by_status"] == {"SUBSCRIBED": 2, "SUSPENDED": 1}
    assert stats["by_type"] == {"BPP": 2}
    assert stats["by_domain"] == {"PLA:ALIMENTS": 2, "PLA:LOGISTIQUE": 1}
    assert stats["by_region"] == {"QC-03": 1, "*": 1}


def test_unknown_routes_and_methods_are_nacks(registry: RunningRegistry) -> None:
    response = registry.http.get("/nulle-part")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "15005"
    response = registry.http.get("/lookup")
    assert response.status_code == 405
    assert response.json()["message"]["ack"]["status"] == "NACK"


def test_signer_with_another_algorithm_is_refused(registry: RunningRegistry) -> None:
    header = (
        signer_for(registry.operator).sign(b"").replace('algorithm="ed25519"', 'algorithm="rsa"')
    )
    _refused(registry.http.get("/admin/stats", headers={"Authorization": header}))
    assert isinstance(signer_for(registry.operator), Signer)
