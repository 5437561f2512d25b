"""Buyer node settings: environment variables ``RESEAU_POLES_…``, an optional TOML file.

Precedence: explicit arguments, then the environment, then the TOML file
(``RESEAU_POLES_CONFIG_FILE`` or ``--config``), then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    SettingsConfigDict,
)

from reseau_poles.config import FileSettings, load_from
from reseau_poles.network import NetworkSettings


class BuyerSettings(FileSettings):
    model_config = SettingsConfigDict(env_prefix="RESEAU_POLES_", extra="ignore")

    database_url: str = "sqlite:///./data/buyer.sqlite"
    auto_migrate: bool = True

    # Who we are on the network, and where our callback endpoints are (``bap_uri``).
    subscriber_id: str = "acheteur.reseau-poles.example"
    key_dir: Path = Path("./data/buyer-keys")
    public_url: str = "http://127.0.0.1:8003"
    domain: str = "PLA:ALIMENTS"

    # The registry that knows every participant's keys and routes.
    registry_url: str | None = None
    registry_public_key: str | None = None
    registry_subscriber_id: str | None = None

    # Send searches through the gateway (found by a ``type: BG`` lookup; ``gateway_id``
    # picks one when several are registered); otherwise straight to every matching seller.
    use_gateway: bool = False
    gateway_id: str | None = None

    # How long one search request to a seller (or the gateway) may take, in seconds.
    send_timeout: float = Field(default=5.0, gt=0, le=60)
    # The longest ``?wait_ms=`` a client may ask for.
    max_wait_ms: int = Field(default=30_000, ge=0, le=120_000)

    host: str = "127.0.0.1"
    port: int = Field(default=8003, ge=0, le=65535)

    def network_settings(self, **overrides: Any) -> NetworkSettings:
        """The network layer's settings (environment), with our registry in them."""
        values: dict[str, Any] = {
            "registry_url": self.registry_url,
            "registry_public_key": self.registry_public_key,
            "registry_subscriber_id": self.registry_subscriber_id,
        }
        values = {k: v for k, v in values.items() if v is not None}
        values.update(overrides)
        return NetworkSettings(**values)


def load_settings(
    config_file: str | os.PathLike[str] | None = None, **values: Any
) -> BuyerSettings:
    """Settings from ``config_file`` (TOML; or ``$RESEAU_POLES_CONFIG_FILE``), the environment
    and ``values``."""
    return load_from(BuyerSettings, config_file, **values)
