"""The operator's actions on keys and applicants: add or reset a participant's key (the way
back for a node whose keys are all revoked or expired), register a participant that cannot
answer the challenge (a third-party stack), list keys that expire soon, and turn down an
application that was never approved. Every write is audited, as in ``service``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from reseau_poles.protocol.errors import ErrorCode
from reseau_poles.storage import read_session, utcnow, write_session

from . import repository as repo
from .models import AuditEntry, KeyStatus, Subscriber, SubscriberKey, SubscriberStatus, rfc3339
from .requests import AdminKey, AdminRegister
from .service import RegistryError, RegistryService

ADD_KEY = "operator_add_key"
RESET_KEY = "reset_key"
REJECT = "reject"
REGISTER = "operator_register"


def _window(body: AdminKey, now: datetime) -> tuple[datetime, datetime]:
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


def register_participant(
    service: RegistryService, actor: str, subscriber_id: str, body: AdminRegister
) -> dict[str, Any]:
    """Register a new participant SUBSCRIBED on the operator's word, without a challenge: for
    a stack that cannot answer one, with keys the operator made and handed over. The URL
    follows the same destination rules as a subscribe's; the reason is required and audited
    (``operator_register``). An existing participant is refused: its keys go through
    ``add_key`` / ``reset_key``."""
    if not (body.reason or "").strip():
        raise RegistryError(
            "une inscription sans défi demande un motif (reason), gardé au journal d'audit",
            code=ErrorCode.REGISTRY_INVALID_REQUEST,
            path="reason",
            status=400,
        )
    service.challenger.check_url(body.url)
    now = utcnow()
    valid_from, valid_until = _window(body, now)
    with write_session(service.sessions) as session:
        repo.bump_revision(session)
        if repo.get_subscriber(session, subscriber_id, for_update=True) is not None:
            raise RegistryError(
                f"{subscriber_id} est déjà inscrit : pour lui donner une clé, « admin add-key » "
                "ou « admin reset-key »",
                code=ErrorCode.REGISTRY_INVALID_STATE,
                path="subscriber_id",
                status=409,
            )
        subscriber = Subscriber(
            subscriber_id=subscriber_id,
            url=body.url,
            type=body.type,
            country=body.country,
            status=SubscriberStatus.SUBSCRIBED,
            created_at=now,
            updated_at=now,
        )
        session.add(subscriber)
        repo.sync_domains(subscriber, body.domains)
        repo.sync_regions(subscriber, body.regions)
        subscriber.keys.append(
            SubscriberKey(
                key_id=body.key_id,
                signing_public_key=body.signing_public_key,
                encr_public_key=body.encr_public_key,
                valid_from=valid_from,
                valid_until=valid_until,
                status=KeyStatus.ACTIVE,
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()
        after = subscriber.snapshot()
        repo.add_audit(
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
    service.snapshot.invalidate()
    service.metrics.inc("registry_admin_actions_total", action="register")
    return after


def add_key(
    service: RegistryService, actor: str, subscriber_id: str, body: AdminKey
) -> dict[str, Any]:
    """Register ``body``'s key for ``subscriber_id`` on the operator's word. With
    ``body.action == "reset_key"`` every other ACTIVE key of the participant is revoked in the
    same transaction. The participant's status does not change."""
    now = utcnow()
    valid_from, valid_until = _window(body, now)
    with write_session(service.sessions) as session:
        repo.bump_revision(session)
        subscriber = service._require(session, subscriber_id)
        if subscriber.key(body.key_id) is not None:
            raise RegistryError(
                f"key_id {body.key_id!r} existe déjà pour {subscriber_id} ; une nouvelle clé "
                "demande un nouveau key_id",
                code=ErrorCode.REGISTRY_DUPLICATE_KEY,
                path="key_id",
                status=409,
            )
        before = subscriber.snapshot()
        if body.action == RESET_KEY:
            for key in subscriber.keys:
                if key.status == KeyStatus.ACTIVE:
                    key.status = KeyStatus.REVOKED
                    key.revoked_at = now
                    key.updated_at = now
        subscriber.keys.append(
            SubscriberKey(
                key_id=body.key_id,
                signing_public_key=body.signing_public_key,
                encr_public_key=body.encr_public_key,
                valid_from=valid_from,
                valid_until=valid_until,
                status=KeyStatus.ACTIVE,
                created_at=now,
                updated_at=now,
            )
        )
        subscriber.updated_at = now
        session.flush()
        after = subscriber.snapshot()
        repo.add_audit(
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
    service.snapshot.invalidate()
    service.metrics.inc("registry_admin_actions_total", action=body.action)
    return after


def reject_applicant(
    service: RegistryService, actor: str, subscriber_id: str, reason: str | None
) -> dict[str, Any]:
    """Delete an application the operator never approved (UNDER_SUBSCRIPTION, no ``approve``
    in the audit log): its identifier is free again. The audit log keeps the record."""
    now = utcnow()
    with write_session(service.sessions) as session:
        repo.bump_revision(session)
        subscriber = service._require(session, subscriber_id)
        if subscriber.status != SubscriberStatus.UNDER_SUBSCRIPTION:
            raise RegistryError(
                f"refus impossible : {subscriber_id} est {subscriber.status} ; seule une "
                "demande en attente (UNDER_SUBSCRIPTION) se refuse, un participant se suspend",
                code=ErrorCode.REGISTRY_INVALID_STATE,
                path="subscriber_id",
                status=409,
            )
        approved = session.scalar(
            select(AuditEntry.id)
            .where(AuditEntry.subscriber_id == subscriber_id, AuditEntry.action == "approve")
            .limit(1)
        )
        if approved is not None:
            raise RegistryError(
                f"refus impossible : {subscriber_id} a déjà été approuvé (il attend l'approbation "
                "d'une mise à jour) ; suspendez-le plutôt",
                code=ErrorCode.REGISTRY_INVALID_STATE,
                path="subscriber_id",
                status=409,
            )
        before = subscriber.snapshot()
        session.delete(subscriber)
        session.flush()
        repo.add_audit(
            session,
            actor=actor,
            action=REJECT,
            subscriber_id=subscriber_id,
            at=now,
            before=before,
            after=None,
            reason=reason,
        )
    service.snapshot.invalidate()
    service.metrics.inc("registry_admin_actions_total", action=REJECT)
    return {"subscriber_id": subscriber_id, "status": "REJECTED"}


def expiring_keys(service: RegistryService, within: timedelta) -> list[dict[str, Any]]:
    """ACTIVE keys of participants not unsubscribed whose window ends before ``now + within``
    (those already over included), soonest first."""
    now = utcnow()
    with read_session(service.sessions) as session:
        rows = session.execute(
            select(Subscriber.subscriber_id, Subscriber.status, SubscriberKey)
            .join(SubscriberKey)
            .where(
                SubscriberKey.status == KeyStatus.ACTIVE,
                SubscriberKey.valid_until <= now + within,
                Subscriber.status != SubscriberStatus.UNSUBSCRIBED,
            )
            .order_by(SubscriberKey.valid_until, Subscriber.subscriber_id)
        ).all()
        return [
            {
                "subscriber_id": subscriber_id,
                "status": status,
                "key_id": key.key_id,
                "valid_until": rfc3339(key.valid_until),
                "days_left": days_left(key.valid_until, now),
                "expired": key.valid_until <= now,
            }
            for subscriber_id, status, key in rows
        ]


def days_left(until: datetime, now: datetime) -> float:
    return round((until - now).total_seconds() / 86400, 1)
