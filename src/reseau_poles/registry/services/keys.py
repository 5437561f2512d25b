"""The operator's actions on keys: revoke one; add one or replace them all (the way back for
a node whose keys are all revoked or expired); list those that expire soon. Every write is
audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from reseau_poles.protocol.dates import rfc3339
from reseau_poles.protocol.errors import ErrorCode
from reseau_poles.storage import read_session, utcnow, write_session

from ..errors import RegistryError
from ..repositories import audit as audit_repo
from ..repositories import participants as participant_repo
from ..repositories import state as state_repo
from ..repositories.participants import ParticipantKey
from ..requests import AdminKey
from ..tables import KeyStatus
from .registry import RegistryService

ADD_KEY = "operator_add_key"
RESET_KEY = "reset_key"


def key_window(body: AdminKey, now: datetime) -> tuple[datetime, datetime]:
    """The validity window of a key the operator registers: ``valid_from`` (default now) to
    ``valid_until`` (default ``valid_days`` later), not over already."""
    valid_from = body.valid_from or now.replace(microsecond=0)
    try:
        valid_until = body.valid_until or valid_from + timedelta(days=body.valid_days)
    except OverflowError:
        raise RegistryError(
            "valid_from trop tardif pour y ajouter valid_days",
            code=ErrorCode.REGISTRY_INVALID_REQUEST,
            path="valid_from",
            status=400,
        ) from None
    if valid_until <= max(valid_from, now):
        raise RegistryError(
            "valid_until doit être postérieur à valid_from et à maintenant",
            code=ErrorCode.REGISTRY_INVALID_REQUEST,
            path="valid_until",
            status=400,
        )
    return valid_from, valid_until


class Keys:
    def __init__(self, registry: RegistryService) -> None:
        self.registry = registry

    def revoke_key(
        self, actor: str, subscriber_id: str, key_id: str, reason: str | None = None
    ) -> dict[str, Any]:
        now = utcnow()
        with write_session(self.registry.sessions) as session:
            state_repo.bump_revision(session)
            subscriber = self.registry.require(session, subscriber_id)
            key = subscriber.key(key_id)
            if key is None:
                raise RegistryError(
                    f"clé {key_id!r} inconnue pour {subscriber_id}",
                    code=ErrorCode.REGISTRY_NOT_FOUND,
                    path="key_id",
                    status=404,
                )
            if key.status == KeyStatus.REVOKED:
                raise RegistryError(
                    f"la clé {key_id!r} est déjà révoquée",
                    code=ErrorCode.REGISTRY_INVALID_STATE,
                    path="key_id",
                    status=409,
                )
            before = subscriber.snapshot()
            participant_repo.update_key(
                session, key, status=KeyStatus.REVOKED, revoked_at=now, updated_at=now
            )
            subscriber.updated_at = now
            participant_repo.update_participant(session, subscriber_id, updated_at=now)
            after = subscriber.snapshot()
            audit_repo.add_audit(
                session,
                actor=actor,
                action="revoke_key",
                subscriber_id=subscriber_id,
                key_id=key_id,
                at=now,
                before=before,
                after=after,
                reason=reason,
            )
        self.registry.written("revoke_key")
        return after

    def add_key(self, actor: str, subscriber_id: str, body: AdminKey) -> dict[str, Any]:
        """Register ``body``'s key for ``subscriber_id`` on the operator's word. With
        ``body.action == "reset_key"`` every other ACTIVE key of the participant is revoked
        in the same transaction. The participant's status does not change."""
        now = utcnow()
        valid_from, valid_until = key_window(body, now)
        with write_session(self.registry.sessions) as session:
            state_repo.bump_revision(session)
            subscriber = self.registry.require(session, subscriber_id)
            if subscriber.key(body.key_id) is not None:
                raise RegistryError(
                    f"key_id {body.key_id!r} existe déjà pour {subscriber_id} ; une nouvelle "
                    "clé demande un nouveau key_id",
                    code=ErrorCode.REGISTRY_DUPLICATE_KEY,
                    path="key_id",
                    status=409,
                )
            before = subscriber.snapshot()
            if body.action == RESET_KEY:
                for key in subscriber.keys:
                    if key.status == KeyStatus.ACTIVE:
                        participant_repo.update_key(
                            session, key, status=KeyStatus.REVOKED, revoked_at=now, updated_at=now
                        )
            new_key = ParticipantKey(
                id=0,
                key_id=body.key_id,
                signing_public_key=body.signing_public_key,
                encr_public_key=body.encr_public_key,
                valid_from=valid_from,
                valid_until=valid_until,
                status=KeyStatus.ACTIVE,
                created_at=now,
                updated_at=now,
            )
            participant_repo.add_key(session, subscriber_id, new_key)
            subscriber.keys.append(new_key)
            subscriber.updated_at = now
            participant_repo.update_participant(session, subscriber_id, updated_at=now)
            after = subscriber.snapshot()
            audit_repo.add_audit(
                session,
                actor=actor,
                action=ADD_KEY if body.action == "add_key" else RESET_KEY,
                subscriber_id=subscriber_id,
                key_id=body.key_id,
                at=now,
                before=before,
                after=after,
                reason=body.reason,
            )
        self.registry.written(body.action)
        return after

    def expiring_keys(self, within: timedelta) -> list[dict[str, Any]]:
        """ACTIVE keys of participants not unsubscribed whose window ends before
        ``now + within`` (those already over included), soonest first."""
        now = utcnow()
        with read_session(self.registry.sessions) as session:
            rows = participant_repo.expiring_keys(session, now + within)
        return [
            {
                "subscriber_id": row.subscriber_id,
                "status": row.status,
                "key_id": row.key_id,
                "valid_until": rfc3339(row.valid_until),
                "days_left": days_left(row.valid_until, now),
                "expired": row.valid_until <= now,
            }
            for row in rows
        ]


def days_left(until: datetime, now: datetime) -> float:
    return round((until - now).total_seconds() / 86400, 1)
