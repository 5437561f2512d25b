"""Settings every participant has, and those every node (seller, buyer) has.

:class:`ParticipantSettings` is what the seller node, the buyer node and the gateway share:
who we are on the network (``subscriber_id``, ``key_dir``, ``public_url``), the registry, our
key's expiry and rotation, whether the network is private, where we listen and what the HTTP
server tolerates (:class:`~reseau_poles.config.ServingLimits`). Each role's settings subclass
it and state their own defaults (``subscriber_id``, ``key_dir``, ``public_url``, ``port`` …).

:class:`NodeSettings` adds what the two nodes have: database, domain, client API limits,
webhook destinations. A role subclasses it and changes the defaults.

The network layer's knobs (:class:`~reseau_poles.network.NetworkSettings`: ``transcript_path``,
``redis_url`` for the replay guard, ``outbox_*``, ``lookup_*``, ``http_*`` …) are flat keys of
the same TOML file, as in the gateway's; :meth:`NodeSettings.network_settings` reads them with
the same precedence (code, then environment ``RESEAU_POLES_…``, then the file, then defaults).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from reseau_poles.config import FileSettings, ServingLimits

if TYPE_CHECKING:
    from reseau_poles.network import NetworkSettings


class ParticipantSettings(FileSettings, ServingLimits):
    """What every participant of the network (seller, buyer, gateway) is configured with."""

    model_config = SettingsConfigDict(env_prefix="RESEAU_POLES_", extra="ignore")

    # Who we are on the network, and where the others reach us.
    subscriber_id: str = "participant.reseau-poles.example"
    key_dir: Path = Path("./data/keys")
    public_url: str = "http://127.0.0.1:8000"
    # What we declare to the registry when we subscribe: the regions we serve (QC-01 … QC-17,
    # or "*" for all of Québec) and our country.
    regions: list[str] = Field(default_factory=lambda: ["*"])
    country: str = "CAN"

    # The registry that knows every participant's keys and routes.
    registry_url: str | None = None
    registry_public_key: str | None = None
    registry_subscriber_id: str | None = None
    # The registry's X25519 key, for a challenge in ONDC's scheme (AES-256-ECB under the
    # shared secret): raw or SPKI DER, base64. Unset: read from the registry's well-known
    # document when such a challenge comes (a sealed box needs no registry key).
    registry_encryption_public_key: str | None = None

    # Keys: the warning before our key expires (log at start and every check, and /health),
    # and how long both keys stay valid when ``rotate-key`` changes it.
    key_expiry_warning_days: int = Field(default=30, ge=0, le=3650)
    key_check_interval_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    key_rotation_overlap_hours: float = Field(default=48.0, ge=0, le=24 * 90)

    # Participants on loopback or private addresses are reached (and their calls accepted)
    # only on a network declared private (the demonstration, the tests, on-premises):
    # NetworkSettings.private_network.
    private_network: bool = False

    # Where we listen.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)


class NodeSettings(ParticipantSettings):
    database_url: str = "sqlite:///./data/node.sqlite"
    auto_migrate: bool = True

    # Our protocol endpoints (bap_uri / bpp_uri) are under ``public_url``.
    subscriber_id: str = "noeud.reseau-poles.example"
    key_dir: Path = Path("./data/node-keys")
    domain: str = "PLA:ALIMENTS"
    regions: list[str] = Field(default_factory=lambda: ["*"], min_length=1)

    # The largest JSON body the client and management APIs read (CSV imports have their own).
    api_max_body_bytes: int = Field(default=1_048_576, ge=1024)

    # Rate limits of the client and management API (``/api``), per key holder (pôle,
    # organisation): a token bucket of ``api_rate_burst`` requests refilled at
    # ``api_rate_per_second``; the costliest routes (the buyer's ``POST /api/searches``, which
    # asks every seller) take from a stricter one as well. Past it: 429 ``trop_de_requetes``
    # with ``Retry-After``. In the process, or in Redis with ``redis_url``. 0: no limit.
    api_rate_per_second: float = Field(default=50.0, ge=0)
    api_rate_burst: int = Field(default=100, ge=1)
    api_search_rate_per_second: float = Field(default=2.0, ge=0)
    api_search_burst: int = Field(default=10, ge=1)

    # Where the owners' webhooks may go (reseau_poles.network.destinations). By default only
    # https to public Internet addresses: loopback, private (RFC 1918), CGNAT and unique-local
    # addresses, local names (localhost, *.local …) and names without a domain are refused,
    # at registration and again at each delivery (after DNS resolution). An on-premises node
    # whose owners' software sits on its private network, the demonstration and the tests
    # allow them; link-local (cloud metadata), multicast and reserved addresses stay refused.
    webhook_allow_private_networks: bool = False
    # Allow plain http:// webhook URLs: events then travel readable by anyone on the path (the
    # signature still proves their origin). For a receiver on the node's own private network.
    webhook_allow_http: bool = False

    def network_settings(self, **overrides: Any) -> NetworkSettings:
        """The network layer's settings: ``overrides``, then our registry, then the
        environment, then the flat keys of our TOML file (when loaded from one), then the
        defaults. Raises ``pydantic.ValidationError`` for a bad value."""
        from reseau_poles.network import NetworkSettings  # the web stack: only when needed

        values: dict[str, Any] = {
            "registry_url": self.registry_url,
            "registry_public_key": self.registry_public_key,
            "registry_subscriber_id": self.registry_subscriber_id,
            "private_network": self.private_network,
        }
        values = {k: v for k, v in values.items() if v is not None}
        values.update(overrides)
        toml_file = self.model_config.get("toml_file")
        if toml_file is None:
            return NetworkSettings(**values)

        class _FromFile(FileSettings, NetworkSettings):
            model_config = SettingsConfigDict(
                env_prefix="RESEAU_POLES_", extra="ignore", toml_file=toml_file
            )

        _FromFile.__name__ = _FromFile.__qualname__ = "NetworkSettings"
        return _FromFile(**values)
