"""Webhooks to the pôle's own software: subscriptions through the API, events queued with the
change that caused them, delivered by the outbox worker to a real loopback receiver that
fails the first attempts, signed with HMAC-SHA256 (``t=…,v1=…``) and checked by the receiver
with ``verify_signature``; the signature scheme itself under hypothesis."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI, Request, Response
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from reseau_poles.network.tables import outbox_table
from reseau_poles.participant.webhooks import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    WebhookSignatureError,
    sign,
    verify_signature,
    webhook_table,
)
from reseau_poles.storage import make_metadata
from tests.registry.conftest import UvicornThread

from .conftest import Network
from .support import CAPITALE, ESTRIE, SYRUP
from .test_lifecycle import api, api_key, confirm, move


@dataclass
class Receiver:
    """The pôle's software: answers ``status`` for the first ``failures`` attempts, then 200;
    checks every signature with the subscription's secret."""

    failures: int = 0
    status: int = 503
    secret: str = ""
    attempts: list[dict[str, Any]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        app = FastAPI()

        @app.post("/crochet")
        async def hook(request: Request) -> Response:
            raw = await request.body()
            try:
                verify_signature(self.secret, request.headers.get(SIGNATURE_HEADER), raw)
                verified = True
            except WebhookSignatureError:
                verified = False
            with self.arrived:
                self.attempts.append(
                    {"headers": dict(request.headers), "body": raw, "verified": verified}
                )
                refuse = len(self.attempts) <= self.failures
                self.arrived.notify_all()
            if refuse:
                return Response("indisponible", status_code=self.status)
            return Response(status_code=204 if verified else 401)

        self.server = UvicornThread(app)

    @property
    def url(self) -> str:
        return f"{self.server.url}/crochet"

    def wait(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.attempts) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.attempts)} livraison(s) sur {count}"
                self.arrived.wait(left)
            return list(self.attempts)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    hook.server.start()
    try:
        yield hook
    finally:
        hook.server.stop()


def subscribe(network: Network, key: str, receiver: Receiver, **body: Any) -> dict[str, Any]:
    answer = api(
        network, "POST", f"/api/providers/{CAPITALE}/webhooks", key, {"url": receiver.url, **body}
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    receiver.secret = created["secret"]
    return created


def webhook_rows(network: Network) -> list[dict[str, Any]]:
    engine = network.seller_app.state.service.engine
    with engine.connect() as connection:
        rows = connection.execute(
            select(outbox_table)
            .where(outbox_table.c.action.like("webhook:%"))
            .order_by(outbox_table.c.id)
        ).mappings()
        return [dict(row) for row in rows]


def test_delivery_is_retried_signed_and_idempotent(network: Network, receiver: Receiver) -> None:
    key = api_key(network)
    created = subscribe(
        network, key, receiver, event_types=["order.confirmed", "fulfillment.changed"]
    )
    assert created["secret"].startswith("whsec_") and created["active"] is True
    receiver.failures = 2  # the pôle's software is down for the first two attempts

    _transaction, order = confirm(network, (SYRUP, 6))
    attempts = receiver.wait(3)
    assert all(a["verified"] for a in attempts)
    assert len({a["headers"][EVENT_ID_HEADER.lower()] for a in attempts}) == 1
    assert len({a["body"] for a in attempts}) == 1  # the same bytes every time
    event = json.loads(attempts[-1]["body"])
    assert event["type"] == "order.confirmed" and event["owner_id"] == CAPITALE
    assert event["id"] == attempts[0]["headers"][EVENT_ID_HEADER.lower()]
    assert event["data"]["order_id"] == order["id"]
    assert event["data"]["order"]["quote"]["price"] == order["quote"]["price"]
    assert attempts[0]["headers"][EVENT_TYPE_HEADER.lower()] == "order.confirmed"
    # a wrong secret or a changed byte does not verify
    header = attempts[-1]["headers"][SIGNATURE_HEADER.lower()]
    with pytest.raises(WebhookSignatureError):
        verify_signature("whsec_autre", header, attempts[-1]["body"])
    with pytest.raises(WebhookSignatureError):
        verify_signature(receiver.secret, header, attempts[-1]["body"] + b" ")

    # the worker records the delivery after the third attempt
    deadline = time.monotonic() + 5
    while True:
        (row,) = webhook_rows(network)
        if row["status"] == "delivered" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (row["status"], row["attempts"], row["last_http_status"]) == ("delivered", 3, 204)
    listed = api(
        network, "GET", f"/api/providers/{CAPITALE}/webhooks/{created['id']}/deliveries", key
    ).json()["deliveries"]
    assert [(d["event_type"], d["status"], d["attempts"]) for d in listed] == [
        ("order.confirmed", "delivered", 3)
    ]
    assert listed[0]["delivered_at"].endswith("Z") and listed[0]["last_http_status"] == 204

    # a fulfilment change reaches the software too; a cancellation is not subscribed
    assert move(network, key, order["id"], "Packed").status_code == 200
    (changed,) = receiver.wait(4)[3:]
    event = json.loads(changed["body"])
    assert event["type"] == "fulfillment.changed"
    assert (event["data"]["previous_state"], event["data"]["state"]) == ("Pending", "Packed")
    assert event["data"]["on_status_message_id"]
    answer = api(
        network,
        "POST",
        f"/api/providers/{CAPITALE}/orders/{order['id']}/cancel",
        key,
        {"reason_code": "rupture"},
    )
    assert answer.status_code == 200
    assert [row["action"] for row in webhook_rows(network)] == [
        "webhook:order.confirmed",
        "webhook:fulfillment.changed",
    ]


def test_every_seller_event_and_no_event_without_its_change(
    network: Network, receiver: Receiver
) -> None:
    key = api_key(network)
    subscribe(network, key, receiver)  # every event ("*")
    # a refused confirm changes nothing: no event either
    refused = network.call("confirm", {"order": {**_order(300)}})
    assert refused["error"]["code"] == "40002"
    assert webhook_rows(network) == []

    transaction, order = confirm(network, (SYRUP, 6))
    network.call(
        "update",
        {
            "update_target": "order.items",
            "order": {
                "id": order["id"],
                "items": [{"id": SYRUP, "quantity": {"selected": {"count": 8}}}],
            },
        },
        transaction,
    )
    for state in ("Packed", "Out-for-delivery", "Order-delivered"):
        assert move(network, key, order["id"], state).status_code == 200
    network.call("rating", {"ratings": [{"id": order["id"], "value": "4"}]}, transaction)
    engine = network.seller_app.state.service.engine
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE seller_providers SET phone = '+1-418-555-0199' WHERE id = :id"),
            {"id": CAPITALE},
        )
    network.call("support", {"support": {"ref_id": order["id"]}}, transaction)
    _t2, other = confirm(network, (SYRUP, 6))
    network.call("cancel", {"order_id": other["id"]}, _t2)

    kinds = [
        "order.confirmed",
        "order.updated",
        "fulfillment.changed",
        "fulfillment.changed",
        "fulfillment.changed",
        "rating.received",
        "support.requested",
        "order.confirmed",
        "order.cancelled",
    ]
    attempts = receiver.wait(len(kinds))
    events = [json.loads(a["body"]) for a in attempts]
    assert sorted(e["type"] for e in events) == sorted(kinds)
    by_type = {e["type"]: e for e in events}
    assert by_type["order.updated"]["data"]["items"] == {SYRUP: {"from": 6, "to": 8}}
    assert by_type["rating.received"]["data"]["ratings"][0]["value"] == "4"
    assert by_type["order.cancelled"]["data"]["restocked"] == {SYRUP: 6}
    assert all(a["verified"] for a in attempts)


def _order(count: int) -> dict[str, Any]:
    return {
        "provider": {"id": CAPITALE},
        "items": [{"id": SYRUP, "quantity": {"selected": {"count": count}}}],
        "fulfillments": [{"id": "cueillette-vanier"}],
        "billing": {"name": "CPE Les Bourgeons"},
        "payments": [{"type": "POST-FULFILLMENT"}],
    }


def test_management_and_refusals(network: Network, receiver: Receiver) -> None:
    key = api_key(network)
    path = f"/api/providers/{CAPITALE}/webhooks"
    answer = api(network, "POST", path, key, {"url": "ftp://x"})
    assert answer.status_code == 400 and answer.json()["error"]["path"] == "url"
    answer = api(network, "POST", path, key, {"url": receiver.url, "event_types": ["order.eaten"]})
    assert answer.status_code == 400 and answer.json()["error"]["path"].startswith("event_types")
    answer = api(network, "POST", path, key, {"url": receiver.url, "secret": "le mien"})
    assert answer.status_code == 400 and answer.json()["error"]["path"] == "secret"

    created = subscribe(network, key, receiver, description="Logiciel de la coop")
    listed = api(network, "GET", path, key).json()
    (only,) = listed["webhooks"]
    assert only["id"] == created["id"] and "secret" not in only
    assert created["secret"].startswith(only["secret_prefix"])
    assert "order.confirmed" in listed["event_types"]
    other = api_key(network, ESTRIE)
    assert api(network, "GET", f"/api/providers/{ESTRIE}/webhooks", other).json()["webhooks"] == []
    assert api(network, "DELETE", f"{path}/{created['id']}", other).status_code == 403
    assert (
        api(
            network, "DELETE", f"/api/providers/{ESTRIE}/webhooks/{created['id']}", other
        ).status_code
        == 404
    )

    # a 410 from the receiver ends the delivery at once (no retry)
    receiver.failures, receiver.status = 1, 410
    confirm(network, (SYRUP, 6))
    receiver.wait(1)
    deadline = time.monotonic() + 5
    while webhook_rows(network)[0]["status"] != "failed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    assert len(receiver.attempts) == 1
    (failed,) = api(network, "GET", f"{path}/{created['id']}/deliveries", key).json()["deliveries"]
    assert (failed["status"], failed["last_http_status"]) == ("failed", 410)
    assert api(network, "GET", f"{path}/{created['id']}/deliveries", other).status_code == 403
    assert api(network, "GET", f"{path}/999/deliveries", key).status_code == 404

    # deleted: no new event is queued for it
    assert api(network, "DELETE", f"{path}/{created['id']}", key).status_code == 204
    assert api(network, "DELETE", f"{path}/{created['id']}", key).status_code == 404
    assert api(network, "DELETE", f"{path}/abc", key).status_code == 404
    confirm(network, (SYRUP, 6))
    assert len(webhook_rows(network)) == 1


def test_a_role_gets_its_own_table() -> None:
    metadata = make_metadata()
    table = webhook_table(metadata, "buyer")
    assert table.name == "buyer_webhooks" and "owner_id" in table.c
    assert {index.name for index in table.indexes} == {"ix_buyer_webhooks_owner"}


# --- the signature scheme --------------------------------------------------------------------

secrets_ = st.text(min_size=1, max_size=40)
bodies = st.binary(max_size=500)
times = st.integers(min_value=1_600_000_000, max_value=2_000_000_000)


@given(secrets_, bodies, times)
def test_signature_verifies_at_its_time(secret: str, body: bytes, t: int) -> None:
    header = sign(secret, body, t)
    assert header.startswith(f"t={t},v1=")
    assert verify_signature(secret, header, body, now=t + 299) == t
    # a second v1 (secret rotation) does not hide the good one
    assert verify_signature(secret, f"{header},v1=00ff", body, now=t) == t


@given(secrets_, bodies, times, st.integers(min_value=0, max_value=499), st.integers(1, 255))
def test_any_changed_byte_or_stale_time_fails(
    secret: str, body: bytes, t: int, position: int, flip: int
) -> None:
    header = sign(secret, body, t)
    if body:
        changed = bytearray(body)
        changed[position % len(body)] ^= flip
        with pytest.raises(WebhookSignatureError):
            verify_signature(secret, header, bytes(changed), now=t)
    with pytest.raises(WebhookSignatureError):
        verify_signature(secret, header, body, now=t + 301)
    with pytest.raises(WebhookSignatureError):
        verify_signature(secret + "x", header, body, now=t)


@given(st.one_of(st.none(), st.text(max_size=60)))
def test_malformed_headers_fail_cleanly(header: str | None) -> None:
    with pytest.raises(WebhookSignatureError):
        verify_signature("whsec_x", header, b"{}", now=1_700_000_000)
