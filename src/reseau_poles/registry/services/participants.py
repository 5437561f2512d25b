"""The operator's actions on participants: approve, suspend, reactivate; register one that
cannot answer the challenge (a third-party stack); turn down an application never approved;
and the operator's view of them. Every write is audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from reseau_poles.protocol.dates import rfc3339
from reseau_poles.protocol.errors import ErrorCode
from reseau_poles.storage import read_session, utcnow, write_session

from ..errors import RegistryError
from ..repositories import audit as audit_repo
from ..repositories import participants as participant_repo
from ..repositories import state as state_repo
from ..repositories.participants import Participant, ParticipantKey
from ..requests import AdminRegister
from ..tables import KeyStatus, SubscriberStatus
from .keys import key_window
from .registry import RegistryService, unknown

REJECT = "reject"
REGISTER = "operator_register"

_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": ((SubscriberStatus.UNDER_SUBSCRIPTION,), SubscriberStatus.SUBSCRIBED),
    "suspend": (
        (SubscriberStatus.SUBSCRIBED, SubscriberStatus.UNDER_SUBSCRIPTION),
        SubscriberStatus.SUSPENDED,
    ),
    "reactivate": ((SubscriberStatus.SUSPENDED,), SubscriberStatus.SUBSCRIBED),
}


class Participants:
    def __init__(self, registry: RegistryService) -> None:
        self.registry = registry

    def change_status(
        self, actor: str, action: str, subscriber_id: str, reason: str | None = None
    ) -> dict[str, Any]:
        allowed, target = _TRANSITIONS[action]
        now = utcnow()
        with write_session(self.registry.sessions) as session:
            state_repo.bump_revision(session)
            subscriber = self.registry.require(session, subscriber_id)
            if subscriber.status not in allowed:
                raise RegistryError(
                    f"{action} impossible : {subscriber_id} est {subscriber.status} "
                    f"(attendu : {', '.join(allowed)})",
                    code=ErrorCode.REGISTRY_INVALID_STATE,
                    path="subscriber_id",
                    status=409,
                )
            before = subscriber.snapshot()
            # Suspension starts the grace period of a participant that was on the network
            # (one still waiting for approval has nothing under way); reactivation ends it.
            subscriber.suspended_at = (
                now
                if target == SubscriberStatus.SUSPENDED
                and subscriber.status == SubscriberStatus.SUBSCRIBED
                else None
            )
            subscriber.status = target
            subscriber.updated_at = now
            participant_repo.update_participant(
                session,
                subscriber_id,
                suspended_at=subscriber.suspended_at,
                status=target,
                updated_at=now,
            )
            after = subscriber.snapshot()
            answer = {**after, **_suspension_view(subscriber, self.registry.suspension_grace)}
            audit_repo.add_audit(
                session,
                actor=actor,
                action=action,
                subscriber_id=subscriber_id,
                at=now,
                before=before,
                after=after,
                reason=reason,
            )
        self.registry.written(action)
        return answer

    def register_participant(
        self, actor: str, subscriber_id: str, body: AdminRegister
    ) -> dict[str, Any]:
        """Register a new participant SUBSCRIBED on the operator's word, without a challenge:
        for a stack that cannot answer one, with keys the operator made and handed over. The
        URL follows the same destination rules as a subscribe's; the reason is required and
        audited (``operator_register``). An existing participant is refused: its keys go
        through ``add_key`` / ``reset_key``."""
        if not (body.reason or "").strip():
            raise RegistryError(
                "une inscription sans défi demande un motif (reason), gardé au journal d'audit",
                code=ErrorCode.REGISTRY_INVALID_REQUEST,
                path="reason",
                status=400,
            )
        self.registry.challenger.check_url(body.url)
        now = utcnow()
        valid_from, valid_until = key_window(body, now)
        with write_session(self.registry.sessions) as session:
            state_repo.bump_revision(session)
            if (
                participant_repo.get_participant(session, subscriber_id, for_update=True)
                is not None
            ):
                raise RegistryError(
                    f"{subscriber_id} est déjà inscrit : pour lui donner une clé, « admin "
                    "add-key » ou « admin reset-key »",
                    code=ErrorCode.REGISTRY_INVALID_STATE,
                    path="subscriber_id",
                    status=409,
                )
            subscriber = Participant(
                subscriber_id=subscriber_id,
                url=body.url,
                type=body.type,
                country=body.country,
                status=SubscriberStatus.SUBSCRIBED,
                created_at=now,
                updated_at=now,
                domains=list(body.domains),
                regions=list(body.regions),
                keys=[
                    ParticipantKey(
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
                ],
            )
            participant_repo.insert_participant(session, subscriber)
            after = subscriber.snapshot()
            audit_repo.add_audit(
                session,
                actor=actor,
                action=REGISTER,
                subscriber_id=subscriber_id,
                key_id=body.key_id,
                at=now,
                before=None,
                after=after,
                reason=body.reason,
            )
        self.registry.written("register")
        return after

    def reject_applicant(
        self, actor: str, subscriber_id: str, reason: str | None
    ) -> dict[str, Any]:
        """Delete an application the operator never approved (UNDER_SUBSCRIPTION, no
        ``approve`` in the audit log): its identifier is free again. The audit log keeps the
        record."""
        now = utcnow()
        with write_session(self.registry.sessions) as session:
            state_repo.bump_revision(session)
            subscriber = self.registry.require(session, subscriber_id)
            if subscriber.status != SubscriberStatus.UNDER_SUBSCRIPTION:
                raise RegistryError(
                    f"refus impossible : {subscriber_id} est {subscriber.status} ; seule une "
                    "demande en attente (UNDER_SUBSCRIPTION) se refuse, un participant se "
                    "suspend",
                    code=ErrorCode.REGISTRY_INVALID_STATE,
                    path="subscriber_id",
                    status=409,
                )
            if audit_repo.has_entry(session, subscriber_id, "approve"):
                raise RegistryError(
                    f"refus impossible : {subscriber_id} a déjà été approuvé (il attend "
                    "l'approbation d'une mise à jour) ; suspendez-le plutôt",
                    code=ErrorCode.REGISTRY_INVALID_STATE,
                    path="subscriber_id",
                    status=409,
                )
            before = subscriber.snapshot()
            participant_repo.delete_participant(session, subscriber_id)
            audit_repo.add_audit(
                session,
                actor=actor,
                action=REJECT,
                subscriber_id=subscriber_id,
                at=now,
                before=before,
                after=None,
                reason=reason,
            )
        self.registry.written(REJECT)
        return {"subscriber_id": subscriber_id, "status": "REJECTED"}

    def list_subscribers(self, **filters: Any) -> dict[str, Any]:
        with read_session(self.registry.sessions) as session:
            total, rows = participant_repo.list_participants(session, **filters)
        grace = self.registry.suspension_grace
        return {"total": total, "subscribers": [admin_view(s, grace) for s in rows]}

    def get_subscriber(self, subscriber_id: str) -> dict[str, Any]:
        with read_session(self.registry.sessions) as session:
            subscriber = participant_repo.get_participant(session, subscriber_id)
        if subscriber is None:
            raise unknown(subscriber_id)
        return admin_view(subscriber, self.registry.suspension_grace)


def admin_view(subscriber: Participant, grace: timedelta | None = None) -> dict[str, Any]:
    """The operator's view of a participant: everything, keys of any status included, and
    for a suspended one when it was suspended and the end of its grace period."""
    now = utcnow()
    view = subscriber.snapshot()
    view["created"] = rfc3339(subscriber.created_at)
    view["updated"] = rfc3339(subscriber.updated_at)
    for key, row in zip(view["keys"], subscriber.keys, strict=True):
        key["valid_now"] = row.valid_at(now)
    view.update(_suspension_view(subscriber, grace))
    return view


def _suspension_view(subscriber: Participant, grace: timedelta | None) -> dict[str, Any]:
    """``suspended_at`` and, for a participant in its grace period, ``grace_until``."""
    view: dict[str, Any] = {
        "suspended_at": rfc3339(subscriber.suspended_at) if subscriber.suspended_at else None
    }
    if subscriber.suspended_at is not None and grace:
        view["grace_until"] = rfc3339(subscriber.suspended_at + grace)
    return view
