"""Faults on real processes (``reseau-poles <role> serve``): the registry killed, a seller
node killed with SIGKILL between confirm and on_confirm, a buyer node down while its
callbacks are due. After each: nothing lost, nothing twice, stock consistent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI, Request

from reseau_poles.buyer.app import BUYER_MIGRATIONS
from reseau_poles.buyer.repositories import organisations as buyer_repo
from reseau_poles.buyer.repositories import searches as buyer_search_repo
from reseau_poles.keystore import KeyFiles
from reseau_poles.network import InboundMessage, NetworkSettings, NodeNetwork
from reseau_poles.protocol.keys import SubscriberKeys, open_challenge
from reseau_poles.seller.app import SELLER_MIGRATIONS
from reseau_poles.storage import make_engine, make_session_factory, write_session
from tests.registry.conftest import ParticipantHost, UvicornThread, new_keys
from tests.reliability.conftest import record
from tests.reliability.processes import Process, node_process, registry_process, subscribe
from tests.reliability.support import context, encode, signer_of
from tests.seller.support import CAPITALE, SYRUP, load_catalog

# Tens of seconds each (processes started, killed, restarted): `make reliability` only.
pytestmark = pytest.mark.reliability

REGISTRY_ID = "registre.pannes.example"
SCHOOL = {
    "gps": "46.7784,-71.2837",
    "address": "1100, boul. de la Cafétéria, Québec (Québec) G1V 4E2",
    "city": {"code": "QC-03"},
    "country": {"code": "CAN"},
}
BILLING = {
    "name": "Centre de services scolaire de la Capitale",
    "address": "1900, rue Côté, Québec (Québec) G1N 3Y5",
    "email": "comptes.fournisseurs@cscapitale.example",
    "phone": "+1-418-555-0100",
}


def order(count: int) -> dict[str, Any]:
    return {
        "provider": {"id": CAPITALE},
        "items": [{"id": SYRUP, "quantity": {"selected": {"count": count}}}],
        "fulfillments": [{"id": "livraison-froid", "stops": [{"type": "end", "location": SCHOOL}]}],
        "billing": BILLING,
        "payments": [{"type": "POST-FULFILLMENT"}],
    }


def seller_database(tmp: Path, syrup_stock: int = 240) -> tuple[str, int]:
    url = f"sqlite:///{tmp / 'seller.sqlite'}"
    engine = make_engine(url)
    try:
        SELLER_MIGRATIONS.migrate(engine)
        items = load_catalog(engine, syrup_stock=syrup_stock)
    finally:
        engine.dispose()
    return url, items[SYRUP]


def stock_of(database_url: str, item_id: int) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT quantity FROM seller_stock WHERE item_id = :i"), {"i": item_id}
                ).scalar_one()
            )
    finally:
        engine.dispose()


def count(database_url: str, sql: str, **params: Any) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql), params).scalar_one())
    finally:
        engine.dispose()


@dataclass
class BuyerSide:
    """The buyer's receiving end, in this process: verifies every callback through the
    registry (real signatures) and records those it ACKed. ``refusing`` answers 503 first."""

    keys: SubscriberKeys
    registry_url: str
    refusing: bool = False
    delay: float = 0.0  # seconds a callback is held before its ACK (a slow receiver)
    arrived: list[tuple[str, str]] = field(default_factory=list)  # verified, not yet ACKed
    acked: list[tuple[str, str]] = field(default_factory=list)  # (action, message_id)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        network = NodeNetwork(
            subscriber_id=self.keys.subscriber_id,
            role="BAP",
            signer=signer_of(self.keys),
            settings=NetworkSettings(
                registry_url=self.registry_url, registry_subscriber_id=REGISTRY_ID
            ),
        )

        @contextlib.asynccontextmanager
        async def lifespan(_app: FastAPI) -> Iterator[None]:  # type: ignore[misc]
            async with network:
                yield

        app = FastAPI(lifespan=lifespan)
        network.install(app)

        @app.post("/on_subscribe")
        async def on_subscribe(request: Request) -> dict[str, str]:
            challenge = json.loads(await request.body())["challenge"]
            return {"answer": open_challenge(self.keys.encryption, challenge)}

        async def receive(message: InboundMessage) -> None:
            with self.lock:
                self.arrived.append((message.action, message.message_id))
            if self.delay:
                await asyncio.sleep(self.delay)
            with self.lock:
                self.acked.append((message.action, message.message_id))

        network.serve_protocol(app, receive)

        async def gated(scope: Any, receive: Any, send: Any) -> None:
            """In front of everything: while ``refusing``, a protocol call gets a bare 503
            (no NACK: a receiver that is down, not one that refuses the message)."""
            path = scope.get("path", "")
            if self.refusing and scope["type"] == "http" and path != "/on_subscribe":
                with self.lock:
                    self.refused += 1
                body = b'{"error":{"code":"20000","message":"indisponible"}}'
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": body})
                return
            await app(scope, receive, send)

        self.server = UvicornThread(gated)

    @property
    def url(self) -> str:
        return self.server.url

    def of(self, action: str) -> list[str]:
        with self.lock:
            return [message_id for name, message_id in self.acked if name == action]


def prepare(seller_url: str, buyer: BuyerSide, ctx: dict[str, Any], message: Any) -> None:
    """select then init on ``ctx``'s transaction, each answered, before its confirm (the
    seller refuses a confirm without its quote and terms)."""
    for action in ("select", "init"):
        step = dict(ctx, action=action, message_id=str(uuid.uuid4()))
        answer = signed_post(
            f"{seller_url}/{action}", buyer.keys, encode({"context": step, "message": message})
        )
        assert answer.status_code == 200, answer.text
        assert wait_for(lambda a=action: len(buyer.of(f"on_{a}")) >= 1, timeout=20)


def signed_post(url: str, keys: SubscriberKeys, body: bytes) -> httpx.Response:
    return httpx.post(
        url,
        content=body,
        headers={"Authorization": signer_of(keys).sign(body), "Content-Type": "application/json"},
        timeout=15,
    )


def wait_for(predicate: Any, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Process]:
    process = registry_process(tmp_path, REGISTRY_ID).start()
    yield process
    process.stop()


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in reversed(started):
        process.stop()


def start_seller(
    tmp: Path, registry: Process, processes: list[Process], **env: str
) -> tuple[Process, SubscriberKeys, str, int]:
    keys = new_keys("vendeur")
    KeyFiles(tmp / "seller-keys").write(keys)
    database_url, syrup = seller_database(tmp)
    seller = node_process(
        tmp,
        "vendeur",
        "seller",
        database_url=database_url,
        subscriber_id=keys.subscriber_id,
        key_dir=tmp / "seller-keys",
        registry=registry,
        registry_id=REGISTRY_ID,
        **env,
    )
    processes.append(seller)
    seller.start()
    subscribe(registry.url, keys, seller.url, type="BPP")
    return seller, keys, database_url, syrup


def test_registry_down_cached_keys_then_clean_refusal_then_recovery(
    tmp_path: Path, registry: Process, processes: list[Process]
) -> None:
    ttl = 3.0
    seller, _keys, _db, _syrup = start_seller(
        tmp_path,
        registry,
        processes,
        RESEAU_POLES_LOOKUP_CACHE_TTL=str(ttl),
        RESEAU_POLES_LOOKUP_NEGATIVE_TTL="0.5",
        RESEAU_POLES_LOOKUP_TIMEOUT="2",
    )
    host = ParticipantHost()
    host.server.start()
    try:
        buyer = host.add(new_keys("acheteur"))
        subscribe(registry.url, buyer.keys, buyer.url, type="BAP")

        def search() -> httpx.Response:
            ctx = context("search", bap=buyer.keys.subscriber_id, bap_uri=buyer.url)
            body = encode({"context": ctx, "message": {"intent": {}}})
            return signed_post(f"{seller.url}/search", buyer.keys, body)

        first = search()
        assert first.status_code == 200, first.text
        cached_at = time.monotonic()
        registry.kill(signal.SIGKILL)

        # Inside the cache's lifetime the node still verifies with the key it has.
        during = search()
        assert during.status_code == 200, during.text
        kept = 0
        while time.monotonic() - cached_at < ttl - 0.5:
            assert search().status_code == 200
            kept += 1
            time.sleep(0.2)

        # Past it: a clean refusal that says why, quickly, without a 5xx.
        time.sleep(max(0.0, ttl + 0.3 - (time.monotonic() - cached_at)))
        started = time.monotonic()
        refused = search()
        refusal_seconds = time.monotonic() - started
        assert refused.status_code == 401, refused.text
        error = refused.json()["error"]
        assert error["code"] == "30016"
        assert "registre" in error["message"].lower()
        assert refusal_seconds < 3.0

        # The registry comes back (same port, database, keys): the node recovers by itself.
        registry.start()
        recovered_at = time.monotonic()
        assert wait_for(lambda: search().status_code == 200, timeout=10, step=0.2)
        recovery_seconds = time.monotonic() - recovered_at
        record(
            "fault",
            fault="registry_down",
            cached_ok=kept + 1,
            refusal_status=refused.status_code,
            refusal_code=error["code"],
            refusal_message=error["message"][:160],
            refusal_seconds=round(refusal_seconds, 3),
            recovery_seconds=round(recovery_seconds, 3),
        )
    finally:
        host.server.stop()


def test_seller_killed_between_confirm_and_on_confirm(
    tmp_path: Path, registry: Process, processes: list[Process]
) -> None:
    buyer = BuyerSide(new_keys("acheteur"), registry.url)
    buyer.server.start()
    try:
        subscribe(registry.url, buyer.keys, buyer.url, type="BAP")
        seller, seller_keys, database_url, syrup = start_seller(
            tmp_path, registry, processes, RESEAU_POLES_OUTBOX_LEASE="2"
        )
        stock_before = stock_of(database_url, syrup)
        transaction_id = str(uuid.uuid4())
        ctx = context(
            "confirm",
            bap=buyer.keys.subscriber_id,
            bap_uri=buyer.url,
            bpp=seller_keys.subscriber_id,
            bpp_uri=seller.url,
            transaction_id=transaction_id,
        )
        prepare(seller.url, buyer, ctx, {"order": order(12)})
        buyer.refusing = True  # from the on_confirm on
        body = encode({"context": ctx, "message": {"order": order(12)}})
        confirmed = signed_post(f"{seller.url}/confirm", buyer.keys, body)
        assert confirmed.status_code == 200, confirmed.text
        # The order is taken (stock down), the on_confirm waits in the outbox: the buyer's
        # receiver answers 503 until we let it through.
        assert wait_for(lambda: buyer.refused >= 1, timeout=10)
        assert stock_of(database_url, syrup) == stock_before - 12
        seller.kill(signal.SIGKILL)
        killed_with_pending = count(
            database_url,
            "SELECT count(*) FROM network_outbox WHERE action = 'on_confirm' "
            "AND delivered_at IS NULL",
        )
        assert killed_with_pending == 1
        assert buyer.of("on_confirm") == []

        buyer.refusing = False
        seller.start()
        restarted = time.monotonic()
        assert wait_for(lambda: len(buyer.of("on_confirm")) >= 1, timeout=20)
        delivery_seconds = time.monotonic() - restarted
        time.sleep(1.5)  # long enough for a duplicate to show up if there were one
        assert buyer.of("on_confirm") == [ctx["message_id"]]
        assert count(database_url, "SELECT count(*) FROM seller_orders") == 1
        assert stock_of(database_url, syrup) == stock_before - 12

        # The same confirm sent again after the crash: the same order, no stock taken twice.
        again = dict(ctx, message_id=str(uuid.uuid4()))
        body = encode({"context": again, "message": {"order": order(12)}})
        assert signed_post(f"{seller.url}/confirm", buyer.keys, body).status_code == 200
        assert wait_for(lambda: len(buyer.of("on_confirm")) >= 2, timeout=10)
        assert count(database_url, "SELECT count(*) FROM seller_orders") == 1
        assert stock_of(database_url, syrup) == stock_before - 12
        record(
            "fault",
            fault="seller_sigkill_before_on_confirm",
            refused_attempts_before_kill=buyer.refused,
            delivery_after_restart_seconds=round(delivery_seconds, 3),
            on_confirm_delivered=len(buyer.of("on_confirm")),
            orders=1,
        )
    finally:
        buyer.server.stop()


def test_seller_killed_while_on_confirm_is_in_flight(
    tmp_path: Path, registry: Process, processes: list[Process]
) -> None:
    """The harder interleaving: the buyer has the on_confirm and is working on it (slow
    receiver) when the seller dies, so the seller never learns it was received. Its outbox
    sends it again once the lease ends; the buyer's replay guard recognises the message id,
    the outbox takes that answer as "already received": one business effect, row delivered."""
    buyer = BuyerSide(new_keys("acheteur"), registry.url, delay=3.0)
    buyer.server.start()
    try:
        subscribe(registry.url, buyer.keys, buyer.url, type="BAP")
        seller, seller_keys, database_url, syrup = start_seller(
            tmp_path, registry, processes, RESEAU_POLES_OUTBOX_LEASE="2"
        )
        stock_before = stock_of(database_url, syrup)
        ctx = context(
            "confirm",
            bap=buyer.keys.subscriber_id,
            bap_uri=buyer.url,
            bpp=seller_keys.subscriber_id,
            bpp_uri=seller.url,
        )
        prepare(seller.url, buyer, ctx, {"order": order(6)})
        body = encode({"context": ctx, "message": {"order": order(6)}})
        assert signed_post(f"{seller.url}/confirm", buyer.keys, body).status_code == 200
        in_flight = lambda: any(a == "on_confirm" for a, _ in buyer.arrived)  # noqa: E731
        assert wait_for(in_flight, timeout=10)
        seller.kill(signal.SIGKILL)  # the receiver is still holding it
        assert wait_for(lambda: len(buyer.of("on_confirm")) == 1, timeout=10)

        seller.start()
        sql = "SELECT count(*) FROM network_outbox WHERE action = 'on_confirm' AND status = :s"
        assert wait_for(lambda: count(database_url, sql, s="delivered") == 1, timeout=30)
        attempts = count(
            database_url, "SELECT max(attempts) FROM network_outbox WHERE action = 'on_confirm'"
        )
        assert attempts >= 2  # it was sent again after the restart
        assert buyer.of("on_confirm") == [ctx["message_id"]]  # but acted upon once
        assert count(database_url, "SELECT count(*) FROM seller_orders") == 1
        assert stock_of(database_url, syrup) == stock_before - 6
        record(
            "fault",
            fault="seller_sigkill_on_confirm_in_flight",
            delivery_attempts=attempts,
            on_confirm_acted_upon=len(buyer.of("on_confirm")),
            outbox_status="delivered",
        )
    finally:
        buyer.server.stop()


def test_buyer_node_down_while_callbacks_are_due(
    tmp_path: Path, registry: Process, processes: list[Process]
) -> None:
    seller, _seller_keys, _database_url, _syrup = start_seller(tmp_path, registry, processes)
    buyer_keys = new_keys("acheteur")
    KeyFiles(tmp_path / "buyer-keys").write(buyer_keys)
    buyer_db = f"sqlite:///{tmp_path / 'buyer.sqlite'}"
    engine = make_engine(buyer_db)
    BUYER_MIGRATIONS.migrate(engine)
    factory = make_session_factory(engine)
    with write_session(factory) as session:
        buyer_repo.add_organisation(session, "css", "Centre de services scolaire")
    buyer = node_process(
        tmp_path,
        "acheteur",
        "buyer",
        database_url=buyer_db,
        subscriber_id=buyer_keys.subscriber_id,
        key_dir=tmp_path / "buyer-keys",
        registry=registry,
        registry_id=REGISTRY_ID,
    )
    processes.append(buyer)
    buyer.start()
    subscribe(registry.url, buyer_keys, buyer.url, type="BAP", regions=["*"])
    buyer.kill(signal.SIGKILL)  # down (a crash) before any callback is due

    # Searches the buyer node made before it went down: the seller answers them while it is.
    searches = 20
    transactions: list[str] = []
    for _ in range(searches):
        transaction_id = str(uuid.uuid4())
        ctx = context(
            "search",
            bap=buyer_keys.subscriber_id,
            bap_uri=buyer.url,
            transaction_id=transaction_id,
        )
        with write_session(factory) as session:
            buyer_search_repo.insert_search(
                session,
                transaction_id=transaction_id,
                message_id=ctx["message_id"],
                organisation_id="css",
                params={"query": "sirop"},
            )
        body = encode({"context": ctx, "message": {"intent": {}}})
        answer = signed_post(f"{seller.url}/search", buyer_keys, body)
        assert answer.status_code == 200, answer.text  # ACKed: the seller owes a callback
        transactions.append(transaction_id)
    engine.dispose()
    time.sleep(2.0)  # several delivery attempts fail against the closed port

    buyer.start()
    back = time.monotonic()

    def delivered() -> int:
        return count(
            buyer_db,
            "SELECT count(DISTINCT transaction_id) FROM buyer_callbacks WHERE action = 'on_search'",
        )

    assert wait_for(lambda: delivered() == searches, timeout=30, step=0.2), delivered()
    seconds = time.monotonic() - back
    time.sleep(1.0)
    rows = count(buyer_db, "SELECT count(*) FROM buyer_callbacks WHERE action = 'on_search'")
    assert rows == searches  # one callback per search, none twice
    record(
        "fault",
        fault="buyer_down_callbacks_due",
        callbacks_due=searches,
        delivered=delivered(),
        rows=rows,
        all_delivered_seconds_after_restart=round(seconds, 3),
    )
