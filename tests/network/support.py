"""Real parts for the network tests: uvicorn servers in threads, a registry stand-in that
serves the lookup contract and signs its answers, participants with real keys, messages."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response

from reseau_poles.network.inbound import Inbound, InboundMessage, install
from reseau_poles.network.pipeline import handler_step, inbound_pipeline, mount
from reseau_poles.network.transcript import Transcript
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.signing import Signer
from tests.conftest import free_port

DOMAIN = "PLA:ALIMENTS"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_rfc3339() -> str:
    return rfc3339(datetime.now(UTC))


@contextmanager
def serve(app: Any, port: int | None = None) -> Iterator[str]:
    """Run ``app`` on uvicorn (uvloop + httptools) in a thread; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("le serveur de test n'a pas démarré")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Participant:
    keys: SubscriberKeys
    type: str

    @property
    def subscriber_id(self) -> str:
        return self.keys.subscriber_id

    @property
    def key_id(self) -> str:
        return self.keys.key_id

    def signer(self) -> Signer:
        return Signer(self.keys.subscriber_id, self.keys.key_id, self.keys.signing)


def participant(subscriber_id: str, kind: str) -> Participant:
    return Participant(SubscriberKeys.generate(subscriber_id), kind)


@dataclass
class StandInRegistry:
    """The registry's lookup contract (PROTOCOL.md) in a few lines, with switches for tests."""

    subscriber_id: str = "registre.example"
    records: list[dict[str, Any]] = field(default_factory=list)
    hits: int = 0
    delay: float = 0.0
    down: bool = False
    forger: Signer | None = None
    revision: int | None = None  # GET /revision answers 404 while None

    def __post_init__(self) -> None:
        self.keys = SubscriberKeys.generate(self.subscriber_id)
        self.signer = Signer(self.subscriber_id, self.keys.key_id, self.keys.signing)
        self.app = FastAPI()
        self.app.post("/lookup")(self._lookup)
        self.app.get("/revision")(self._revision)
        self.app.get("/.well-known/reseau-poles/registry.json")(self._well_known)

    @property
    def public_key(self) -> str:
        return self.keys.signing.public_key_b64

    def add(
        self,
        who: Participant,
        *,
        url: str | None = None,
        status: str = "SUBSCRIBED",
        city: str = "QC-03",
        valid_until: datetime | None = None,
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        url = url or uri_of(who.subscriber_id)
        record = {
            "subscriber_id": who.subscriber_id,
            "url": url,
            "subscriber_url": url,
            "type": who.type,
            "domain": DOMAIN,
            "city": city,
            "country": "CAN",
            "key_id": who.key_id,
            "ukId": who.key_id,
            "unique_key_id": who.key_id,
            "signing_public_key": who.keys.signing.public_key_b64,
            "encr_public_key": who.keys.encryption.public_key_b64,
            "valid_from": rfc3339(now - timedelta(days=1)),
            "valid_until": rfc3339(valid_until or now + timedelta(days=365)),
            "status": status,
            "created": rfc3339(now),
            "updated": rfc3339(now),
        }
        self.records.append(record)
        return record

    def set_status(self, subscriber_id: str, status: str) -> None:
        for record in self.records:
            if record["subscriber_id"] == subscriber_id:
                record["status"] = status

    async def _well_known(self) -> dict[str, str]:
        return {
            "subscriber_id": self.subscriber_id,
            "key_id": self.keys.key_id,
            "signing_public_key": self.public_key,
        }

    async def _revision(self) -> Response:
        if self.revision is None:
            return Response(b"{}", status_code=404, media_type="application/json")
        return Response(json.dumps({"revision": self.revision}), media_type="application/json")

    async def _lookup(self, request: Request) -> Response:
        import asyncio

        self.hits += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.down:
            return Response(b"indisponible", status_code=503)
        filters = json.loads(await request.body() or b"{}")
        key_id = filters.get("key_id") or filters.get("ukId") or filters.get("unique_key_id")
        found = [
            record
            for record in self.records
            if all(
                wanted is None or record.get(name) == wanted
                for name, wanted in (
                    ("subscriber_id", filters.get("subscriber_id")),
                    ("key_id", key_id),
                    ("type", filters.get("type")),
                    ("domain", filters.get("domain")),
                    ("country", filters.get("country")),
                )
            )
            and (filters.get("city") in (None, "*") or record["city"] in (filters["city"], "*"))
        ]
        body = json.dumps(found, separators=(",", ":")).encode()
        signer = self.forger or self.signer
        return Response(
            body, media_type="application/json", headers={"Authorization": signer.sign(body)}
        )


def uri_of(subscriber_id: str) -> str:
    """The URL a stand-in participant is registered at, and which its messages name."""
    return f"https://{subscriber_id}/beckn"


def context(
    action: str,
    *,
    bap: str,
    bpp: str | None = None,
    bap_uri: str | None = None,
    message_id: str | None = None,
    transaction_id: str | None = None,
) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "domain": DOMAIN,
        "location": {"city": {"code": "QC-03"}, "country": {"code": "CAN"}},
        "action": action,
        "version": "1.1.0",
        "bap_id": bap,
        "bap_uri": bap_uri or uri_of(bap),
        "transaction_id": transaction_id or str(uuid.uuid4()),
        "message_id": message_id or str(uuid.uuid4()),
        "timestamp": now_rfc3339(),
        "ttl": "PT30S",
    }
    if bpp:
        ctx["bpp_id"] = bpp
        ctx["bpp_uri"] = uri_of(bpp)
    return ctx


def search_body(bap: str, **kwargs: Any) -> bytes:
    return json.dumps(
        {
            "context": context("search", bap=bap, **kwargs),
            "message": {"intent": {"item": {"descriptor": {"name": "sirop d'érable"}}}},
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def on_status_body(bap: str, bpp: str, **kwargs: Any) -> bytes:
    return json.dumps(
        {
            "context": context("on_status", bap=bap, bpp=bpp, **kwargs),
            "message": {"order": {"id": "commande-1", "status": "ACTIVE"}},
        },
        separators=(",", ":"),
    ).encode()


def protocol_app(
    inbound: Inbound,
    handle: Callable[[InboundMessage], None] | None = None,
    *,
    transcript: Transcript | None = None,
) -> FastAPI:
    """A node's protocol endpoint alone: ``inbound``'s pipeline, then ``handle`` (gets each
    accepted message), then the ACK; the node's error answers on every other route."""

    async def run(message: InboundMessage) -> None:
        if handle is not None:
            handle(message)

    app = FastAPI()
    install(app, inbound)
    pipeline = inbound_pipeline(inbound).append(handler_step(run))
    mount(app, pipeline, role=inbound.role, transcript=transcript)
    return app
