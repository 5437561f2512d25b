"""Order callbacks from a seller the test drives (real registry, real signatures, the buyer
node over HTTP): unknown transactions and other sellers refused, forged callbacks refused,
exact duplicates ACKed once stored, a reused message id refused, unsolicited and late
on_status, a callback that arrives before the ACK; and a property test of the fulfilment
states the buyer keeps whatever order on_status arrive in."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reseau_poles.buyer.repositories import orders as order_repo
from reseau_poles.buyer.repositories import searches as repo
from reseau_poles.network import ACK_BODY, InboundMessage
from reseau_poles.participant.webhooks import EVENT_TYPE_HEADER, SIGNATURE_HEADER, verify_signature
from reseau_poles.protocol.keys import SubscriberKeys, open_challenge
from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.signing import Signer, parse_header
from reseau_poles.storage import read_session, utcnow
from tests.registry.conftest import UvicornThread, new_keys

from .conftest import World, _join

POLE = "pole-main"
ITEM = "courges-butternut"
PRICE = {"currency": "CAD", "value": "2.40"}
WAIT = {"wait_ms": "10000"}


@dataclass
class OrderHand:
    """A seller node the test drives: ACKs every request (and records it); the test writes
    and signs the callbacks. ``inline`` may answer a request before its ACK leaves."""

    keys: SubscriberKeys
    buyer_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    inline: Callable[[dict[str, Any]], None] | None = None

    def __post_init__(self) -> None:
        app = FastAPI()

        @app.post("/on_subscribe")
        async def on_subscribe(request: Request) -> Any:
            body = json.loads(await request.body())
            return JSONResponse({"answer": open_challenge(self.keys.encryption, body["challenge"])})

        @app.post("/{action}")
        def receive(action: str, body: dict[str, Any]) -> Response:
            if self.inline is not None:
                self.inline(body)
            with self.arrived:
                self.requests.append(body)
                self.arrived.notify_all()
            return Response(ACK_BODY, media_type="application/json")

        self.server = UvicornThread(app)
        self.http = httpx.Client(timeout=20)

    @property
    def signer(self) -> Signer:
        return Signer(self.keys.subscriber_id, self.keys.key_id, self.keys.signing)

    def wait(self, action: str, transaction_id: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for body in reversed(self.requests):
                    context = body["context"]
                    if context["action"] == action and context["transaction_id"] == transaction_id:
                        return body
                left = deadline - time.monotonic()
                assert left > 0, f"aucun {action} reçu pour {transaction_id}"
                self.arrived.wait(left)

    def callback(
        self, request: dict[str, Any], message: Any, *, error: Any = None, **context: Any
    ) -> bytes:
        ctx = dict(request["context"])
        ctx.update(
            action="on_" + ctx["action"],
            bpp_id=self.keys.subscriber_id,
            bpp_uri=self.server.url,
            timestamp=format_datetime(utcnow()),
            **context,
        )
        body: dict[str, Any] = {"context": ctx, "message": message}
        if error is not None:
            body["error"] = error
        return json.dumps(body, ensure_ascii=False).encode()

    def post(self, body: bytes, signer: Signer | None = None) -> httpx.Response:
        action = json.loads(body)["context"]["action"]
        return self.http.post(
            f"{self.buyer_url}/{action}",
            content=body,
            headers={
                "Authorization": (signer or self.signer).sign(body),
                "Content-Type": "application/json",
            },
        )


def fulfillment(state: str) -> dict[str, Any]:
    return {"id": "f1", "type": "livraison", "state": {"descriptor": {"code": state}}}


def order_message(state: str | None = None, **extra: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "provider": {"id": POLE},
        "items": [{"id": ITEM, "quantity": {"selected": {"count": 20}}, "price": PRICE}],
        "fulfillments": [fulfillment(state) if state else {"id": "f1", "type": "livraison"}],
        "quote": {
            "price": {"currency": "CAD", "value": "48.00"},
            "breakup": [
                {
                    "item": {"id": ITEM, "quantity": {"selected": {"count": 20}}, "price": PRICE},
                    "title": "Courges × 20",
                    "price": {"currency": "CAD", "value": "48.00"},
                }
            ],
        },
        **extra,
    }
    return {"order": order}


@pytest.fixture
def hand(world: World) -> Iterator[OrderHand]:
    seller = OrderHand(new_keys("gaspesie-commandes"), world.buyer_url)
    seller.server.start()
    _join(world.registry, seller.keys, seller.server.url, type="BPP", regions=["QC-11"])
    try:
        yield seller
    finally:
        seller.http.close()
        seller.server.stop()


def ack(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {"message": {"ack": {"status": "ACK"}}}


def nack(response: httpx.Response, status: int, code: str, path: str | None = None) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["message"]["ack"]["status"] == "NACK"
    assert payload["error"]["code"] == code, payload
    if path is not None:
        assert payload["error"]["paths"] == path, payload


def start_order(world: World, hand: OrderHand) -> tuple[str, dict[str, Any]]:
    body = {
        "provider": {"bpp_id": hand.keys.subscriber_id, "id": POLE},
        "items": [{"id": ITEM, "quantity": 20}],
        "fulfilment": {"type": "livraison", "address": "12, rue du Quai, Gaspé", "region": "QC-11"},
        "billing": {"name": "CISSS de la Gaspésie"},
        "payment": {"type": "POST-FULFILLMENT", "net_days": 30},
    }
    response = world.api("POST", "/api/orders", json=body)
    assert response.status_code == 202, response.text
    order_id = response.json()["id"]
    return order_id, hand.wait("select", order_id)


def read(world: World, order_id: str, **params: str) -> dict[str, Any]:
    response = world.api("GET", f"/api/orders/{order_id}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def request(world: World, hand: OrderHand, order_id: str, action: str) -> dict[str, Any]:
    response = world.api("POST", f"/api/orders/{order_id}/{action}", json={})
    assert response.status_code == 202, response.text
    return hand.wait(action, order_id)


def confirmed(world: World, hand: OrderHand) -> tuple[str, dict[str, Any]]:
    order_id, select = start_order(world, hand)
    ack(hand.post(hand.callback(select, order_message())))
    init = request(world, hand, order_id, "init")
    ack(hand.post(hand.callback(init, order_message())))
    confirm = request(world, hand, order_id, "confirm")
    ack(hand.post(hand.callback(confirm, order_message("Pending", id="GASP-1", status="ACTIVE"))))
    document = read(world, order_id)
    assert document["state"] == "confirmed" and document["seller_order_id"] == "GASP-1"
    return order_id, confirm


def test_unknown_foreign_and_forged_callbacks_are_refused(world: World, hand: OrderHand) -> None:
    order_id, select = start_order(world, hand)
    stranger = hand.callback(select, order_message(), transaction_id=str(uuid.uuid4()))
    nack(hand.post(stranger), 400, "20006", "context.transaction_id")
    # A real, registered seller answering for a transaction opened with another one.
    other = world.hand
    foreign = json.loads(hand.callback(select, order_message()))
    foreign["context"].update(bpp_id=other.keys.subscriber_id, bpp_uri=other.server.url)
    raw = json.dumps(foreign).encode()
    nack(hand.post(raw, other.signer), 400, "20006", "context.bpp_id")
    # A callback the buyer does not take at all.
    unknown_action = json.loads(hand.callback(select, {}))
    unknown_action["context"]["action"] = "on_payer"
    raw = json.dumps(unknown_action).encode()
    response = hand.http.post(
        f"{world.buyer_url}/on_payer",
        content=raw,
        headers={"Authorization": hand.signer.sign(raw), "Content-Type": "application/json"},
    )
    # (refused by the network layer's model check, or as an action this node does not take)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("20007", "40001")
    assert read(world, order_id)["state"] == "new"
    with read_session(world.service.factory) as session:
        assert repo.count_callbacks(session) == 0

    # Forged callbacks.
    body = hand.callback(select, order_message())
    # Signed, then changed on the way: the digest no longer matches.
    header = hand.signer.sign(body)
    tampered = body.replace(b'"48.00"', b'"4.80"')
    response = hand.http.post(
        f"{world.buyer_url}/on_select",
        content=tampered,
        headers={"Authorization": header, "Content-Type": "application/json"},
    )
    nack(response, 401, "20001")
    assert "WWW-Authenticate" in response.headers
    # Signed by someone else than the context's seller.
    impostor = Signer(
        world.hand.keys.subscriber_id, world.hand.keys.key_id, world.hand.keys.signing
    )
    nack(hand.post(body, impostor), 401, "20001", "context.bpp_id")
    # A key the registry never heard of.
    nobody = new_keys("inconnu")
    nack(hand.post(body, Signer(nobody.subscriber_id, nobody.key_id, nobody.signing)), 401, "20001")
    # Unsigned.
    unsigned = hand.http.post(
        f"{world.buyer_url}/on_select", content=body, headers={"Content-Type": "application/json"}
    )
    nack(unsigned, 401, "20001")
    document = read(world, order_id)
    assert document["state"] == "new" and document["quote"] is None
    assert document["pending"]["action"] == "select"


def test_an_exact_duplicate_is_acked_again_and_stored_once(world: World, hand: OrderHand) -> None:
    order_id, select = start_order(world, hand)
    body = hand.callback(select, order_message())
    ack(hand.post(body))
    # The seller lost our ACK and sends the very same bytes again (re-signed, as an outbox
    # does on each attempt, or with the very same header): ACK, nothing changes.
    header = hand.signer.sign(body)
    for headers in ({}, {"Authorization": header}, {"Authorization": header}):
        response = hand.http.post(
            f"{world.buyer_url}/on_select",
            content=body,
            headers={
                "Authorization": hand.signer.sign(body),
                "Content-Type": "application/json",
                **headers,
            },
        )
        ack(response)
    document = read(world, order_id)
    assert document["state"] == "selected"
    assert [e["kind"] for e in document["events"]].count("callback") == 1
    assert [e["kind"] for e in document["events"]].count("state_changed") == 1
    with read_session(world.service.factory) as session:
        assert repo.count_callbacks(session, order_id) == 1
    # Same message id, another body: not a copy, refused.
    changed = body.replace(b'"48.00"', b'"47.00"')
    nack(hand.post(changed), 400, "20002", "context.message_id")
    assert read(world, order_id)["quote"]["price"]["value"] == "48.00"
    # The search callbacks keep the network's replay window (unchanged behaviour).
    transaction_id = world.search(text="sirop", region="QC-11")
    search = world.hand.wait_search(transaction_id)
    catalog = world.hand.on_search(search, [])
    assert world.callback(catalog, world.hand.signer).status_code == 200
    assert world.callback(catalog, world.hand.signer).status_code == 401


def test_unsolicited_and_late_on_status(world: World, hand: OrderHand) -> None:
    order_id, confirm = confirmed(world, hand)

    def status(state: str, order_status: str = "ACTIVE") -> bytes:
        message = order_message(state, id="GASP-1", status=order_status)
        return hand.callback(confirm, message, message_id=str(uuid.uuid4()))

    packed, out, delivered = status("Packed"), status("Out-for-delivery"), status("Order-delivered")
    ack(hand.post(packed))
    assert read(world, order_id)["fulfillment"]["state"] == "Packed"
    ack(hand.post(delivered))  # Out-for-delivery skipped: allowed? No: Packed → delivered is not
    document = read(world, order_id)
    # The seller skipped a step the life cycle does not allow: stored, ACKed, not applied.
    assert document["fulfillment"]["state"] == "Packed"
    assert any(e["kind"] == "state_ignored" for e in document["events"])
    # The seller's outbox retrying the same on_status on several connections at once: every
    # copy ACKed, one stored, the state moved once.
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _i: hand.post(out), range(8)))
    for answer in answers:
        ack(answer)
    moved = [e for e in read(world, order_id)["events"] if e["kind"] == "fulfillment_changed"]
    assert [e["to"] for e in moved] == ["Pending", "Packed", "Out-for-delivery"]
    ack(hand.post(delivered))  # the same bytes again: a copy, ACKed, nothing moves
    ack(hand.post(status("Order-delivered", "COMPLETE")))
    document = read(world, order_id)
    assert document["fulfillment"]["state"] == "Order-delivered"
    assert document["status"] == "COMPLETE" and document["state"] == "completed"
    # A late, older on_status after delivery: stored and ACKed, the order stays delivered.
    ack(hand.post(status("Packed")))
    document = read(world, order_id)
    assert document["fulfillment"]["state"] == "Order-delivered"
    assert document["status"] == "COMPLETE"
    callbacks = [e for e in document["events"] if e["action"] == "on_status"]
    assert all(not e["detail"]["solicited"] for e in callbacks if e["kind"] == "callback")
    with read_session(world.service.factory) as session:
        # select, init, confirm, 5 distinct on_status (the copy is not stored twice)
        assert repo.count_callbacks(session, order_id) == 8


def test_a_callback_that_arrives_before_the_ack(world: World, hand: OrderHand) -> None:
    """A quick seller answers while its ACK is still on the way: the order must not go back
    to waiting when the ACK is recorded."""
    answers: list[httpx.Response] = []

    def answer_first(request: dict[str, Any]) -> None:
        if request["context"]["action"] == "select":
            answers.append(hand.post(hand.callback(request, order_message())))

    hand.inline = answer_first
    order_id, _select = start_order(world, hand)
    document = read(world, order_id, **WAIT)
    ack(answers[0])
    assert document["state"] == "selected" and document["pending"] is None
    time.sleep(0.2)
    document = read(world, order_id)
    assert document["pending"] is None and document["error"] is None


def test_a_seller_error_callback_and_a_dead_seller(world: World, hand: OrderHand) -> None:
    order_id, select = start_order(world, hand)
    error = {
        "code": "40002",
        "paths": "message.order.items[0].quantity.selected.count",
        "message": "Quantité non disponible : il reste 12 kilogramme(s).",
    }
    ack(hand.post(hand.callback(select, None, error=error)))
    document = read(world, order_id, **WAIT)
    assert document["pending"] is None and document["state"] == "new"
    assert document["error"] == {
        "action": "select",
        "code": "40002",
        "message": error["message"],
        "path": error["paths"],
        "source": "callback",
    }
    # The seller goes away: the next request fails, the order says so, nothing is pending.
    ack(hand.post(hand.callback(select, order_message(), message_id=str(uuid.uuid4()))))
    hand.server.stop()
    response = world.api("POST", f"/api/orders/{order_id}/init", params=WAIT, json={})
    assert response.status_code == 200, response.text
    failed = response.json()
    assert failed["pending"] is None and failed["error"]["source"] == "reseau"
    assert failed["state"] == "selected"


def test_webhooks_carry_order_events_to_the_organisation(world: World, hand: OrderHand) -> None:
    received: list[tuple[dict[str, str], bytes]] = []
    sink = FastAPI()

    @sink.post("/evenements")
    async def events(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(status_code=204)

    server = UvicornThread(sink).start()
    try:
        created = world.api(
            "POST",
            "/api/webhooks",
            json={"url": f"{server.url}/evenements", "event_types": ["order.confirmed"]},
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        assert secret.startswith("whsec_")
        listed = world.api("GET", "/api/webhooks").json()
        assert [w["id"] for w in listed["webhooks"]] == [created.json()["id"]]
        assert "secret" not in listed["webhooks"][0]
        bad = world.api("POST", "/api/webhooks", json={"url": "ftp://x", "event_types": ["*"]})
        assert bad.status_code == 400 and bad.json()["error"]["path"] == "url"
        bad = world.api(
            "POST", "/api/webhooks", json={"url": server.url, "event_types": ["order.paid"]}
        )
        assert bad.status_code == 400 and bad.json()["error"]["path"] == "event_types.0"

        order_id, _confirm = confirmed(world, hand)
        deadline = time.monotonic() + 10
        while not received:
            assert time.monotonic() < deadline, "aucun webhook reçu"
            time.sleep(0.05)
        headers, body = received[0]
        verify_signature(secret, headers[SIGNATURE_HEADER.lower()], body)
        assert headers[EVENT_TYPE_HEADER.lower()] == "order.confirmed"
        event = json.loads(body)
        assert event["type"] == "order.confirmed" and event["owner_id"] == "css-capitale"
        assert event["data"]["order"]["id"] == order_id
        assert event["data"]["order"]["seller_order_id"] == "GASP-1"
        time.sleep(0.3)
        assert len(received) == 1  # only the type asked for
        gone = world.api("DELETE", f"/api/webhooks/{created.json()['id']}")
        assert gone.status_code == 204
        assert world.api("DELETE", f"/api/webhooks/{created.json()['id']}").status_code == 404
    finally:
        server.stop()


# --- the state the buyer keeps, whatever order the on_status come in ----------------------------

FLOW = ["Pending", "Packed", "Agent-assigned", "Order-picked-up", "Out-for-delivery"]
FLOW += ["Order-delivered"]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.sampled_from([*FLOW, "Cancelled"]), min_size=1, max_size=8))
def test_fulfilment_state_only_moves_forward(world: World, states: list[str]) -> None:
    """Any sequence of seller-reported states (out of order, repeated, skipping): every
    callback is stored and ACKed, the kept state never moves back, and it is always one the
    seller reported."""
    service = world.buyer_app.state.orders
    seller = world.hand
    order_id = str(uuid.uuid4())
    now = utcnow()
    from reseau_poles.protocol.lifecycle import OrderLifecycle

    lifecycle = OrderLifecycle()
    for action in ("select", "init"):
        lifecycle.receive(action)
    lifecycle.set_fulfillment("f1", "livraison")
    lifecycle.receive("confirm")
    from reseau_poles.storage import write_session

    with write_session(service.factory) as session:
        order_repo.insert_order(
            session,
            {
                "id": order_id,
                "organisation_id": "css-capitale",
                "bpp_id": seller.keys.subscriber_id,
                "provider_id": POLE,
                "domain": "PLA:ALIMENTS",
                "city_code": "QC-11",
                "state": "confirmed",
                "status": "ACTIVE",
                "lifecycle": lifecycle.to_dict(),
                "fulfillment_id": "f1",
                "fulfillment_type": "livraison",
                "fulfillment_state": "Pending",
                "request": {},
                "created_at": now,
                "updated_at": now,
            },
        )
    rank = {state: index for index, state in enumerate(FLOW)}
    seen = "Pending"
    for state in states:
        body = {
            "context": {
                "action": "on_status",
                "transaction_id": order_id,
                "message_id": str(uuid.uuid4()),
                "bap_id": world.buyer_app.state.settings.subscriber_id,
                "bpp_id": seller.keys.subscriber_id,
            },
            "message": order_message(state, id="GASP-P"),
        }
        raw = json.dumps(body).encode()
        header = parse_header(seller.signer.sign(raw))
        message = InboundMessage("on_status", raw, body, header, None)  # type: ignore[arg-type]
        assert service.receive(message) is True
        document = service._read("css-capitale", order_id)  # in process: many examples
        kept = document["fulfillment"]["state"]
        if seen in ("Order-delivered", "Cancelled"):
            assert kept == seen  # terminal: nothing moves any more
        elif kept != "Cancelled":
            assert rank[kept] >= rank[seen]
        assert kept in {*states, "Pending"}
        seen = kept
        if kept == "Order-delivered":
            assert document["status"] == "COMPLETE"
        if kept == "Cancelled":
            assert document["status"] == "CANCELLED"
    with read_session(service.factory) as session:
        assert repo.count_callbacks(session, order_id) == len(states)
