"""Real servers on loopback: the registry (uvicorn in a thread) and a host of participants
answering the registry's challenge at ``/{name}/on_subscribe``."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from reseau_poles.network.registry_client import AdminClient, build_record, encode, signer_for
from reseau_poles.protocol.keys import SubscriberKeys, open_challenge
from reseau_poles.protocol.signing import Signer
from reseau_poles.registry.app import create_app
from reseau_poles.registry.settings import OperatorKey, RegistrySettings
from tests.conftest import free_port

OPERATOR_ID = "operateur.reseau-poles.example"


class UvicornThread:
    """An ASGI app served by uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        # A connection a test left open (a stream, a long wait) is cut 2 s after the stop
        # instead of holding the test's end until the join's 10 s.
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("le serveur uvicorn n'a pas démarré")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        stop_all([self])


def stop_all(servers: Iterable[UvicornThread]) -> None:
    """Stop servers together: each is told at once, then awaited (uvicorn notices within a
    tick of 0.1 s and closes its connections; one after the other, a test's five servers
    took half a second)."""
    servers = list(servers)
    for server in servers:
        server.server.should_exit = True
    for server in servers:
        server.thread.join(timeout=10)


@dataclass
class Participant:
    keys: SubscriberKeys
    url: str
    behaviour: str = "answer"
    calls: list[dict[str, Any]] = field(default_factory=list)


class ParticipantHost:
    """One uvicorn server standing for many participants, each under its own path.

    Behaviours: ``answer`` (opens the sealed challenge), ``wrong``, ``error`` (HTTP 500),
    ``garbage`` (not JSON), ``barrier`` (waits until two challenges for the same subscriber id
    arrived, then answers: makes two subscribes overlap).
    """

    def __init__(self) -> None:
        self.participants: dict[str, Participant] = {}
        self._barrier_count: dict[str, int] = {}
        self.app = FastAPI()
        self.app.add_api_route("/{name}/on_subscribe", self._on_subscribe, methods=["POST"])
        self.server = UvicornThread(self.app)

    def add(
        self, keys: SubscriberKeys, behaviour: str = "answer", name: str | None = None
    ) -> Participant:
        name = name or f"{keys.subscriber_id}-{keys.key_id}"
        participant = Participant(keys, f"{self.server.url}/{name}", behaviour)
        self.participants[name] = participant
        return participant

    async def _on_subscribe(self, name: str, request: Request) -> Any:
        participant = self.participants[name]
        body = await request.body()
        participant.calls.append({"headers": dict(request.headers), "body": body})
        if participant.behaviour == "error":
            return JSONResponse({"error": "boom"}, status_code=500)
        if participant.behaviour == "garbage":
            return PlainTextResponse("pas du JSON")
        if participant.behaviour == "wrong":
            return {"answer": "mauvaise réponse"}
        if participant.behaviour == "barrier":
            group = participant.keys.subscriber_id
            self._barrier_count[group] = self._barrier_count.get(group, 0) + 1
            deadline = time.monotonic() + 3
            while self._barrier_count[group] < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        challenge = json.loads(body)["challenge"]
        return {"answer": open_challenge(participant.keys.encryption, challenge)}


@pytest.fixture(scope="session")
def participant_host() -> Iterator[ParticipantHost]:
    host = ParticipantHost()
    host.server.start()
    yield host
    host.server.stop()


@pytest.fixture(scope="session")
def operator_keys() -> SubscriberKeys:
    return SubscriberKeys.generate(OPERATOR_ID, "op-1")


_counter = iter(range(1_000_000))


def new_keys(prefix: str = "pole") -> SubscriberKeys:
    return SubscriberKeys.generate(f"{prefix}-{next(_counter)}.example", f"k{next(_counter)}")


class RunningRegistry:
    def __init__(
        self,
        settings: RegistrySettings,
        host: ParticipantHost,
        operator: SubscriberKeys,
    ) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.server = UvicornThread(self.app, settings.port or None)
        self.host = host
        self.operator = operator
        self.http = httpx.Client(base_url=self.server.url, timeout=10)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def service(self) -> Any:
        return self.app.state.services.registry

    def start(self) -> RunningRegistry:
        self.server.start()
        self.admin = AdminClient(self.url, signer_for(self.operator))
        return self

    def stop(self) -> None:
        self.http.close()
        self.admin.close()
        self.server.stop()

    def record(self, participant: Participant, **overrides: Any) -> dict[str, Any]:
        record = build_record(
            participant.keys,
            url=participant.url,
            type="BPP",
            domains=["PLA:ALIMENTS"],
            regions=["QC-03"],
        )
        record.update(overrides)
        return {k: v for k, v in record.items() if v is not None}

    def subscribe(
        self,
        participant: Participant,
        *,
        signer: Signer | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        **overrides: Any,
    ) -> httpx.Response:
        content = body if body is not None else encode(self.record(participant, **overrides))
        sent = {"Content-Type": "application/json"}
        if headers is None:
            sent["Authorization"] = (signer or signer_for(participant.keys)).sign(content)
        else:
            sent.update(headers)
        return self.http.post("/subscribe", content=content, headers=sent)

    def join(self, keys: SubscriberKeys | None = None, **overrides: Any) -> Participant:
        """A participant that subscribes successfully."""
        participant = self.host.add(keys or new_keys())
        response = self.subscribe(participant, **overrides)
        assert response.status_code == 200, response.text
        return participant

    def lookup(self, payload: dict[str, Any] | bytes, path: str = "/lookup") -> httpx.Response:
        content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.http.post(path, content=content, headers={"Content-Type": "application/json"})


@pytest.fixture
def registry_factory(
    database_url: str,
    tmp_path: Path,
    participant_host: ParticipantHost,
    operator_keys: SubscriberKeys,
) -> Iterator[Callable[..., RunningRegistry]]:
    started: list[RunningRegistry] = []

    def start(**overrides: Any) -> RunningRegistry:
        values: dict[str, Any] = {
            "database_url": database_url,
            "key_dir": tmp_path / f"registry-keys-{len(started)}",
            "subscriber_id": "registre.test.example",
            "operators": [
                OperatorKey(
                    operator_id=operator_keys.subscriber_id,
                    key_id=operator_keys.key_id,
                    signing_public_key=operator_keys.signing.public_key_b64,
                )
            ],
            # Generous: a loaded CI machine answers a challenge slowly (seen: over 2 s).
            "challenge_timeout_seconds": 10.0,
            "snapshot_refresh_seconds": 0.2,
            "port": free_port(),
        }
        values.update(overrides)
        registry = RunningRegistry(RegistrySettings(**values), participant_host, operator_keys)
        registry.start()
        started.append(registry)
        return registry

    yield start
    for registry in started:
        registry.stop()


@pytest.fixture
def registry(registry_factory: Callable[..., RunningRegistry]) -> RunningRegistry:
    return registry_factory()


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_plus(seconds: float) -> str:
    return rfc3339(datetime.now(UTC) + timedelta(seconds=seconds))
