"""What the operator meets on day one: turning down an application, keys added or reset on
the operator's word, keys expiring soon, the audit log between two dates (dates at the
extremes refused with a clear answer), a suspension without a reason refused, and commands
whose output stays whole when piped."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from reseau_poles.keystore import KeyFiles
from reseau_poles.network.registry_client import RegistryRefusal, encode, signer_for
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.registry.cli import app
from reseau_poles.registry.requests import parse_moment

from .conftest import RunningRegistry

runner = CliRunner()


def admin_args(registry: RunningRegistry, tmp_path: Path) -> list[str]:
    folder = tmp_path / "cles-operateur"
    if not KeyFiles(folder).exists():
        KeyFiles(folder).write(registry.operator)
    return ["admin", "--registry", registry.url, "--keys", str(folder)]


def refusal(call) -> RegistryRefusal:  # type: ignore[no-untyped-def]
    with pytest.raises(RegistryRefusal) as caught:
        call()
    return caught.value


def test_reject_an_application_never_approved(registry_factory, tmp_path: Path) -> None:
    registry: RunningRegistry = registry_factory(policy="approval")
    applicant = registry.join()
    sid = applicant.keys.subscriber_id
    admin = admin_args(registry, tmp_path)

    result = runner.invoke(app, [*admin, "reject", sid, "--reason", "inconnu du réseau"])
    assert result.exit_code == 0, result.output
    assert "refusée" in result.output
    assert refusal(lambda: registry.admin.subscriber(sid)).code == "15005"
    entry = registry.admin.audit(subscriber_id=sid, action="reject")[0]
    assert entry["reason"] == "inconnu du réseau" and entry["before"]["status"] == (
        "UNDER_SUBSCRIPTION"
    )
    # The identifier is free again: a fresh application, with another key.
    again = registry.host.add(SubscriberKeys.generate(sid, "autre-cle"))
    assert registry.subscribe(again).status_code == 200
    assert registry.admin.subscriber(sid)["status"] == "UNDER_SUBSCRIPTION"

    # Approved once: a participant is suspended, not rejected, even when an update that
    # widens its reach puts it back in UNDER_SUBSCRIPTION.
    registry.admin.change("approve", sid, "ok")
    assert registry.subscribe(again, regions=["QC-03", "QC-05"]).status_code == 200
    assert registry.admin.subscriber(sid)["status"] == "UNDER_SUBSCRIPTION"
    refused = refusal(lambda: registry.admin.reject(sid))
    assert (refused.status, refused.code) == (409, "15007")
    assert "suspendez" in refused.message
    result = runner.invoke(app, [*admin, "reject", "inconnu.example"])
    assert result.exit_code == 1 and "15005" in result.output


def test_add_and_reset_key_refusals(registry: RunningRegistry) -> None:
    participant = registry.join()
    sid = participant.keys.subscriber_id
    record = participant.keys.public_record()

    # The key it already has: a new key needs a new key_id.
    refused = refusal(lambda: registry.admin.add_key(sid, record))
    assert (refused.status, refused.code, refused.path) == (409, "15002", "key_id")
    # Unknown participant; a public key that is not one.
    other = SubscriberKeys.generate(sid, "k-nouvelle").public_record()
    assert refusal(lambda: registry.admin.add_key("inconnu.example", other)).code == "15005"
    broken = {**other, "signing_public_key": "pas-une-cle"}
    refused = refusal(lambda: registry.admin.add_key(sid, broken))
    assert (refused.status, refused.path) == (400, "signing_public_key")
    # A window past the last representable moment: a clear refusal, not a 500.
    body = {
        "action": "add_key",
        "subscriber_id": sid,
        **{k: other[k] for k in ("key_id", "signing_public_key", "encr_public_key")},
        "valid_from": "9999-12-31T23:00:00-05:00",
    }
    refused = refusal(lambda: registry.admin.post(f"/admin/subscribers/{sid}/keys", body))
    assert (refused.status, refused.path) == (400, "valid_from")
    body["valid_from"] = "9999-12-31T00:00:00Z"
    refused = refusal(lambda: registry.admin.post(f"/admin/subscribers/{sid}/keys", body))
    assert (refused.status, refused.path) == (400, "valid_from")
    # Another action's body: refused (the action is part of what is signed).
    body = {**body, "action": "revoke_key", "valid_from": None}
    refused = refusal(lambda: registry.admin.post(f"/admin/subscribers/{sid}/keys", body))
    assert (refused.status, refused.path) == (400, "action")

    # add_key with a short window: listed at once, and among the keys expiring soon.
    after = registry.admin.add_key(sid, other, valid_days=3, reason="renouvellement")
    assert [k["key_id"] for k in after["keys"]] == [participant.keys.key_id, "k-nouvelle"]
    soon = registry.admin.expiring_keys(7)
    assert [(k["subscriber_id"], k["key_id"]) for k in soon] == [(sid, "k-nouvelle")]
    assert 2.9 <= soon[0]["days_left"] <= 3 and soon[0]["expired"] is False
    assert registry.admin.expiring_keys(0) == []


def test_audit_between_dates(registry: RunningRegistry, tmp_path: Path) -> None:
    participant = registry.join()
    sid = participant.keys.subscriber_id
    admin = registry.admin
    assert admin.audit(subscriber_id=sid, since="2000-01-01")
    assert admin.audit(subscriber_id=sid, until="2000-01-01") == []
    assert admin.audit(subscriber_id=sid, since="9999-12-30") == []
    entry = admin.audit(subscriber_id=sid)[0]
    assert admin.audit(subscriber_id=sid, since=entry["at"])[0]["id"] == entry["id"]
    assert admin.audit(subscriber_id=sid, until=entry["at"]) == []

    for bad, path in (
        ("10000-01-01", "since"),
        ("0001-01-01", "since"),
        ("9999-12-31T23:59:59-05:00", "since"),
        ("hier", "since"),
        ("", "since"),
    ):
        refused = refusal(lambda bad=bad: admin.audit(since=bad))
        assert (refused.status, refused.code, refused.path) == (400, "15000", path), bad
    refused = refusal(lambda: admin.audit(since="2026-05-02", until="2026-05-01"))
    assert (refused.status, refused.path) == (400, "until")

    # The CLI: a clear message and exit 1, never a traceback.
    args = admin_args(registry, tmp_path)
    result = runner.invoke(app, [*args, "audit", "--since", "99999-01-01"])
    assert result.exit_code == 1, result.output
    assert "since" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, [*args, "audit", "--since", "2000-01-01", "--subscriber", sid])
    assert result.exit_code == 0 and sid in result.output


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
def test_parse_moment_refuses_or_answers_utc(text: str) -> None:
    from reseau_poles.protocol.errors import ProtocolError

    try:
        moment = parse_moment(text, "since")
    except ProtocolError as exc:
        assert exc.path == "since"
    else:
        assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0
        assert 1970 <= moment.year <= 9999


@given(st.datetimes(timezones=st.timezones()))
@settings(max_examples=200, deadline=None)
def test_parse_moment_takes_any_iso_datetime(moment) -> None:  # type: ignore[no-untyped-def]
    from reseau_poles.protocol.errors import ProtocolError

    try:
        parsed = parse_moment(moment.isoformat(), "until")
    except ProtocolError as exc:
        assert exc.path == "until" and "limites" in exc.message
    else:
        # The offset written (an ambiguous local hour's fold is not part of ISO 8601).
        assert parsed == datetime.fromisoformat(moment.isoformat())


def test_suspend_needs_a_reason(registry: RunningRegistry, tmp_path: Path) -> None:
    sid = registry.join().keys.subscriber_id
    args = admin_args(registry, tmp_path)
    result = runner.invoke(app, [*args, "suspend", sid])
    assert result.exit_code == 2
    assert "motif est obligatoire" in result.output
    body = encode({"action": "suspend", "subscriber_id": sid, "reason": "  "})
    response = registry.http.post(
        f"/admin/subscribers/{sid}/suspend",
        content=body,
        headers={"Authorization": signer_for(registry.operator).sign(body)},
    )
    assert response.status_code == 400
    assert response.json()["error"]["paths"] == "reason"
    assert registry.admin.subscriber(sid)["status"] == "SUBSCRIBED"
    result = runner.invoke(app, [*args, "suspend", sid, "--reason", "factures impayées"])
    assert result.exit_code == 0 and "SUSPENDED" in result.output


def test_revoke_key_with_an_empty_key_id_says_what_is_missing(
    registry: RunningRegistry, tmp_path: Path
) -> None:
    sid = registry.join().keys.subscriber_id
    args = admin_args(registry, tmp_path)
    result = runner.invoke(app, [*args, "revoke-key", sid, ""])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "key_id manquant" in text and f"admin show {sid}" in text
    result = runner.invoke(app, [*args, "revoke-key", "", "k"])
    assert result.exit_code == 2 and "identifiant du participant manquant" in result.output


def test_piped_output_is_whole(registry: RunningRegistry, tmp_path: Path) -> None:
    long_name = "cooperative-agroalimentaire-capitale-nationale.region-de-quebec-et-environs"
    keys = SubscriberKeys.generate(f"{long_name}.example", "cle-" + "x" * 60)
    registry.join(keys)
    sid = keys.subscriber_id
    args = admin_args(registry, tmp_path)

    # CliRunner's output is not a terminal: tab-separated lines, nothing cut or wrapped.
    result = runner.invoke(app, [*args, "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split("\t")[0] == "Identifiant"
    row = next(line.split("\t") for line in lines if line.startswith(sid))
    assert row[:3] == [sid, "BPP", "SUBSCRIBED"] and row[-1] == keys.key_id

    result = runner.invoke(app, [*args, "show", sid, "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["subscriber_id"] == sid and shown["keys"][0]["key_id"] == keys.key_id
    result = runner.invoke(app, [*args, "show", sid])
    assert any(line.split("\t")[0] == keys.key_id for line in result.output.splitlines())

    result = runner.invoke(app, [*args, "audit", "--subscriber", sid])
    assert any(line.split("\t")[4] == sid for line in result.output.splitlines()[2:])
    result = runner.invoke(app, [*args, "list", "--json"])
    assert json.loads(result.output)["total"] >= 1
