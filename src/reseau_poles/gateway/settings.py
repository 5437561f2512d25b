"""Gateway settings: environment variables ``RESEAU_POLES_…``, an optional TOML file, defaults.

Precedence: explicit arguments, then the environment, then the TOML file
(``RESEAU_POLES_CONFIG_FILE`` or ``--config``), then the defaults below. The names follow the
network layer's (``registry_url``, ``redis_url``, ``lookup_cache_ttl`` …) so one environment
file can serve both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field

from reseau_poles.config import load_from
from reseau_poles.network.settings import NetworkSettings
from reseau_poles.participant.settings import ParticipantSettings


class GatewaySettings(ParticipantSettings):
    """Knobs of one gateway process. Times in seconds. What every participant has (identity,
    registry, key expiry and rotation, ``private_network``, listening address, serving limits)
    comes from :class:`~reseau_poles.participant.settings.ParticipantSettings`, with the gateway's
    defaults here."""

    # Who we are on the network, and where buyers and the registry reach us.
    subscriber_id: str = "passerelle.reseau-poles.example"
    key_dir: Path = Path("./data/gateway-keys")
    public_url: str = "http://127.0.0.1:8100"
    domains: list[str] = Field(default_factory=lambda: ["PLA:ALIMENTS", "PLA:LOGISTIQUE"])

    # The registry, and how long its answers are trusted (PROTOCOL.md: at most 60 s).
    registry_url: str = "http://127.0.0.1:8000"
    lookup_cache_ttl: float = Field(default=60.0, gt=0, le=60)
    lookup_negative_ttl: float = Field(default=5.0, ge=0, le=60)
    lookup_timeout: float = Field(default=5.0, gt=0)
    # How often the registry's revision is read: a change (suspension, reactivation…) drops
    # the cache, so sellers leave and come back to the searches within this delay (0: ttl).
    registry_watch_interval: float = Field(default=2.0, ge=0, le=60)

    # Inbound checks.
    inbound_max_body_bytes: int = Field(default=262_144, ge=1024)
    signature_skew: float = Field(default=5.0, ge=0, le=300)
    # Full Beckn model validation of the search: the sellers do it; off keeps the ACK fast.
    validate_models: bool = False

    # Multicast.
    max_in_flight: int = Field(default=512, ge=1)  # seller calls at once, per process
    seller_timeout: float = Field(default=3.0, gt=0, le=60)  # per seller, retry included
    seller_connect_timeout: float = Field(default=1.0, gt=0, le=60)
    max_idle_connections_per_seller: int = Field(default=8, ge=0)
    signature_ttl: int = Field(default=30, ge=1, le=3600)  # our X-Gateway-Authorization
    proxy_authorization: bool = False  # also send the older Proxy-Authorization header

    # Rate limit per buyer subscriber (token bucket); 0 turns it off.
    rate_limit_per_second: float = Field(default=50.0, ge=0)
    rate_limit_burst: int = Field(default=100, ge=1)

    # Shared state between processes behind a load balancer: replay guard and statistics.
    redis_url: str | None = None
    replay_max_entries: int = Field(default=200_000, ge=1)

    # Per-search statistics kept in memory (and in Redis when configured).
    stats_max_searches: int = Field(default=2_000, ge=1)
    stats_retention: float = Field(default=3_600.0, gt=0)  # seconds, in Redis

    # Serving.
    port: int = Field(default=8100, ge=0, le=65535)
    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|kv)$")
    transcript_path: str | None = None

    def network(self) -> NetworkSettings:
        """The network layer's settings for the parts the gateway reuses."""
        return NetworkSettings(
            registry_url=self.registry_url,
            registry_public_key=self.registry_public_key,
            registry_subscriber_id=self.registry_subscriber_id,
            lookup_cache_ttl=self.lookup_cache_ttl,
            lookup_negative_ttl=self.lookup_negative_ttl,
            lookup_timeout=self.lookup_timeout,
            registry_watch_interval=self.registry_watch_interval,
            inbound_max_body_bytes=self.inbound_max_body_bytes,
            signature_skew=self.signature_skew,
            redis_url=self.redis_url,
            replay_max_entries=self.replay_max_entries,
            signature_ttl=self.signature_ttl,
            transcript_path=self.transcript_path,
            transcript_database=False,
            private_network=self.private_network,
        )


def load_settings(
    config_file: str | os.PathLike[str] | None = None, **values: Any
) -> GatewaySettings:
    """Settings from ``config_file`` (TOML; or ``$RESEAU_POLES_CONFIG_FILE``), the environment
    and ``values``."""
    return load_from(GatewaySettings, config_file, **values)
