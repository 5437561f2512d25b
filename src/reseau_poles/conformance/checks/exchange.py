"""What was exchanged, as the checks read it: a request the tester sent and its answer, a
message that reached the tester, and what the registry's lookup said."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Sent:
    """A request the tester sent and the synchronous answer."""

    action: str
    body: bytes
    headers: dict[str, str]
    sent_at: float  # unix seconds
    status: int | None = None
    answer: bytes = b""
    error: str | None = None  # the transport's failure (refused, timeout)
    label: str | None = None  # what the case is (« rejeu de status »)

    @property
    def name(self) -> str:
        return f"POST /{self.action}" + (f" ({self.label})" if self.label else "")

    @property
    def context(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.body)["context"])
        except (ValueError, KeyError, TypeError):
            return {}


@dataclass
class Received:
    """A message that reached the tester's server."""

    action: str
    body: bytes
    headers: dict[str, str]
    received_at: float  # unix seconds
    payload: Any = None

    def __post_init__(self) -> None:
        if self.payload is None:
            try:
                self.payload = json.loads(self.body)
            except ValueError:
                self.payload = None

    @property
    def context(self) -> dict[str, Any]:
        if isinstance(self.payload, dict) and isinstance(self.payload.get("context"), dict):
            return self.payload["context"]
        return {}

    @property
    def message_id(self) -> str | None:
        value = self.context.get("message_id")
        return value if isinstance(value, str) else None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass
class RegistryView:
    """What the registry's lookup said about a participant: one record per key."""

    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def keys(self) -> dict[str, str]:
        """key_id → signing public key."""
        found = {}
        for record in self.records:
            key_id = record.get("key_id") or record.get("ukId") or record.get("unique_key_id")
            if isinstance(key_id, str) and isinstance(record.get("signing_public_key"), str):
                found[key_id] = record["signing_public_key"]
        return found

    @property
    def url(self) -> str | None:
        for record in self.records:
            url = record.get("url") or record.get("subscriber_url")
            if isinstance(url, str):
                return url
        return None

    @property
    def encr_public_key(self) -> str | None:
        for record in self.records:
            if isinstance(record.get("encr_public_key"), str):
                return record["encr_public_key"]
        return None
