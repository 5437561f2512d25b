"""Protocol calls (callbacks, requests, the gateway's multicast) meet the destination policy:
on a network not declared private, nothing is sent to loopback, private or link-local
addresses, and a refused call is failed at once, never retried for a day."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine

from reseau_poles.network import NetworkClient, NetworkSettings, outbox
from reseau_poles.network.client import DESTINATION_FORBIDDEN

from .support import on_status_body
from .test_outbox import SELLER, Receiver, add, rows, until, worker_for

pytestmark = pytest.mark.anyio


def client_for(*, private_network: bool) -> NetworkClient:
    settings = NetworkSettings(private_network=private_network)
    return NetworkClient.from_settings(SELLER.signer(), settings)


async def test_a_public_network_sends_nothing_to_loopback(
    receiver: tuple[Receiver, str],
) -> None:
    endpoint, url = receiver
    body = on_status_body("acheteur.example", "vendeur.example")
    async with client_for(private_network=False) as client:
        result = await client.send(url, "on_status", body)
    assert result.status == "ERROR"
    assert result.error_code == DESTINATION_FORBIDDEN
    assert "127.0.0.1" in (result.error or {}).get("message", "")
    assert not result.retryable
    assert endpoint.bodies == []
    # The same call on a network declared private (the demonstration's) goes through.
    async with client_for(private_network=True) as client:
        assert (await client.send(url, "on_status", body)).ok
    assert len(endpoint.bodies) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",  # the cloud metadata service
        "http://[fe80::1]:8080",  # IPv6 link-local
        "http://0.0.0.0:8080",
        "http://[::ffff:169.254.169.254]",  # link-local written as IPv6
        "http://224.0.0.1",  # multicast
    ],
)
async def test_link_local_and_reserved_addresses_are_refused_even_on_a_private_network(
    url: str,
) -> None:
    body = on_status_body("acheteur.example", "vendeur.example")
    async with client_for(private_network=True) as client:
        result = await client.send(url, "on_status", body)
    assert result.error_code == DESTINATION_FORBIDDEN, result
    assert not result.retryable


async def test_a_name_resolving_to_loopback_is_refused_on_a_public_network(
    receiver: tuple[Receiver, str],
) -> None:
    endpoint, url = receiver
    # "localhost" is refused by name; a name under a real domain that resolves to 127.0.0.1
    # cannot be counted on here, so the policy's own refusal of local names stands for it.
    named = url.replace("127.0.0.1", "localhost")
    async with client_for(private_network=False) as client:
        result = await client.send(named, "on_status", on_status_body("a.example", "b.example"))
    assert result.error_code == DESTINATION_FORBIDDEN
    assert endpoint.bodies == []


async def test_the_outbox_fails_a_forbidden_callback_at_once(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    add(engine, url)
    async with client_for(private_network=False) as client:
        worker = worker_for(engine, client)
        worker.start()
        await until(lambda: outbox.counts(engine).get("failed") == 1)
        await worker.stop()
    (row,) = rows(engine)
    assert row["attempts"] == 1
    error: dict[str, Any] = json.loads(row["last_error"])
    assert error["code"] == DESTINATION_FORBIDDEN
    assert endpoint.bodies == []
