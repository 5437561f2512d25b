"""Inbound pipeline rate of `reseau_poles.network` against a bare signature check.

The floor verifies one BECKN-006 signature over the body (digest + Ed25519), the least any
receiver must do. The pipeline adds what a node does on top, with a warm registry cache:
header checks, key lookup, JSON decode, signer = bap_id, replay guard, and (second figure)
the Beckn model. A figure near 1.0 means the pipeline costs little beyond the cryptography.

    python bench/network.py [--messages N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from datetime import UTC, datetime

from reseau_poles.network import Inbound, MemoryReplayGuard, RegistryLookup, SubscriberRecord
from reseau_poles.network.pipeline import inbound_pipeline
from reseau_poles.protocol import signing
from reseau_poles.protocol.keys import SubscriberKeys


def search(bap_id: str) -> bytes:
    context = {
        "domain": "PLA:ALIMENTS",
        "location": {"city": {"code": "QC-03"}, "country": {"code": "CAN"}},
        "action": "search",
        "version": "1.1.0",
        "bap_id": bap_id,
        "bap_uri": f"https://{bap_id}/beckn",
        "transaction_id": str(uuid.uuid4()),
        "message_id": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "ttl": "PT30S",
    }
    message = {"intent": {"item": {"descriptor": {"name": "sirop d'érable"}}}}
    return json.dumps(
        {"context": context, "message": message}, separators=(",", ":"), ensure_ascii=False
    ).encode()


def inbound(keys: SubscriberKeys, *, models: bool) -> Inbound:
    lookup = RegistryLookup("http://127.0.0.1:9", registry_public_key=keys.signing.public_key_b64)
    lookup.prime(
        [
            SubscriberRecord.from_json(  # type: ignore[list-item]
                {
                    "subscriber_id": keys.subscriber_id,
                    "type": "BAP",
                    # The URL the searches' bap_uri names (the pipeline checks it).
                    "url": f"https://{keys.subscriber_id}/beckn",
                    "key_id": keys.key_id,
                    "signing_public_key": keys.signing.public_key_b64,
                    "status": "SUBSCRIBED",
                }
            )
        ],
        ttl=3600,
    )
    return Inbound(
        "vendeur.example",
        "BPP",
        lookup,
        replay_guard=MemoryReplayGuard(),
        validate_models=models,
    )


async def main(messages: int, rounds: int) -> None:
    keys = SubscriberKeys.generate("acheteur.example")
    signer = signing.Signer(keys.subscriber_id, keys.key_id, keys.signing)
    public = keys.signing.public_key_b64
    floor_rates, bare_rates, model_rates = [], [], []
    for _ in range(rounds):
        batch = [search(keys.subscriber_id) for _ in range(messages)]
        signed = [(body, {"authorization": signer.sign(body)}) for body in batch]

        start = time.perf_counter()
        for body, headers in signed:
            signing.verify(body, headers["authorization"], public)
        floor_rates.append(messages / (time.perf_counter() - start))

        for rates, models in ((bare_rates, False), (model_rates, True)):
            pipeline = inbound_pipeline(inbound(keys, models=models))
            start = time.perf_counter()
            for body, headers in signed:
                await pipeline.verify(body, headers, "search")
            rates.append(messages / (time.perf_counter() - start))

    floor = statistics.median(floor_rates)
    bare = statistics.median(bare_rates)
    modelled = statistics.median(model_rates)
    print(f"signature seule              {floor:10.0f} msg/s")
    print(f"pipeline (sans modèle)       {bare:10.0f} msg/s   ratio {bare / floor:.2f}")
    print(f"pipeline (avec modèle Beckn) {modelled:10.0f} msg/s   ratio {modelled / floor:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.messages, arguments.rounds))
