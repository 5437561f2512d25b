"""What happened on the network: the audit log and the statistics, for the operator."""

from __future__ import annotations

from typing import Any

from reseau_poles.protocol.dates import rfc3339
from reseau_poles.storage import read_session

from ..repositories import audit as audit_repo
from ..repositories import stats as stats_repo
from .registry import RegistryService


class AuditLog:
    def __init__(self, registry: RegistryService) -> None:
        self.registry = registry

    def audit(self, **filters: Any) -> list[dict[str, Any]]:
        with read_session(self.registry.sessions) as session:
            entries = audit_repo.audit_entries(session, **filters)
        return [
            {
                "id": entry.id,
                "at": rfc3339(entry.at),
                "actor": entry.actor,
                "action": entry.action,
                "subscriber_id": entry.subscriber_id,
                "key_id": entry.key_id,
                "reason": entry.reason,
                "before": entry.before,
                "after": entry.after,
            }
            for entry in entries
        ]

    def statistics(self) -> dict[str, Any]:
        with read_session(self.registry.sessions) as session:
            return stats_repo.statistics(session)
