"""The registry's challenge is neither a port scanner nor a lever on the registry: the
destination policy on participants' URLs, one answer for every failed challenge, and limits on
the subscribes under way (a flood aimed at a tarpit leaves room for the others)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from reseau_poles.network.destinations import DestinationPolicy
from reseau_poles.network.registry_client import build_record, encode, signer_for
from tests.registry.conftest import RunningRegistry, new_keys


class Tarpit:
    """A loopback TCP server that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.held: list[socket.socket] = []
        self.closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/pole"

    @property
    def accepted(self) -> int:
        return len(self.held)

    def _accept(self) -> None:
        while not self.closed:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.closed = True
        self.sock.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def tarpit() -> Iterator[Tarpit]:
    pit = Tarpit()
    yield pit
    pit.close()


def _nack(response: httpx.Response, status: int, code: str, path: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error.get("paths") == path, error
    return error


# --- where the challenge may go -----------------------------------------------------------------


def test_public_registry_refuses_forbidden_urls_before_any_challenge(
    registry_factory: Callable[..., RunningRegistry],
) -> None:
    registry = registry_factory(private_network=False)
    local = registry.host.add(new_keys())  # a participant answering on loopback
    cases = {
        "metadata": "http://169.254.169.254/latest",
        "user info": "http://user:pw@noeud.exemple.ca/beckn",
        "loopback": local.url,
        "localhost": "http://localhost:8080/beckn",
        "private": "http://10.0.0.8/beckn",
        "ipv4 in another form": "http://2130706433/beckn",
    }
    for name, url in cases.items():
        response = registry.subscribe(local, url=url)
        try:
            error = _nack(response, 400, "15000", "url")
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None
        assert error["message"].startswith("url refusée"), (name, error)
    assert local.calls == []  # nothing was posted anywhere
    assert registry.admin.subscribers()["total"] == 0


def test_private_network_registry_accepts_loopback_but_not_link_local(
    registry_factory: Callable[..., RunningRegistry],
) -> None:
    registry = registry_factory(private_network=True)
    joined = registry.join()
    assert len(joined.calls) == 1
    other = registry.host.add(new_keys())
    _nack(registry.subscribe(other, url="http://169.254.169.254/"), 400, "15000", "url")
    assert other.calls == []


# --- one answer for every failure ---------------------------------------------------------------


def test_every_failed_challenge_gets_the_same_answer(
    registry_factory: Callable[..., RunningRegistry], tarpit: Tarpit, unused_port: int
) -> None:
    registry = registry_factory(challenge_timeout_seconds=1.0, challenge_deadline_seconds=3.0)
    host = registry.host
    answering = host.add(new_keys())
    refused = f"http://127.0.0.1:{unused_port}/pole"
    cases = {
        "connection refused": (answering, refused),
        "tarpit": (answering, tarpit.url),
        "HTTP 500": (host.add(new_keys(), behaviour="error"), None),
        "not JSON": (host.add(new_keys(), behaviour="garbage"), None),
        "wrong answer": (host.add(new_keys(), behaviour="wrong"), None),
    }
    messages = {}
    for name, (participant, url) in cases.items():
        url = url or participant.url
        response = registry.subscribe(participant, url=url)
        try:
            error = _nack(response, 400, "15003", "url")
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None
        messages[name] = error["message"].replace(url, "{url}")
    assert len(set(messages.values())) == 1, messages
    (message,) = set(messages.values())
    assert message.startswith("Défi non relevé")
    assert "POST {url}/on_subscribe" in message
    for word in ("Connect", "Read", "Timeout", "500", "JSON"):
        assert word not in message, word
    assert registry.admin.subscribers()["total"] == 0


# --- a flood aimed at a tarpit ------------------------------------------------------------------


class Flood:
    """``count`` anonymous subscribes at once from ``source`` (a loopback address), each
    naming ``target``, sent from a thread of their own."""

    def __init__(self, registry: RunningRegistry, target: str, count: int, source: str) -> None:
        self.bodies = []
        for _ in range(count):
            keys = new_keys("flot")
            record = build_record(
                keys, url=target, type="BPP", domains=["PLA:ALIMENTS"], regions=["QC-03"]
            )
            body = encode({k: v for k, v in record.items() if v is not None})
            self.bodies.append((body, signer_for(keys).sign(body)))
        self.url = registry.url
        self.source = source
        self.responses: list[httpx.Response] = []
        self.arrivals: list[float] = []  # seconds from the start of the flood
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        transport = httpx.AsyncHTTPTransport(
            local_address=self.source, limits=httpx.Limits(max_connections=None)
        )
        async with httpx.AsyncClient(transport=transport, timeout=60) as http:
            started = time.monotonic()

            async def one(body: bytes, signature: str) -> None:
                headers = {"Authorization": signature, "Content-Type": "application/json"}
                response = await http.post(f"{self.url}/subscribe", content=body, headers=headers)
                self.arrivals.append(time.monotonic() - started)
                self.responses.append(response)

            await asyncio.gather(*(one(b, s) for b, s in self.bodies))

    def start(self) -> Flood:
        self.thread.start()
        return self

    def join(self) -> list[httpx.Response]:
        self.thread.join(90)
        assert not self.thread.is_alive()
        return self.responses


def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "flood never got under way"
        time.sleep(0.02)


def test_a_flood_at_a_tarpit_leaves_room_for_a_legitimate_subscribe(
    registry_factory: Callable[..., RunningRegistry], tarpit: Tarpit
) -> None:
    # One attempt per challenge: the tarpit then counts the challenges held at once.
    registry = registry_factory(
        challenge_timeout_seconds=8.0, challenge_deadline_seconds=10.0, challenge_retries=0
    )
    known = registry.join()
    flood = Flood(registry, tarpit.url, 200, "127.0.0.2").start()
    # Under way: the tarpit holds connections, the rest of the flood is answered or queued.
    _wait_for(
        lambda: tarpit.accepted >= 4 and (tarpit.accepted >= 100 or len(flood.responses) >= 150)
    )

    # During the flood, from another address: a subscribe, lookups, the operator API.
    started = time.monotonic()
    legitimate = registry.join()
    took = time.monotonic() - started
    started = time.monotonic()
    found = registry.lookup({"subscriber_id": known.keys.subscriber_id})
    looked = time.monotonic() - started
    assert found.status_code == 200 and len(found.json()) == 1, found.text
    assert registry.lookup({}).status_code == 200
    assert registry.admin.subscribers()["total"] == 2
    # One more from the flooding address while its four challenges hang: 429 at once.
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, base_url=registry.url, timeout=30) as other:
        started = time.monotonic()
        extra = other.post(
            "/subscribe",
            content=flood.bodies[0][0],
            headers={"Authorization": flood.bodies[0][1], "Content-Type": "application/json"},
        )
        refused = time.monotonic() - started
    _nack(extra, 429, "15008", None)

    responses = flood.join()
    assert len(responses) == 200
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {400, 429}, set(statuses)
    busy = [r for r in responses if r.status_code == 429]
    assert len(busy) >= 100, statuses
    for response in busy:
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["error"]["code"] == "15008"
    assert tarpit.accepted <= 4  # at most four challenges at once from one address
    times = sorted(
        t for t, r in zip(flood.arrivals, responses, strict=True) if r.status_code == 429
    )
    print(
        f"\nflot de 200 : {len(busy)} × 429 (médiane {times[len(times) // 2]:.2f} s, "
        f"le dernier à {times[-1]:.2f} s), "
        f"{tarpit.accepted} défis au goudron ; pendant le flot, inscription légitime "
        f"{took:.2f} s, recherche {looked * 1000:.0f} ms, un 429 de plus en "
        f"{refused * 1000:.0f} ms"
    )
    assert registry.lookup({"subscriber_id": legitimate.keys.subscriber_id}).json()


def test_beyond_the_overall_limit_a_subscribe_is_answered_429_at_once(
    registry_factory: Callable[..., RunningRegistry], tarpit: Tarpit
) -> None:
    registry = registry_factory(
        challenge_timeout_seconds=5.0,
        challenge_max_concurrent=8,
        challenge_max_per_source=4,
        challenge_retries=0,  # a place held for one deadline: Retry-After 10 s
    )
    known = registry.join()
    floods = [Flood(registry, tarpit.url, 6, f"127.0.0.{n}").start() for n in (2, 3)]
    _wait_for(lambda: tarpit.accepted >= 8)

    response = registry.subscribe(registry.host.add(new_keys()))
    error = _nack(response, 429, "15008", None)
    assert response.headers["retry-after"] == "10"
    assert "réessayez" in error["message"]
    assert registry.lookup({"subscriber_id": known.keys.subscriber_id}).status_code == 200
    metrics = registry.http.get("/metrics").text
    assert "registry_challenges_in_flight 8" in metrics

    for flood in floods:
        statuses = sorted(r.status_code for r in flood.join())
        assert statuses == [400] * 4 + [429] * 2, statuses
    # The slots are free again.
    registry.join()


# --- the name is resolved once, checked, and the challenge goes to that address -----------------


def _resolving_to(address: str, asked: list[str]) -> DestinationPolicy:
    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return [address]

    return DestinationPolicy(allow_http=True, allow_private_networks=False, resolver=resolver)


def test_the_challenge_goes_to_the_checked_address_of_the_name(
    registry_factory: Callable[..., RunningRegistry],
) -> None:
    registry = registry_factory(private_network=False)
    participant = registry.host.add(new_keys())
    port = registry.host.server.port
    url = participant.url.replace("127.0.0.1", "noeud.exemple.ca")
    asked: list[str] = []

    # The name resolves to a loopback address: refused at challenge time, nothing sent.
    registry.service.challenger.policy = _resolving_to("127.0.0.1", asked)
    _nack(registry.subscribe(participant, url=url), 400, "15003", "url")
    assert asked == ["noeud.exemple.ca"]
    assert participant.calls == []

    # The same name resolving to the metadata service: the same answer, nothing sent.
    registry.service.challenger.policy = _resolving_to("169.254.169.254", asked)
    _nack(registry.subscribe(participant, url=url), 400, "15003", "url")
    assert participant.calls == []

    # Allowed (as on a private network): sent to the address checked, the name in Host.
    registry.service.challenger.policy = replace(
        _resolving_to("127.0.0.1", asked), allow_private_networks=True
    )
    response = registry.subscribe(participant, url=url)
    assert response.status_code == 200, response.text
    (call,) = participant.calls
    assert call["headers"]["host"] == f"noeud.exemple.ca:{port}"
    (record,) = registry.lookup({"subscriber_id": participant.keys.subscriber_id}).json()
    assert record["url"] == url
