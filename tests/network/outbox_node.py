"""A minimal node for the crash test: optionally enqueues callbacks, then runs the outbox
worker until killed. ``python outbox_node.py DB_URL RECEIVER_URL COUNT SEED_HEX [RECORD_WINDOW]``"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime

from reseau_poles.network import NetworkClient, OutboxWorker, enqueue, migrate
from reseau_poles.protocol.keys import SigningKeyPair
from reseau_poles.protocol.signing import Signer
from reseau_poles.storage import make_engine, make_session_factory, write_session


def callback(number: int) -> bytes:
    context = {
        "domain": "PLA:ALIMENTS",
        "action": "on_status",
        "version": "1.1.0",
        "bap_id": "acheteur.example",
        "bap_uri": "https://acheteur.example/beckn",
        "bpp_id": "vendeur.example",
        "bpp_uri": "https://vendeur.example/beckn",
        "transaction_id": str(uuid.uuid4()),
        "message_id": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    message = {"order": {"id": f"commande-{number}", "status": "ACTIVE"}}
    return json.dumps({"context": context, "message": message}).encode()


async def deliver(engine, signer: Signer, record_window: float) -> None:  # type: ignore[no-untyped-def]
    async with NetworkClient(signer, timeout=2) as client:
        worker = OutboxWorker(
            engine,
            client,
            batch_size=2,
            poll_interval=0.05,
            base_delay=0.1,
            lease=1.0,
            record_window=record_window,
        )
        await worker.run()


def main() -> None:
    database_url, receiver_url, count, seed = sys.argv[1:5]
    record_window = float(sys.argv[5]) if len(sys.argv) > 5 else 0.05
    engine = make_engine(database_url)
    migrate(engine)
    if int(count):
        with write_session(make_session_factory(engine)) as session:
            for number in range(int(count)):
                enqueue(session, receiver_url, "on_status", callback(number))
    print("prêt", flush=True)
    signer = Signer("vendeur.example", "k1", SigningKeyPair.from_seed(bytes.fromhex(seed)))
    asyncio.run(deliver(engine, signer, record_window))


if __name__ == "__main__":
    main()
