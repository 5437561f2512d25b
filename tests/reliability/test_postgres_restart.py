"""PostgreSQL restarted under load, on a private cluster (initdb in a temporary folder, its
own port: the shared server on 5432 is never touched). A seller node process takes confirms
from several buyers at once while the database stops abruptly (``pg_ctl -m immediate``, as
in a crash) and comes back. Afterwards: every ACKed confirm is one order, no order twice,
the stock taken equals what the orders hold, and every ACKed confirm's on_confirm arrives."""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from reseau_poles.keystore import KeyFiles
from reseau_poles.seller.app import SELLER_MIGRATIONS
from reseau_poles.storage import make_engine
from tests.registry.conftest import new_keys
from tests.reliability.conftest import record
from tests.reliability.processes import PrivatePostgres, node_process, registry_process, subscribe
from tests.reliability.support import context, encode, signer_of
from tests.reliability.test_faults import REGISTRY_ID, BuyerSide, order, signed_post, wait_for
from tests.seller.support import SYRUP, load_catalog

pytestmark = pytest.mark.reliability

WORKERS = 6
LOAD_SECONDS = 6.0
OUTAGE_AT = 2.0
OUTAGE_SECONDS = 1.5
UNITS = 6


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    root = Path(tempfile.mkdtemp(prefix="rp-pg-"))
    try:
        cluster = PrivatePostgres(root).init()
    except (FileNotFoundError, RuntimeError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"PostgreSQL privé impossible ici (initdb/pg_ctl) : {exc}")
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError):
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def test_postgres_restarted_under_load(postgres: PrivatePostgres, tmp_path: Path) -> None:
    registry = registry_process(tmp_path, REGISTRY_ID).start()
    buyer = BuyerSide(new_keys("acheteur"), registry.url)
    buyer.server.start()
    seller = None
    try:
        subscribe(registry.url, buyer.keys, buyer.url, type="BAP")
        database_url = postgres.create_database("vendeur")
        engine = make_engine(database_url)
        SELLER_MIGRATIONS.migrate(engine)
        syrup = load_catalog(engine, syrup_stock=100_000)[SYRUP]
        engine.dispose()
        seller_keys = new_keys("vendeur")
        KeyFiles(tmp_path / "seller-keys").write(seller_keys)
        seller = node_process(
            tmp_path,
            "vendeur",
            "seller",
            database_url=database_url,
            subscriber_id=seller_keys.subscriber_id,
            key_dir=tmp_path / "seller-keys",
            registry=registry,
            registry_id=REGISTRY_ID,
        ).start()
        subscribe(registry.url, seller_keys, seller.url, type="BPP")

        outcomes: list[tuple[str, str, int, str]] = []  # (transaction, message, status, code)
        lock = threading.Lock()
        stop_at = time.monotonic() + LOAD_SECONDS

        def load() -> None:
            with httpx.Client(timeout=15) as client:
                while time.monotonic() < stop_at:
                    ctx = context(
                        "confirm",
                        bap=buyer.keys.subscriber_id,
                        bap_uri=buyer.url,
                        bpp=seller_keys.subscriber_id,
                        bpp_uri=seller.url,
                        transaction_id=str(uuid.uuid4()),
                    )
                    # The quote and the terms first, on the same transaction (the seller
                    # refuses a confirm without them); a step refused ends the attempt.
                    for action in ("select", "init", "confirm"):
                        step = (
                            ctx
                            if action == "confirm"
                            else dict(ctx, action=action, message_id=str(uuid.uuid4()))
                        )
                        body = encode({"context": step, "message": {"order": order(UNITS)}})
                        try:
                            response = client.post(
                                f"{seller.url}/{action}",
                                content=body,
                                headers={
                                    "Authorization": signer_of(buyer.keys).sign(body),
                                    "Content-Type": "application/json",
                                },
                            )
                            status = response.status_code
                            try:
                                error = response.json().get("error") or {}
                                code = str(error.get("code", ""))
                            except ValueError:
                                code = "non-JSON"
                        except httpx.HTTPError as exc:
                            status, code = 0, type(exc).__name__
                        if status != 200 or action == "confirm":
                            with lock:
                                outcomes.append(
                                    (ctx["transaction_id"], step["message_id"], status, code)
                                )
                            break

        threads = [threading.Thread(target=load) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        time.sleep(OUTAGE_AT)
        postgres.stop("immediate")  # the database disappears as in a crash
        time.sleep(OUTAGE_SECONDS)
        postgres.start()
        for thread in threads:
            thread.join(LOAD_SECONDS + 30)

        acked = {(t, m) for t, m, status, _ in outcomes if status == 200}
        statuses: dict[str, int] = {}
        for _, _, status, code in outcomes:
            key = f"{status} {code}".strip()
            statuses[key] = statuses.get(key, 0) + 1
        assert acked, statuses
        # During the outage: a 503 NACK the buyer may retry, never a 500 nor a dropped
        # connection.
        assert set(statuses) <= {"200", "503 30000"}, statuses

        # Every ACKed confirm's on_confirm arrives (the outbox is in the same database).
        wanted = {m for _, m in acked}
        assert wait_for(lambda: wanted <= set(buyer.of("on_confirm")), timeout=60, step=0.3), len(
            wanted - set(buyer.of("on_confirm"))
        )
        # The node is still healthy: a new confirm after the restart is taken.
        ctx = context(
            "confirm",
            bap=buyer.keys.subscriber_id,
            bap_uri=buyer.url,
            bpp=seller_keys.subscriber_id,
            bpp_uri=seller.url,
        )
        for action in ("select", "init", "confirm"):
            step = (
                ctx
                if action == "confirm"
                else dict(ctx, action=action, message_id=str(uuid.uuid4()))
            )
            after = signed_post(
                f"{seller.url}/{action}",
                buyer.keys,
                encode({"context": step, "message": {"order": order(UNITS)}}),
            )
            assert after.status_code == 200, after.text
        assert after.status_code == 200, after.text
        acked.add((ctx["transaction_id"], ctx["message_id"]))

        engine = make_engine(database_url)
        with engine.connect() as conn:
            orders = conn.execute(sa.text("SELECT transaction_id FROM seller_orders")).all()
            ordered_units = conn.execute(
                sa.text("SELECT coalesce(sum(quantity), 0) FROM seller_order_lines")
            ).scalar_one()
            left = conn.execute(
                sa.text("SELECT quantity FROM seller_stock WHERE item_id = :i"), {"i": syrup}
            ).scalar_one()
        engine.dispose()
        transactions = [row[0] for row in orders]
        assert len(transactions) == len(set(transactions)), "une commande en double"
        assert {t for t, _ in acked} <= set(transactions), "une commande ACKée perdue"
        assert len(transactions) <= len(outcomes) + 1
        assert ordered_units == UNITS * len(transactions)
        assert left == 100_000 - ordered_units, "stock incohérent avec les commandes"
        on_confirm = buyer.of("on_confirm")
        record(
            "fault",
            fault="postgres_restart_under_load",
            confirms_sent=len(outcomes) + 1,
            acked=len(acked),
            orders=len(transactions),
            answers=statuses,
            on_confirm_received=len(on_confirm),
            on_confirm_distinct=len(set(on_confirm)),
            outage_seconds=OUTAGE_SECONDS,
        )
        assert len(on_confirm) == len(set(on_confirm)), "un on_confirm reçu deux fois"
    finally:
        buyer.server.stop()
        if seller is not None:
            seller.kill(signal.SIGTERM)
        registry.stop()
