"""Seller node settings: environment variables ``RESEAU_POLES_…``, an optional TOML file.

Precedence: explicit arguments, then the environment, then the TOML file
(``RESEAU_POLES_CONFIG_FILE`` or ``--config``), then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field

from reseau_poles.config import load_from
from reseau_poles.participant.settings import NodeSettings


class SellerSettings(NodeSettings):
    database_url: str = "sqlite:///./data/seller.sqlite"
    subscriber_id: str = "vendeur.reseau-poles.example"
    key_dir: Path = Path("./data/seller-keys")
    public_url: str = "http://127.0.0.1:8002"
    port: int = Field(default=8002, ge=0, le=65535)

    # At most this many items in one on_search; the rest is counted, not sent.
    catalog_name: str = "Réseau Pôles — catalogue des pôles"
    on_search_max_items: int = Field(default=100, ge=1, le=5000)
    # Check each on_search against the Beckn models before it leaves (about 5 ms for 20
    # items). Off by default: the catalog is built by seller.catalog from checked rows, and
    # every buyer node validates it on receipt (a mistake is NACKed, never stored). Turn it
    # on to debug the catalog builder. Every other callback is always checked.
    check_own_on_search: bool = False
    # How long a quote stays valid (ISO 8601 duration).
    quote_ttl: str = "PT15M"


def load_settings(
    config_file: str | os.PathLike[str] | None = None, **values: Any
) -> SellerSettings:
    """Settings from ``config_file`` (TOML; or ``$RESEAU_POLES_CONFIG_FILE``), the environment
    and ``values``."""
    return load_from(SellerSettings, config_file, **values)
