"""Seller node settings: environment variables ``RESEAU_POLES_…``, an optional TOML file.

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


class SellerSettings(FileSettings):
    model_config = SettingsConfigDict(env_prefix="RESEAU_POLES_", extra="ignore")

    database_url: str = "sqlite:///./data/seller.sqlite"
    auto_migrate: bool = True

    # Who we are on the network, and where our protocol endpoints are (``bpp_uri``).
    subscriber_id: str = "vendeur.reseau-poles.example"
    key_dir: Path = Path("./data/seller-keys")
    public_url: str = "http://127.0.0.1:8002"
    domain: str = "PLA:ALIMENTS"

    # The registry that knows every participant's keys.
    registry_url: str | None = None
    registry_public_key: str | None = None
    registry_subscriber_id: str | None = None

    # At most this many items in one on_search; the rest is counted, not sent.
    catalog_name: str = "Réseau Pôles — catalogue des pôles"
    on_search_max_items: int = Field(default=100, ge=1, le=5000)
    # How long a quote stays valid (ISO 8601 duration).
    quote_ttl: str = "PT15M"

    host: str = "127.0.0.1"
    port: int = Field(default=8002, ge=0, le=65535)

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
) -> SellerSettings:
    """Settings from ``config_file`` (TOML; or ``$RESEAU_POLES_CONFIG_FILE``), the environment
    and ``values``."""
    return load_from(SellerSettings, config_file, **values)
