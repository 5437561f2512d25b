"""Buyer node settings: environment variables ``RESEAU_POLES_…``, an optional TOML file.

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


class BuyerSettings(NodeSettings):
    database_url: str = "sqlite:///./data/buyer.sqlite"
    # Our callback endpoints (``bap_uri``) are under ``public_url``.
    subscriber_id: str = "acheteur.reseau-poles.example"
    key_dir: Path = Path("./data/buyer-keys")
    public_url: str = "http://127.0.0.1:8003"
    port: int = Field(default=8003, ge=0, le=65535)

    # Send searches through the gateway (found by a ``type: BG`` lookup; ``gateway_id``
    # picks one when several are registered); otherwise straight to every matching seller.
    use_gateway: bool = False
    gateway_id: str | None = None

    # How long one search request to a seller (or the gateway) may take, in seconds.
    send_timeout: float = Field(default=5.0, gt=0, le=60)
    # The longest ``?wait_ms=`` a client may ask for.
    max_wait_ms: int = Field(default=30_000, ge=0, le=120_000)
    # How long a search waits for its sellers, in seconds: the ``ttl`` of the search sent out;
    # its event streams end then (``fin``, ``raison: expiree``) if sellers are still due.
    search_ttl_seconds: int = Field(default=30, ge=1, le=3600)
    # Event streams (``GET /api/searches/{id}/events``) open at once per organisation;
    # beyond, 429 ``trop_de_flux``.
    max_streams_per_organisation: int = Field(default=10, ge=1, le=10_000)

    # Searches (with their on_search callbacks and results, ~0.8 MB each with two sellers)
    # are deleted this many days after they were made, by the node's background purge and
    # ``reseau-poles buyer purge``; 0 keeps them forever (buyer.services.retention).
    search_retention_days: int = Field(default=7, ge=0, le=3650)


def load_settings(
    config_file: str | os.PathLike[str] | None = None, **values: Any
) -> BuyerSettings:
    """Settings from ``config_file`` (TOML; or ``$RESEAU_POLES_CONFIG_FILE``), the environment
    and ``values``."""
    return load_from(BuyerSettings, config_file, **values)
