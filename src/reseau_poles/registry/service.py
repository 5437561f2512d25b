"""The registry's logic: subscribe (signature, challenge, one transaction), the operator's
actions, and what lookups are built from. Routes stay thin; SQL lives in ``repository``."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.protocol.errors import ErrorCode, ProtocolError, SignatureError
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.signing import (
    KeyValidity,
    SignatureHeader,
    Signer,
    check_header,
    parse_header,
    verify_signature,
)
from reseau_poles.storage import make_session_factory, read_session, utcnow, write_session

from . import repository as repo
from .challenge import Challenger
from .errors import RegistryError
from .metrics import Metrics
from .models import KeyStatus, Subscriber, SubscriberKey, SubscriberStatus, rfc3339
from .repository import LookupRow
from .requests import SubscribeRecord, check_window, validation_nack
from .settings import Policy, RegistrySettings
from .snapshot import Entry, LookupSnapshot, entry_from_row

log = logging.getLogger("reseau_poles.registry")

REGISTRY_KEY_LIFETIME = timedelta(days=3650)


class SubscribeKind(StrEnum):
    CREATE = "subscribe"  # a new participant
    UPDATE = "update"  # same key: new URL, regions, domains, window…
    ADD_KEY = "add_key"  # rotation: a new key, signed by a key already registered


def _signature_error(reason: str, message: str) -> SignatureError:
    return SignatureError(
        reason, message, code=ErrorCode.REGISTRY_INVALID_SIGNATURE, path="headers.Authorization"
    )


@dataclass(frozen=True, slots=True)
class Plan:
    kind: SubscribeKind
    verify_key: str
    validity: KeyValidity


def plan_subscribe(
    existing: Subscriber | None,
    header: SignatureHeader,
    record: SubscribeRecord,
    now: datetime,
    skew: float,
) -> Plan:
    """Which key must have signed this subscribe, and what it will do. Pure: called once before
    the challenge and again inside the transaction, on fresh rows."""
    if header.subscriber_id.lower() != record.subscriber_id:
        raise _signature_error(
            "subscriber_mismatch",
            f"keyId nomme {header.subscriber_id!r} mais l'inscription concerne "
            f"{record.subscriber_id!r}",
        )
    if existing is None:
        if header.key_id != record.key_id:
            raise _signature_error(
                "unknown_key",
                f"première inscription : signez avec la clé enregistrée (key_id {record.key_id!r}), "
                f"pas {header.key_id!r}",
            )
        return Plan(
            SubscribeKind.CREATE,
            record.signing_public_key,
            KeyValidity.of(record.valid_from, record.valid_until),
        )
    if existing.status in (SubscriberStatus.SUSPENDED, SubscriberStatus.UNSUBSCRIBED):
        raise RegistryError(
            f"{record.subscriber_id} est {existing.status} : seul l'opérateur peut le réactiver",
            code=ErrorCode.REGISTRY_INVALID_STATE,
            path="subscriber_id",
            status=403,
        )
    signer = existing.key(header.key_id)
    if signer is None:
        if header.key_id == record.key_id:
            if not any(key.valid_at(now) for key in existing.keys):
                # Every key revoked or over: only the operator can vouch for a new one.
                raise RegistryError(
                    f"{record.subscriber_id} n'a plus aucune clé valide (révoquée ou expirée) : "
                    "l'opérateur du réseau doit enregistrer cette nouvelle clé "
                    f"(reseau-poles registry admin add-key {record.subscriber_id} "
                    "--keys-json keys.json)",
                    code=ErrorCode.REGISTRY_FORBIDDEN,
                    path="headers.Authorization",
                    status=403,
                )
            raise RegistryError(
                f"{record.subscriber_id} est déjà inscrit : une mise à jour ou une nouvelle clé "
                "doit être signée par une clé déjà enregistrée et valide",
                code=ErrorCode.REGISTRY_FORBIDDEN,
                path="headers.Authorization",
                status=403,
            )
        raise _signature_error(
            "unknown_key", f"clé {header.key_id!r} inconnue pour {record.subscriber_id}"
        )
    if signer.status != KeyStatus.ACTIVE:
        raise _signature_error("key_revoked", f"la clé {header.key_id!r} a été révoquée")
    # A little skew before the window opens; none after it closes: an ended key is ended.
    if not signer.valid_from - timedelta(seconds=skew) <= now < signer.valid_until:
        raise _signature_error(
            "key_not_valid", f"la clé {header.key_id!r} n'est pas valide maintenant"
        )
    target = existing.key(record.key_id)
    kind = SubscribeKind.ADD_KEY
    if target is not None:
        if target.status != KeyStatus.ACTIVE:
            raise RegistryError(
                f"la clé {record.key_id!r} a été révoquée ; choisissez un nouveau key_id",
                code=ErrorCode.REGISTRY_DUPLICATE_KEY,
                path="key_id",
                status=409,
            )
        if (
            target.signing_public_key != record.signing_public_key
            or target.encr_public_key != record.encr_public_key
        ):
            raise RegistryError(
                f"key_id {record.key_id!r} est déjà enregistré avec d'autres clés publiques ; "
                "une nouvelle clé demande un nouveau key_id",
                code=ErrorCode.REGISTRY_DUPLICATE_KEY,
                path="key_id",
                status=409,
            )
        kind = SubscribeKind.UPDATE
    return Plan(
        kind, signer.signing_public_key, KeyValidity.of(signer.valid_from, signer.valid_until)
    )


@dataclass(frozen=True, slots=True)
class SubscribeOutcome:
    subscriber_id: str
    key_id: str
    status: str
    action: str

    def to_ack(self) -> dict[str, Any]:
        return {
            "message": {"ack": {"status": "ACK"}},
            "subscriber": {
                "subscriber_id": self.subscriber_id,
                "key_id": self.key_id,
                "status": self.status,
                "action": self.action,
            },
        }


_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": ((SubscriberStatus.UNDER_SUBSCRIPTION,), SubscriberStatus.SUBSCRIBED),
    "suspend": (
        (SubscriberStatus.SUBSCRIBED, SubscriberStatus.UNDER_SUBSCRIPTION),
        SubscriberStatus.SUSPENDED,
    ),
    "reactivate": ((SubscriberStatus.SUSPENDED,), SubscriberStatus.SUBSCRIBED),
}


class RegistryService:
    def __init__(
        self,
        settings: RegistrySettings,
        engine: Engine,
        identity: SubscriberKeys,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions: sessionmaker[Session] = make_session_factory(engine)
        self.identity = identity
        self.signer = Signer(identity.subscriber_id, identity.key_id, identity.signing)
        self.metrics = metrics or Metrics()
        self.snapshot = LookupSnapshot(
            self._load_entries, self.signer, signature_ttl=settings.response_signature_ttl_seconds
        )
        # The challenges' own HTTP client and limits: lookups and the operator API never
        # wait behind them.
        self.challenger = Challenger(settings, self.signer, identity.encryption)

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        await self.challenger.start()

    async def stop(self) -> None:
        await self.challenger.stop()

    async def watch_revision(self) -> None:
        """Reload the snapshot when another worker wrote (polls the revision counter)."""
        while True:
            await asyncio.sleep(self.settings.snapshot_refresh_seconds)
            index = self.snapshot.index
            if index is None:
                continue
            try:
                revision = await asyncio.to_thread(self.revision)
            except Exception:  # a database hiccup must not kill the watcher
                log.warning("lecture de la révision impossible", exc_info=True)
                continue
            if revision != index.revision:
                self.snapshot.invalidate()

    @property
    def suspension_grace(self) -> timedelta:
        return timedelta(seconds=self.settings.suspension_grace_seconds)

    def revision(self) -> int:
        with read_session(self.sessions) as session:
            return repo.read_revision(session)

    def registry_record(self) -> dict[str, str]:
        """The registry's public record: its keys, and how it encrypts its challenge.
        ``encr_public_key_der`` is the SPKI DER form (``MCowBQYDK2VuAyEA…``) that ONDC's
        ``on_subscribe`` tools take as the registry's encryption key."""
        return {
            "subscriber_id": self.identity.subscriber_id,
            "key_id": self.identity.key_id,
            "signing_public_key": self.identity.signing.public_key_b64,
            "encr_public_key": self.identity.encryption.public_key_b64,
            "encr_public_key_der": self.identity.encryption.public_key_der_b64,
            "challenge_scheme": self.settings.challenge_scheme.value,
            "url": self.settings.public_url.rstrip("/"),
            "type": "BREG",
        }

    def _load_entries(self) -> tuple[int, list[Entry]]:
        now = utcnow()
        grace = self.suspension_grace
        with read_session(self.sessions) as session:
            revision = repo.read_revision(session)
            rows = repo.lookup_rows(session, now, now - grace if grace else None)
        entries = [entry_from_row(row, grace=grace) for row in rows]
        created = self.identity.created.astimezone(UTC)
        own = LookupRow(
            subscriber_id=self.identity.subscriber_id,
            url=self.settings.public_url.rstrip("/"),
            type="BREG",
            country="CAN",
            status=SubscriberStatus.SUBSCRIBED,
            created=created,
            updated=created,
            key_id=self.identity.key_id,
            signing_public_key=self.identity.signing.public_key_b64,
            encr_public_key=self.identity.encryption.public_key_b64,
            valid_from=created,
            valid_until=created + REGISTRY_KEY_LIFETIME,
            domains=("*",),
            regions=("*",),
        )
        entries.append(entry_from_row(own, only_when_named=True))
        self.metrics.set("registry_snapshot_revision", revision)
        self.metrics.set("registry_snapshot_records", len(entries))
        return revision, entries

    # --- subscribe ----------------------------------------------------------------------------

    async def subscribe(
        self, body: bytes, authorization: str | None, source: str = "?"
    ) -> SubscribeOutcome:
        """``source``: the caller's address (a few subscribes at once per address, then 429)."""
        try:
            with self.challenger.gate.hold(source):
                outcome = await self._subscribe(body, authorization)
        except ProtocolError as exc:
            self.metrics.inc(
                "registry_subscriptions_total", outcome="rejected", code=exc.code.value
            )
            raise
        self.metrics.inc("registry_subscriptions_total", outcome=outcome.action, code="")
        return outcome

    async def _subscribe(self, body: bytes, authorization: str | None) -> SubscribeOutcome:
        now = utcnow()
        record = self._parse_record(body)
        check_window(record, now)
        self.challenger.check_url(record.url)
        try:
            header = parse_header(authorization)
        except SignatureError as exc:
            raise _signature_error(exc.reason, exc.message) from None
        skew = self.settings.clock_skew_seconds
        check_header(header, skew=skew, invalid_code=ErrorCode.REGISTRY_INVALID_SIGNATURE)

        existing = await asyncio.to_thread(self._current, record.subscriber_id)
        plan = plan_subscribe(existing, header, record, now, skew)
        check_header(
            header,
            skew=skew,
            key_validity=plan.validity,
            invalid_code=ErrorCode.REGISTRY_INVALID_SIGNATURE,
        )
        verify_signature(
            body, header, plan.verify_key, invalid_code=ErrorCode.REGISTRY_INVALID_SIGNATURE
        )

        # The challenge goes out before anything is written: a failure leaves no trace.
        await self.challenger.run(record)
        return await asyncio.to_thread(self._commit_subscribe, body, header, record)

    @staticmethod
    def _parse_record(body: bytes) -> SubscribeRecord:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise RegistryError(
                "le corps n'est pas du JSON valide",
                code=ErrorCode.REGISTRY_INVALID_REQUEST,
                path="$",
                status=400,
            ) from None
        if not isinstance(data, dict):
            raise RegistryError(
                "un objet JSON est attendu (l'enregistrement du participant)",
                code=ErrorCode.REGISTRY_INVALID_REQUEST,
                path="$",
                status=400,
            )
        try:
            return SubscribeRecord.model_validate(data)
        except ValidationError as exc:
            raise validation_nack(exc) from None

    def _current(self, subscriber_id: str) -> Subscriber | None:
        with read_session(self.sessions) as session:
            return repo.get_subscriber(session, subscriber_id)

    def _commit_subscribe(
        self, body: bytes, header: SignatureHeader, record: SubscribeRecord
    ) -> SubscribeOutcome:
        for attempt in range(3):
            try:
                outcome = self._write_subscribe(body, header, record)
            except (IntegrityError, OperationalError) as exc:
                # A concurrent writer won a race the locks did not cover: decide again.
                if attempt == 2:
                    raise
                log.info("inscription de %s rejouée après %s", record.subscriber_id, exc)
                continue
            self.snapshot.invalidate()
            return outcome
        raise AssertionError("unreachable")

    def _write_subscribe(
        self, body: bytes, header: SignatureHeader, record: SubscribeRecord
    ) -> SubscribeOutcome:
        now = utcnow()
        with write_session(self.sessions) as session:
            repo.bump_revision(session)
            existing = repo.get_subscriber(session, record.subscriber_id, for_update=True)
            plan = plan_subscribe(existing, header, record, now, self.settings.clock_skew_seconds)
            # The state may have changed since the first check: verify against this plan's key.
            verify_signature(
                body, header, plan.verify_key, invalid_code=ErrorCode.REGISTRY_INVALID_SIGNATURE
            )
            before = existing.snapshot() if existing is not None else None
            if existing is None:
                status = (
                    SubscriberStatus.SUBSCRIBED
                    if self.settings.policy == Policy.OPEN
                    else SubscriberStatus.UNDER_SUBSCRIPTION
                )
                subscriber = Subscriber(
                    subscriber_id=record.subscriber_id,
                    url=record.url,
                    type=record.type,
                    country=record.country,
                    status=status,
                    created_at=now,
                    updated_at=now,
                )
                session.add(subscriber)
            else:
                subscriber = existing
                if self.settings.policy == Policy.APPROVAL and widens_reach(existing, record):
                    # What the operator approved no longer covers this record: it waits for
                    # approval again, out of lookups, rather than gaining reach unseen.
                    subscriber.status = SubscriberStatus.UNDER_SUBSCRIPTION
                subscriber.url = record.url
                subscriber.type = record.type
                subscriber.country = record.country
                subscriber.updated_at = now
            repo.sync_domains(subscriber, record.domains)
            repo.sync_regions(subscriber, record.regions)
            key = subscriber.key(record.key_id)
            if key is None:
                subscriber.keys.append(
                    SubscriberKey(
                        key_id=record.key_id,
                        signing_public_key=record.signing_public_key,
                        encr_public_key=record.encr_public_key,
                        valid_from=record.valid_from,
                        valid_until=record.valid_until,
                        status=KeyStatus.ACTIVE,
                        created_at=now,
                        updated_at=now,
                    )
                )
            elif (key.valid_from, key.valid_until) != (record.valid_from, record.valid_until):
                key.valid_from = record.valid_from
                key.valid_until = record.valid_until
                key.updated_at = now
            session.flush()
            after = subscriber.snapshot()
            repo.add_audit(
                session,
                actor=f"participant:{header.subscriber_id}|{header.key_id}",
                action=plan.kind.value,
                subscriber_id=record.subscriber_id,
                key_id=record.key_id,
                at=now,
                before=before,
                after=after,
            )
            action = plan.kind.value
            if (
                plan.kind == SubscribeKind.CREATE
                and subscriber.status != SubscriberStatus.SUBSCRIBED
            ):
                action = "awaiting_approval"
            return SubscribeOutcome(record.subscriber_id, record.key_id, subscriber.status, action)

    # --- operator -----------------------------------------------------------------------------

    def change_status(
        self, actor: str, action: str, subscriber_id: str, reason: str | None = None
    ) -> dict[str, Any]:
        allowed, target = _TRANSITIONS[action]
        now = utcnow()
        with write_session(self.sessions) as session:
            repo.bump_revision(session)
            subscriber = self._require(session, subscriber_id)
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
            session.flush()
            after = subscriber.snapshot()
            answer = {**after, **_suspension_view(subscriber, self.suspension_grace)}
            repo.add_audit(
                session,
                actor=actor,
                action=action,
                subscriber_id=subscriber_id,
                at=now,
                before=before,
                after=after,
                reason=reason,
            )
        self.snapshot.invalidate()
        self.metrics.inc("registry_admin_actions_total", action=action)
        return answer

    def revoke_key(
        self, actor: str, subscriber_id: str, key_id: str, reason: str | None = None
    ) -> dict[str, Any]:
        now = utcnow()
        with write_session(self.sessions) as session:
            repo.bump_revision(session)
            subscriber = self._require(session, subscriber_id)
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
            key.status = KeyStatus.REVOKED
            key.revoked_at = now
            key.updated_at = now
            subscriber.updated_at = now
            session.flush()
            after = subscriber.snapshot()
            repo.add_audit(
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
        self.snapshot.invalidate()
        self.metrics.inc("registry_admin_actions_total", action="revoke_key")
        return after

    @staticmethod
    def _require(session: Session, subscriber_id: str) -> Subscriber:
        subscriber = repo.get_subscriber(session, subscriber_id, for_update=True)
        if subscriber is None:
            raise RegistryError(
                f"participant {subscriber_id!r} inconnu",
                code=ErrorCode.REGISTRY_NOT_FOUND,
                path="subscriber_id",
                status=404,
            )
        return subscriber

    def list_subscribers(self, **filters: Any) -> dict[str, Any]:
        with read_session(self.sessions) as session:
            total, rows = repo.list_subscribers(session, **filters)
            grace = self.suspension_grace
            return {"total": total, "subscribers": [admin_view(s, grace) for s in rows]}

    def get_subscriber(self, subscriber_id: str) -> dict[str, Any]:
        with read_session(self.sessions) as session:
            subscriber = repo.get_subscriber(session, subscriber_id)
            if subscriber is None:
                raise RegistryError(
                    f"participant {subscriber_id!r} inconnu",
                    code=ErrorCode.REGISTRY_NOT_FOUND,
                    path="subscriber_id",
                    status=404,
                )
            return admin_view(subscriber, self.suspension_grace)

    def audit(self, **filters: Any) -> list[dict[str, Any]]:
        with read_session(self.sessions) as session:
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
                for entry in repo.audit_entries(session, **filters)
            ]

    def statistics(self) -> dict[str, Any]:
        with read_session(self.sessions) as session:
            return repo.statistics(session)

    def health(self) -> dict[str, Any]:
        with read_session(self.sessions) as session:
            counts = repo.count_subscribers(session)
        return {"status": "ok", "database": "ok", "subscribers": counts}


def admin_view(subscriber: Subscriber, grace: timedelta | None = None) -> dict[str, Any]:
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


def _suspension_view(subscriber: Subscriber, grace: timedelta | None) -> dict[str, Any]:
    """``suspended_at`` and, for a participant in its grace period, ``grace_until``."""
    view: dict[str, Any] = {
        "suspended_at": rfc3339(subscriber.suspended_at) if subscriber.suspended_at else None
    }
    if subscriber.suspended_at is not None and grace:
        view["grace_until"] = rfc3339(subscriber.suspended_at + grace)
    return view


def widens_reach(existing: Subscriber, record: SubscribeRecord) -> bool:
    """Whether an update asks for more than the operator approved: another role or country,
    a domain or a region not held before (``*`` widens any list that lacked it)."""
    if record.type != existing.type or record.country != existing.country:
        return True
    if not set(record.domains) <= set(existing.domain_list):
        return True
    held = set(existing.region_list)
    return "*" not in held and not set(record.regions) <= held
