"""What every role's settings share: where values come from, and loading a TOML file.

Precedence, highest first: values given in code (CLI options), environment variables
(``RESEAU_POLES_…``), a ``.env`` file, then the TOML file named by ``--config`` or
``$RESEAU_POLES_CONFIG_FILE``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE_ENV = "RESEAU_POLES_CONFIG_FILE"


class FileSettings(BaseSettings):
    """Base of each role's settings: environment first, then an optional TOML file."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls),
            file_secret_settings,
        )


class ServingLimits(BaseModel):
    """What a role's HTTP server tolerates from its clients (each role's settings include
    these keys: ``RESEAU_POLES_SERVE_…`` or the TOML file). Seconds and bytes."""

    # The request line and headers must arrive whole within this time of the first byte (or
    # of the connection, for its first request).
    serve_header_timeout: float = Field(default=10.0, gt=0, le=300)
    serve_max_header_bytes: int = Field(default=65_536, ge=1024, le=1_048_576)
    # A body that receives no byte for this long: the connection is closed.
    serve_body_timeout: float = Field(default=30.0, gt=0, le=3600)
    # An idle kept-alive connection is closed after this long.
    serve_keep_alive_timeout: float = Field(default=5.0, gt=0, le=300)
    # Connections or requests in progress at once, per process, before uvicorn answers 503.
    serve_limit_concurrency: int = Field(default=2048, ge=16)

    def serving_limits(self) -> ServingLimits:
        return ServingLimits.model_validate(
            self.model_dump(include=set(ServingLimits.model_fields))
        )


SettingsT = TypeVar("SettingsT", bound=FileSettings)


def load_from(
    settings_cls: type[SettingsT], config_file: str | os.PathLike[str] | None = None, **values: Any
) -> SettingsT:
    """``settings_cls`` from ``config_file`` (TOML; or ``$RESEAU_POLES_CONFIG_FILE``), the
    environment and ``values``."""
    path = config_file or os.environ.get(CONFIG_FILE_ENV)
    if not path:
        return settings_cls(**values)
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"fichier de configuration introuvable : {file}")

    class _FromFile(settings_cls):  # type: ignore[valid-type,misc]
        model_config = SettingsConfigDict(toml_file=file)

    return _FromFile(**values)


def redact_url(url: str) -> str:
    """The database URL with its password masked, for logs and start-up lines."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
