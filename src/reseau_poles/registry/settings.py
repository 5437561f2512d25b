"""Registry settings: environment variables ``RESEAU_POLES_…``, an optional TOML file, defaults.

Precedence: explicit arguments, then the environment, then the TOML file
(``RESEAU_POLES_CONFIG_FILE`` or ``--config``), then the defaults below.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    SettingsConfigDict,
)

from reseau_poles.config import FileSettings, ServingLimits, load_from
from reseau_poles.protocol.keys import ChallengeScheme, b64encode, decode_signing_public_key


class Policy(StrEnum):
    OPEN = "open"  # a right answer to the challenge is enough
    APPROVAL = "approval"  # then the operator approves


class OperatorKey(BaseModel):
    """A key allowed to use the operator API (``/admin``)."""

    operator_id: str = Field(min_length=1, max_length=255)
    key_id: str = Field(min_length=1, max_length=255)
    signing_public_key: str

    @field_validator("signing_public_key")
    @classmethod
    def _key(cls, value: str) -> str:
        return b64encode(decode_signing_public_key(value))


class RegistrySettings(FileSettings, ServingLimits):
    model_config = SettingsConfigDict(
        env_prefix="RESEAU_POLES_", extra="ignore", env_nested_delimiter="__"
    )

    database_url: str = "sqlite:///./data/registry.sqlite"
    auto_migrate: bool = True
    policy: Policy = Policy.OPEN

    # The registry's own identity: it signs lookup answers and challenges with this key.
    subscriber_id: str = "registre.reseau-poles.example"
    key_dir: Path = Path("./data/registry-keys")
    public_url: str = "http://127.0.0.1:8000"

    operators: list[OperatorKey] = Field(default_factory=list)

    clock_skew_seconds: float = Field(default=5.0, ge=0, le=300)
    # The challenge (POST {url}/on_subscribe): connecting, then each read or write, then the
    # whole challenge, name resolution and every attempt included.
    challenge_connect_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    challenge_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    challenge_deadline_seconds: float = Field(default=10.0, gt=0, le=120)
    # How the challenge is encrypted unless the subscribe asks otherwise (its
    # ``challenge_scheme``): a libsodium sealed box, or ONDC's AES-256-ECB under the X25519
    # shared secret of the registry's encryption key (published in its well-known document).
    challenge_scheme: ChallengeScheme = ChallengeScheme.SEALED_BOX
    # More attempts, each with a fresh challenge and its own deadline, after a failure that
    # may pass (silence, connection refused, HTTP 408/429/5xx) — for stacks that block for
    # tens of seconds at start-up. Each one lengthens the 429's Retry-After (a held place).
    challenge_retries: int = Field(default=1, ge=0, le=2)
    challenge_retry_delay_seconds: float = Field(default=1.0, ge=0, le=30)
    # Subscribes under way at once (each may be waiting for its challenge): overall and per
    # source address. Beyond, the registry answers 429 with Retry-After at once (no queue).
    challenge_max_concurrent: int = Field(default=64, ge=1, le=4096)
    challenge_max_per_source: int = Field(default=4, ge=1, le=4096)
    # Participants' URLs on loopback or private addresses (RFC 1918, CGNAT, fc00::/7) are
    # accepted, and challenged, only on a network declared private (on-premises, the
    # demonstration, the tests). Link-local (cloud metadata) and the like: never.
    private_network: bool = False
    # How often each worker checks the database for writes made by other workers.
    snapshot_refresh_seconds: float = Field(default=2.0, gt=0, le=60)
    response_signature_ttl_seconds: int = Field(default=30, ge=1, le=3600)
    max_body_bytes: int = Field(default=65536, ge=1024)
    # A suspended participant's keys stay in the lookups that name it for this long (marked
    # SUSPENDED, with ``suspended_at`` and ``grace_until``): the orders it had under way before
    # the suspension can be finished (cancel, status…); nothing new. 0: no grace at all.
    suspension_grace_seconds: float = Field(default=72 * 3600, ge=0, le=90 * 86400)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)


def load_settings(
    config_file: str | os.PathLike[str] | None = None, **values: Any
) -> RegistrySettings:
    """Settings from ``config_file`` (TOML; or ``$RESEAU_POLES_CONFIG_FILE``), the environment
    and ``values``."""
    return load_from(RegistrySettings, config_file, **values)
