"""What every node shares for I/O: signed calls out, verified calls in, the registry lookup
cache, the replay guard, the persistent outbox for callbacks, the message transcript, and the
retention that purges their old rows.

A role wires it up with :class:`NodeNetwork`::

    network = NodeNetwork(subscriber_id=our_id, role="BPP", signer=Signer(our_id, key_id, keys),
                          settings=NetworkSettings(), engine=engine)
    network.install(app)                       # the other routes' errors become NACKs

    async def lifespan(app):                   # tables, outbox worker; closed at the end
        async with network:
            yield

    async def handle(message: InboundMessage) -> None:   # the pipeline's last step
        with network.outgoing() as out, write_session(factory) as session:
            ...                                # the state change, and in the same transaction:
            out.send(session, message.bap_uri, "on_" + message.action, callback)
        # committed, then handed to the outbox worker: it leaves now (an exception: nothing)

    network.serve_protocol(app, handle)        # POST /{action}: the pipeline, then ACK

    result = await network.client.send(bpp_uri, "select", body)   # a direct signed call

Every protocol request goes through :mod:`.pipeline` (``ProtocolEndpoint.__call__``).
Each part (``Inbound``, ``RegistryLookup``, ``NetworkClient``, ``OutboxWorker``,
``Transcript``, the replay guards) is usable alone.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import outbox
    from .acks import ACK_BODY, INVALID_REQUEST_BY_ROLE, Refusal, nack_body, read_ack
    from .answers import refusal_response
    from .client import CallResult, NetworkClient, body_bytes
    from .inbound import Inbound, InboundMessage, install
    from .lookup import (
        KeyNotFound,
        RegistryError,
        RegistryLookup,
        RegistryUnavailable,
        SubscriberRecord,
    )
    from .node import NodeNetwork
    from .outbox import OutboxWorker, enqueue
    from .outgoing import Outgoing
    from .replay import MemoryReplayGuard, RedisReplayGuard, ReplayGuard, make_replay_guard
    from .retention import PurgeCounts, PurgeTarget, Retention, RetentionTask, purge
    from .settings import NetworkSettings
    from .tables import metadata, migrate
    from .transcript import Transcript

# Loaded on first use: the registry's client (``network.registry_client``), which operator
# commands use, must not bring the web stack and the database layer with this package.
_LAZY = {
    "ACK_BODY": ".acks",
    "INVALID_REQUEST_BY_ROLE": ".acks",
    "Refusal": ".acks",
    "nack_body": ".acks",
    "CallResult": ".client",
    "NetworkClient": ".client",
    "body_bytes": ".client",
    "read_ack": ".acks",
    "Inbound": ".inbound",
    "InboundMessage": ".inbound",
    "install": ".inbound",
    "refusal_response": ".answers",
    "KeyNotFound": ".lookup",
    "RegistryError": ".lookup",
    "RegistryLookup": ".lookup",
    "RegistryUnavailable": ".lookup",
    "SubscriberRecord": ".lookup",
    "NodeNetwork": ".node",
    "OutboxWorker": ".outbox",
    "enqueue": ".outbox",
    "Outgoing": ".outgoing",
    "MemoryReplayGuard": ".replay",
    "RedisReplayGuard": ".replay",
    "ReplayGuard": ".replay",
    "make_replay_guard": ".replay",
    "PurgeCounts": ".retention",
    "PurgeTarget": ".retention",
    "Retention": ".retention",
    "RetentionTask": ".retention",
    "purge": ".retention",
    "NetworkSettings": ".settings",
    "metadata": ".tables",
    "migrate": ".tables",
    "Transcript": ".transcript",
}


def __getattr__(name: str) -> Any:
    if name == "outbox":
        return importlib.import_module(".outbox", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


__all__ = [
    "ACK_BODY",
    "INVALID_REQUEST_BY_ROLE",
    "CallResult",
    "Inbound",
    "InboundMessage",
    "KeyNotFound",
    "MemoryReplayGuard",
    "NetworkClient",
    "NetworkSettings",
    "NodeNetwork",
    "OutboxWorker",
    "Outgoing",
    "PurgeCounts",
    "PurgeTarget",
    "RedisReplayGuard",
    "Refusal",
    "RegistryError",
    "RegistryLookup",
    "RegistryUnavailable",
    "ReplayGuard",
    "Retention",
    "RetentionTask",
    "SubscriberRecord",
    "Transcript",
    "body_bytes",
    "enqueue",
    "install",
    "make_replay_guard",
    "metadata",
    "migrate",
    "nack_body",
    "outbox",
    "purge",
    "read_ack",
    "refusal_response",
]
