"""What every node shares for I/O: signed calls out, verified calls in, the registry lookup
cache, the replay guard, the persistent outbox for callbacks, and the message transcript.

A role wires it up in its lifespan::

    lookup = RegistryLookup.from_settings(settings)
    inbound = Inbound.from_settings(our_id, "BPP", settings, lookup,
                                    replay_guard=make_replay_guard(settings.redis_url))
    install(app, inbound)                      # refusals become 401/400/413 NACKs

    @app.post("/{action}")
    async def receive(message: InboundMessage = Depends(inbound)) -> Response:
        ...                                    # enqueue the callback with outbox.enqueue
        return ack()

    client = NetworkClient.from_settings(Signer(our_id, key_id, keys), settings)
    worker = OutboxWorker.from_settings(engine, client, settings); worker.start()
"""

from . import outbox
from .acks import ACK_BODY, INVALID_REQUEST_BY_ROLE, Refusal, nack_body
from .client import CallResult, NetworkClient, body_bytes, read_ack
from .inbound import Inbound, InboundMessage, ack, install, refusal_response
from .lookup import (
    KeyNotFound,
    RegistryError,
    RegistryLookup,
    RegistryUnavailable,
    SubscriberRecord,
)
from .outbox import OutboxWorker, enqueue
from .replay import MemoryReplayGuard, RedisReplayGuard, ReplayGuard, make_replay_guard
from .settings import NetworkSettings
from .tables import metadata, migrate
from .transcript import Transcript, TranscriptMiddleware

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
    "OutboxWorker",
    "RedisReplayGuard",
    "Refusal",
    "RegistryError",
    "RegistryLookup",
    "RegistryUnavailable",
    "ReplayGuard",
    "SubscriberRecord",
    "Transcript",
    "TranscriptMiddleware",
    "ack",
    "body_bytes",
    "enqueue",
    "install",
    "make_replay_guard",
    "metadata",
    "migrate",
    "nack_body",
    "outbox",
    "read_ack",
    "refusal_response",
]
