"""Real parts for the gateway tests: small seller endpoints on loopback (many sellers on one
uvicorn server, each under its own path), signed search bodies, header checks."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reseau_poles.protocol.keys import SubscriberKeys, open_challenge
from tests.registry.conftest import Participant, UvicornThread

ACK = b'{"message":{"ack":{"status":"ACK"}}}'
NACK = b'{"message":{"ack":{"status":"NACK"}},"error":{"code":"30000","message":"non"}}'


@dataclass
class Delivery:
    seller: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def message_id(self) -> str:
        return json.loads(self.body)["context"]["message_id"]


@dataclass
class Seller:
    name: str
    keys: SubscriberKeys
    url: str
    behaviour: str = "ack"  # ack, nack, slow
    delay: float = 3.0

    @property
    def subscriber_id(self) -> str:
        return self.keys.subscriber_id


@dataclass
class SellerHost:
    """One uvicorn server standing for many seller nodes: ``/{name}/search`` records what
    arrives and answers by the seller's behaviour; ``/{name}/on_subscribe`` answers the
    registry's challenge."""

    sellers: dict[str, Seller] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)

    def __post_init__(self) -> None:
        async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

        self.server = UvicornThread(asgi)

    def start(self) -> SellerHost:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def add(self, name: str, behaviour: str = "ack") -> Seller:
        keys = SubscriberKeys.generate(f"{name}.vendeur.example", f"k-{name}")
        seller = Seller(name, keys, f"{self.server.url}/{name}", behaviour)
        self.sellers[name] = seller
        return seller

    def received(self, message_id: str) -> list[Delivery]:
        return [d for d in list(self.deliveries) if d.message_id == message_id]

    def wait_for(self, message_id: str, count: int, timeout: float = 5.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.received(message_id)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        return self.received(message_id)

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        name, _, action = scope["path"].strip("/").partition("/")
        seller = self.sellers.get(name)
        status, content = 404, b"{}"
        if seller is not None and action == "on_subscribe":
            challenge = json.loads(body)["challenge"]
            answer = open_challenge(seller.keys.encryption, challenge)
            status, content = 200, json.dumps({"answer": answer}).encode()
        elif seller is not None and action == "search":
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            self.deliveries.append(Delivery(name, headers, body, time.monotonic()))
            status, content = 200, ACK
            if seller.behaviour == "nack":
                status, content = 400, NACK
            elif seller.behaviour == "slow":
                await asyncio.sleep(seller.delay)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": content})


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


NO_LOCATION = object()  # ``city=NO_LOCATION``: a context without ``location`` (Beckn 1.1)


def search_body(
    bap: str | Participant,
    *,
    city: Any = "QC-03",
    domain: str = "PLA:ALIMENTS",
    bpp_id: str | None = None,
    message_id: str | None = None,
) -> bytes:
    context: dict[str, Any] = {
        "domain": domain,
        "location": {"city": {"code": city}, "country": {"code": "CAN"}},
        "action": "search",
        "version": "1.1.0",
        "bap_id": bap if isinstance(bap, str) else bap.keys.subscriber_id,
        # A participant's own registered address; a bare id, an address nobody registered.
        "bap_uri": f"https://{bap}/beckn" if isinstance(bap, str) else bap.url,
        "transaction_id": str(uuid.uuid4()),
        "message_id": message_id or str(uuid.uuid4()),
        "timestamp": now_rfc3339(),
        "ttl": "PT30S",
    }
    if city is NO_LOCATION:
        del context["location"]
    if bpp_id:
        context["bpp_id"] = bpp_id
    message = {"intent": {"item": {"descriptor": {"name": "sirop d'érable"}}}}
    return json.dumps(
        {"context": context, "message": message}, ensure_ascii=False, separators=(",", ":")
    ).encode()


def message_id_of(body: bytes) -> str:
    return json.loads(body)["context"]["message_id"]
