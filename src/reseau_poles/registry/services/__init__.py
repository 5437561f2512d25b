"""The registry's business logic, one module per feature (no FastAPI here). ``create_app``
builds :class:`RegistryServices` once; the routes get them from ``api.deps``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from reseau_poles.protocol.keys import SubscriberKeys

from ..settings import RegistrySettings
from .audit import AuditLog
from .keys import Keys
from .participants import Participants
from .registry import RegistryService
from .subscribe import Subscriptions


@dataclass(frozen=True, slots=True)
class RegistryServices:
    """Every service of the registry, sharing one :class:`RegistryService` (identity,
    database, lookup snapshot, challenger, metrics)."""

    registry: RegistryService
    subscriptions: Subscriptions
    participants: Participants
    keys: Keys
    audit: AuditLog

    @classmethod
    def create(
        cls, settings: RegistrySettings, engine: Engine, identity: SubscriberKeys
    ) -> RegistryServices:
        registry = RegistryService(settings, engine, identity)
        return cls(
            registry=registry,
            subscriptions=Subscriptions(registry),
            participants=Participants(registry),
            keys=Keys(registry),
            audit=AuditLog(registry),
        )


__all__ = ["RegistryService", "RegistryServices"]
