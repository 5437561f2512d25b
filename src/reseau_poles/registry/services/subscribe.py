"""A participant joins the network or updates its record: ``POST /subscribe``, signed, then
the challenge to its ``/on_subscribe``, then one transaction (decided again on fresh rows)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError

from reseau_poles.protocol.errors import ErrorCode, ProtocolError, SignatureError
from reseau_poles.protocol.signing import (
    KeyValidity,
    SignatureHeader,
    check_header,
    parse_header,
    verify_signature,
)
from reseau_poles.storage import read_session, utcnow, write_session

from ..errors import RegistryError
from ..repositories import audit as audit_repo
from ..repositories import participants as participant_repo
from ..repositories import state as state_repo
from ..repositories.participants import Participant, ParticipantKey
from ..requests import SubscribeRecord, check_window, validation_nack
from ..settings import Policy
from ..tables import KeyStatus, SubscriberStatus
from .registry import RegistryService

log = logging.getLogger("reseau_poles.registry")


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
    existing: Participant | None,
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


class Subscriptions:
    """``/subscribe``: checks, the challenge, the write, the audit entry."""

    def __init__(self, registry: RegistryService) -> None:
        self.registry = registry

    async def subscribe(
        self, body: bytes, authorization: str | None, source: str = "?"
    ) -> SubscribeOutcome:
        """``source``: the caller's address (a few subscribes at once per address, then 429)."""
        try:
            with self.registry.challenger.gate.hold(source):
                outcome = await self._subscribe(body, authorization)
        except ProtocolError as exc:
            self.registry.metrics.inc(
                "registry_subscriptions_total", outcome="rejected", code=exc.code.value
            )
            raise
        self.registry.metrics.inc("registry_subscriptions_total", outcome=outcome.action, code="")
        return outcome

    async def _subscribe(self, body: bytes, authorization: str | None) -> SubscribeOutcome:
        now = utcnow()
        record = self._parse_record(body)
        check_window(record, now)
        self.registry.challenger.check_url(record.url)
        try:
            header = parse_header(authorization)
        except SignatureError as exc:
            raise _signature_error(exc.reason, exc.message) from None
        skew = self.registry.settings.clock_skew_seconds
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
        await self.registry.challenger.run(record)
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

    def _current(self, subscriber_id: str) -> Participant | None:
        with read_session(self.registry.sessions) as session:
            return participant_repo.get_participant(session, subscriber_id)

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
            self.registry.snapshot.invalidate()
            return outcome
        raise AssertionError("unreachable")

    def _write_subscribe(
        self, body: bytes, header: SignatureHeader, record: SubscribeRecord
    ) -> SubscribeOutcome:
        now = utcnow()
        settings = self.registry.settings
        with write_session(self.registry.sessions) as session:
            state_repo.bump_revision(session)
            existing = participant_repo.get_participant(
                session, record.subscriber_id, for_update=True
            )
            plan = plan_subscribe(existing, header, record, now, settings.clock_skew_seconds)
            # The state may have changed since the first check: verify against this plan's key.
            verify_signature(
                body, header, plan.verify_key, invalid_code=ErrorCode.REGISTRY_INVALID_SIGNATURE
            )
            before = existing.snapshot() if existing is not None else None
            new_key = ParticipantKey(
                id=0,
                key_id=record.key_id,
                signing_public_key=record.signing_public_key,
                encr_public_key=record.encr_public_key,
                valid_from=record.valid_from,
                valid_until=record.valid_until,
                status=KeyStatus.ACTIVE,
                created_at=now,
                updated_at=now,
            )
            if existing is None:
                subscriber = Participant(
                    subscriber_id=record.subscriber_id,
                    url=record.url,
                    type=record.type,
                    country=record.country,
                    status=(
                        SubscriberStatus.SUBSCRIBED
                        if settings.policy == Policy.OPEN
                        else SubscriberStatus.UNDER_SUBSCRIPTION
                    ),
                    created_at=now,
                    updated_at=now,
                    domains=list(record.domains),
                    regions=list(record.regions),
                    keys=[new_key],
                )
                participant_repo.insert_participant(session, subscriber)
            else:
                subscriber = existing
                if settings.policy == Policy.APPROVAL and widens_reach(existing, record):
                    # What the operator approved no longer covers this record: it waits for
                    # approval again, out of lookups, rather than gaining reach unseen.
                    subscriber.status = SubscriberStatus.UNDER_SUBSCRIPTION
                subscriber.url = record.url
                subscriber.type = record.type
                subscriber.country = record.country
                subscriber.updated_at = now
                participant_repo.update_participant(
                    session,
                    subscriber.subscriber_id,
                    status=subscriber.status,
                    url=subscriber.url,
                    type=subscriber.type,
                    country=subscriber.country,
                    updated_at=now,
                )
                participant_repo.set_domains(
                    session, subscriber.subscriber_id, subscriber.domains, record.domains
                )
                participant_repo.set_regions(
                    session, subscriber.subscriber_id, subscriber.regions, record.regions
                )
                subscriber.domains = list(record.domains)
                subscriber.regions = list(record.regions)
                key = subscriber.key(record.key_id)
                if key is None:
                    participant_repo.add_key(session, subscriber.subscriber_id, new_key)
                    subscriber.keys.append(new_key)
                elif (key.valid_from, key.valid_until) != (record.valid_from, record.valid_until):
                    participant_repo.update_key(
                        session,
                        key,
                        valid_from=record.valid_from,
                        valid_until=record.valid_until,
                        updated_at=now,
                    )
            after = subscriber.snapshot()
            audit_repo.add_audit(
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


def widens_reach(existing: Participant, record: SubscribeRecord) -> bool:
    """Whether an update asks for more than the operator approved: another role or country,
    a domain or a region not held before (``*`` widens any list that lacked it)."""
    if record.type != existing.type or record.country != existing.country:
        return True
    if not set(record.domains) <= set(existing.domains):
        return True
    held = set(existing.regions)
    return "*" not in held and not set(record.regions) <= held
