"""Settings shared by every node's network layer.

One object, read from ``RESEAU_POLES_…`` environment variables (pydantic-settings), so a role
can embed it in its own settings or build it from its command-line options. Defaults follow
PROTOCOL.md: lookup caches live at most 60 s so that a suspension reaches every node within a
minute, and are dropped as soon as the registry's revision moves (read every 2 s), so that a
suspension and a reactivation reach it within seconds; signatures tolerate 5 s of clock skew.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NetworkSettings(BaseSettings):
    """Knobs of the network layer. Times in seconds, sizes in bytes."""

    model_config = SettingsConfigDict(env_prefix="RESEAU_POLES_", extra="ignore")

    # Registry and its lookup cache
    registry_url: str | None = None
    # base64 Ed25519 key that signs the registry's answers; fetched once and pinned when unset.
    registry_public_key: str | None = None
    registry_subscriber_id: str | None = None
    lookup_cache_ttl: float = 60.0
    lookup_negative_ttl: float = 5.0
    lookup_timeout: float = 5.0
    lookup_cache_max_entries: int = 10_000
    # Every this many seconds the node reads the registry's revision and drops its lookup
    # cache when it moved: suspensions and reactivations reach it that fast (0: ttl only).
    registry_watch_interval: float = Field(default=2.0, ge=0)

    # Inbound pipeline (``inbound_`` so it does not collide with the registry's own limit)
    inbound_max_body_bytes: int = 1_048_576
    signature_skew: float = 5.0
    require_gateway_signature: bool = False

    # Replay guard: in-process unless a Redis URL is given.
    redis_url: str | None = None
    replay_max_entries: int = 200_000
    replay_max_window: float = 3600.0

    # Outbound HTTP
    # Protocol calls go only to the addresses the registry holds, and never to loopback,
    # private (RFC 1918), CGNAT or unique-local addresses unless the whole network lives on a
    # private network (the demonstration, the tests, an on-premises network): then set this.
    # Link-local (cloud metadata), multicast and reserved addresses stay refused.
    private_network: bool = False
    http_timeout: float = 10.0
    http_connect_timeout: float = 3.0
    http_max_connections: int = 200
    http_max_keepalive: int = 50
    max_response_bytes: int = 1_048_576
    signature_ttl: int = 30

    # Outbox
    # Calls queued by this process leave at once (claimed when queued) and its retries wake
    # it when due: the poll only picks up another process's rows and ended leases.
    outbox_poll_interval: float = 2.0
    outbox_batch_size: int = 20
    outbox_base_delay: float = 1.0
    outbox_max_delay: float = 300.0
    outbox_default_ttl: float = 86_400.0
    outbox_lease: float = 30.0
    # Results of deliveries that end within this many seconds are recorded in one write
    # transaction (0: one each, at once).
    outbox_record_window: float = Field(default=0.05, ge=0)

    # Transcript: a JSONL file (``--transcript FILE``) and/or the node's database table.
    transcript_path: str | None = None
    transcript_database: bool = True
    # The writer gathers the messages of this many seconds into one write (0: no wait).
    transcript_linger: float = Field(default=0.05, ge=0)

    # Retention (network.retention): finished outbox rows (callbacks and webhook deliveries)
    # and transcript rows are deleted once older than this many days; 0 keeps them forever.
    # Delivered rows and the transcript after ``retention_delivered_days``; dead rows (failed,
    # expired: given up) later, so an operator can still look into a failure.
    retention_delivered_days: int = Field(default=30, ge=0)
    retention_dead_days: int = Field(default=90, ge=0)
    # The node purges in the background every ``retention_interval`` seconds (jittered; 0:
    # never, leave it to ``… purge``), ``retention_batch_size`` rows per transaction.
    retention_interval: float = Field(default=3600.0, ge=0)
    retention_batch_size: int = Field(default=1000, ge=1)
