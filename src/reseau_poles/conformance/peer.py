"""The tester as a participant of the network: its keys, its small HTTP server (where the node
under test sends its callbacks or requests, and where the registry sends its challenge), its
subscription, its lookups and its signed calls.

The server answers the registry's challenge with the tester's own encryption key, records
every other ``POST /{action}`` as it came (raw bytes, headers, arrival time) and answers it
with an ACK: judging the message is the checks' business, after the fact.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from reseau_poles.network.registry_client import unreachable
from reseau_poles.protocol.errors import KeyFormatError
from reseau_poles.protocol.jsonfast import wire
from reseau_poles.protocol.keys import (
    SubscriberKeys,
    ondc_open_challenge,
    open_challenge,
)
from reseau_poles.protocol.signing import Signer, verify

from .checks import Received, RegistryView, Sent
from .runner import Collector

DOMAIN = "PLA:ALIMENTS"
ACK = b'{"message":{"ack":{"status":"ACK"}}}'


class TesterError(Exception):
    """The tester cannot run (registry unreachable, subscription refused…); French message."""


def now_rfc3339() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def encode(payload: Any) -> bytes:
    return wire(payload)


class Inbox:
    """What reached the tester's server, in order of arrival."""

    def __init__(self, keys: SubscriberKeys) -> None:
        self.keys = keys
        self.registry_encryption_key: str | None = None  # for a challenge in ONDC's scheme
        self.messages: list[Received] = []
        self.changed = threading.Condition()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                event = await receive()
                if event["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif event["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if len(body) > 4_000_000:
                await _answer(send, 413, b'{"error":"trop volumineux"}')
                return
            if not event.get("more_body"):
                break
        path = scope["path"].strip("/")
        if scope["method"] != "POST" or not path or "/" in path:
            await _answer(send, 404, b'{"error":"adresse inconnue"}')
            return
        if path == "on_subscribe":
            try:
                answer = self.open(json.loads(body)["challenge"])
            except (ValueError, KeyError, TypeError):
                await _answer(send, 400, b'{"error":"defi illisible"}')
                return
            await _answer(send, 200, json.dumps({"answer": answer}).encode())
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        message = Received(path, body, headers, time.time())
        with self.changed:
            self.messages.append(message)
            self.changed.notify_all()
        await _answer(send, 200, ACK)

    def open(self, challenge: str) -> str:
        """The registry's challenge opened with the tester's key: a sealed box, else ONDC's
        scheme with the registry's published key (``registry_encryption_key``)."""
        try:
            return open_challenge(self.keys.encryption, challenge)
        except KeyFormatError:
            if not self.registry_encryption_key:
                raise
            return ondc_open_challenge(
                self.keys.encryption, self.registry_encryption_key, challenge
            )

    def wait(self, match: Callable[[Received], bool], timeout: float) -> Received | None:
        """The first message that ``match``es, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for message in self.messages:
                    if match(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)

    def all(self, match: Callable[[Received], bool]) -> list[Received]:
        with self.changed:
            return [m for m in self.messages if match(m)]


async def _answer(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass
class Tester:
    """The tester's identity and means: keys, server, registry, HTTP client."""

    keys: SubscriberKeys
    registry_url: str
    listen_host: str
    listen_port: int
    public_url: str
    beckn_type: str  # what the tester plays: BAP against a seller, BPP against a buyer
    timeout: float = 10.0
    say: Callable[[str], None] = lambda _text: None
    inbox: Inbox = field(init=False)
    http: httpx.Client = field(init=False)
    _server: Any = field(init=False, default=None)
    _thread: threading.Thread | None = field(init=False, default=None)
    registry_scheme: str = field(init=False, default="sealed_box")  # from the registry, at join

    def __post_init__(self) -> None:
        self.inbox = Inbox(self.keys)
        self.http = httpx.Client(timeout=self.timeout, trust_env=False)
        self.public_url = self.public_url.rstrip("/")
        self.registry_url = self.registry_url.rstrip("/")

    @property
    def subscriber_id(self) -> str:
        return self.keys.subscriber_id

    @property
    def signer(self) -> Signer:
        return Signer(self.keys.subscriber_id, self.keys.key_id, self.keys.signing)

    # --- the server -------------------------------------------------------------------------

    def start(self) -> None:
        import uvicorn

        config = uvicorn.Config(
            self.inbox,
            host=self.listen_host,
            port=self.listen_port,
            log_level="warning",
            lifespan="on",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="testeur")
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise TesterError(
                    f"le serveur du testeur n'a pas démarré sur {self.listen_host}:"
                    f"{self.listen_port} (port déjà pris ?)"
                )
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.http.close()

    def __enter__(self) -> Tester:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- the registry -----------------------------------------------------------------------

    def join(self, *, approval_wait: float = 0.0) -> str:
        """Subscribe the tester at its public URL (the registry challenges it there); waits up
        to ``approval_wait`` seconds for an operator's approval. Returns the status."""
        from reseau_poles.network.registry_client import RegistryRefusal, subscribe

        document = self.registry_document()
        self.inbox.registry_encryption_key = document.get("encr_public_key")
        self.registry_scheme = str(document.get("challenge_scheme") or "sealed_box")
        try:
            answer = subscribe(
                self.registry_url,
                self.keys,
                url=self.public_url,
                type=self.beckn_type,
                domains=[DOMAIN],
                regions=["*"],
                timeout=max(self.timeout, 30.0),
            )
        except RegistryRefusal as exc:
            raise TesterError(
                f"inscription du testeur {self.subscriber_id} refusée par le registre : {exc}. "
                f"Le registre doit joindre {self.public_url}/on_subscribe (--public-url)."
            ) from None
        except httpx.HTTPError as exc:
            raise TesterError(unreachable(self.registry_url, exc)) from None
        status = str(answer.get("status") or "?")
        if status == "SUBSCRIBED":
            return status
        self.say(
            f"Le testeur {self.subscriber_id} attend l'approbation de l'opérateur : "
            f"reseau-poles registry admin approve {self.subscriber_id}"
        )
        deadline = time.monotonic() + approval_wait
        while time.monotonic() < deadline:
            if self.lookup(self.subscriber_id).records:
                return "SUBSCRIBED"
            time.sleep(1.0)
        raise TesterError(
            f"le testeur {self.subscriber_id} n'est pas approuvé ({status}) : l'opérateur du "
            f"réseau doit l'approuver (reseau-poles registry admin approve "
            f"{self.subscriber_id}), ou relancez avec --approval-wait."
        )

    def registry_document(self) -> dict[str, Any]:
        """The registry's public record (its well-known document), or ``{}``."""
        with contextlib.suppress(httpx.HTTPError, ValueError):
            response = self.http.get(f"{self.registry_url}/.well-known/reseau-poles/registry.json")
            if response.status_code == 200 and isinstance(data := response.json(), dict):
                return data
        return {}

    def registry_key(self) -> tuple[str, str] | None:
        """(subscriber id, signing key) the registry publishes, or ``None``."""
        data = self.registry_document()
        if "subscriber_id" in data and "signing_public_key" in data:
            return str(data["subscriber_id"]), str(data["signing_public_key"])
        return None

    def lookup(self, subscriber_id: str) -> RegistryView:
        """The registry's records for ``subscriber_id`` (signature checked when the registry
        publishes its key)."""
        try:
            response = self.http.post(
                f"{self.registry_url}/lookup", json={"subscriber_id": subscriber_id}
            )
        except httpx.HTTPError as exc:
            raise TesterError(unreachable(self.registry_url, exc)) from None
        if response.status_code != 200:
            raise TesterError(f"lookup refusé par le registre : HTTP {response.status_code}")
        known = self.registry_key()
        if known is not None:
            from reseau_poles.protocol.errors import SignatureError

            try:
                verify(
                    response.content,
                    response.headers.get("authorization"),
                    known[1],
                    expected_subscriber_id=known[0],
                )
            except SignatureError as exc:
                raise TesterError(
                    f"la réponse du registre n'est pas signée par lui : {exc.message}"
                ) from None
        records = response.json()
        if not isinstance(records, list):
            records = []
        return RegistryView(
            [
                r
                for r in records
                if isinstance(r, dict) and str(r.get("subscriber_id", "")) == subscriber_id
            ]
        )

    def check_challenge(
        self, out: Collector, url: str, subscriber_id: str, encr_public_key: str | None
    ) -> None:
        """The challenge check, played by the tester with a sealed box. On a network whose
        registry uses ONDC's scheme, which only the registry's own key can encrypt, the
        node's entry in the registry (subscribed: it opened the registry's challenge) is the
        evidence; the registry entry check reports it when it is missing."""
        from .checks import CHALLENGE

        if self.registry_scheme == "ondc":
            out.add(CHALLENGE, (), looked_at=1)
            return
        out.add(CHALLENGE, self.challenge(url, subscriber_id, encr_public_key))

    def challenge(self, url: str, subscriber_id: str, encr_public_key: str | None) -> list[Any]:
        """The registry's challenge, played by the tester: a fresh secret sealed to
        ``encr_public_key`` posted to ``{url}/on_subscribe``; the findings."""
        from reseau_poles.protocol.keys import new_challenge, seal_challenge

        from .checks import challenge_findings

        secret = new_challenge()
        try:
            sealed = seal_challenge(encr_public_key or "", secret)
        except ValueError as exc:
            return challenge_findings(None, b"", secret, error=f"clé de chiffrement : {exc}")
        body = encode({"subscriber_id": subscriber_id, "challenge": sealed})
        try:
            response = self.http.post(
                f"{url.rstrip('/')}/on_subscribe",
                content=body,
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            return challenge_findings(None, b"", secret, error=f"{type(exc).__name__} {exc}")
        return challenge_findings(response.status_code, response.content, secret)

    # --- signed calls -----------------------------------------------------------------------

    def post(
        self,
        url: str,
        action: str,
        body: bytes,
        *,
        header: str | None = None,
        send_body: bytes | None = None,
        label: str | None = None,
    ) -> Sent:
        """``POST {url}/{action}``: ``body`` signed (or the given ``header``); ``send_body``
        sends other bytes than those signed (a forged message)."""
        header = header or self.signer.sign(body)
        content = send_body if send_body is not None else body
        headers = {"Content-Type": "application/json", "Authorization": header}
        sent = Sent(action, content, headers, time.time(), label=label)
        try:
            response = self.http.post(
                f"{url.rstrip('/')}/{action}", content=content, headers=headers
            )
        except httpx.HTTPError as exc:
            sent.error = f"{type(exc).__name__} {exc}".strip()
            return sent
        sent.status = response.status_code
        sent.answer = response.content
        return sent

    def context(
        self,
        action: str,
        *,
        transaction_id: str | None = None,
        bpp_id: str | None = None,
        bpp_uri: str | None = None,
        bap_id: str | None = None,
        bap_uri: str | None = None,
        city: str = "*",
        ttl: str = "PT30S",
    ) -> dict[str, Any]:
        """A Beckn context. The tester is the BAP unless ``bap_id`` names another."""
        context: dict[str, Any] = {
            "domain": DOMAIN,
            "location": {"city": {"code": city}, "country": {"code": "CAN"}},
            "action": action,
            "version": "1.1.0",
            "bap_id": bap_id or self.subscriber_id,
            "bap_uri": bap_uri or self.public_url,
            "transaction_id": transaction_id or str(uuid.uuid4()),
            "message_id": str(uuid.uuid4()),
            "timestamp": now_rfc3339(),
            "ttl": ttl,
        }
        if bpp_id:
            context["bpp_id"] = bpp_id
        if bpp_uri:
            context["bpp_uri"] = bpp_uri
        return context


@contextlib.contextmanager
def running(tester: Tester) -> Iterator[Tester]:
    tester.start()
    try:
        yield tester
    finally:
        tester.stop()
