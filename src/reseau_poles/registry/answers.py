"""What the registry answers when it agrees (documentation of :mod:`.api`; see
:mod:`reseau_poles.participant.answers`). Refusals are the NACK (``AckResponse``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from reseau_poles.participant.answers import Answer


class RegistryRecord(Answer):
    """The registry's own public record (``/.well-known/reseau-poles/registry.json``)."""

    subscriber_id: str
    key_id: str
    signing_public_key: str = Field(description="Clé publique Ed25519, base64.")
    encr_public_key: str = Field(description="Clé publique X25519, base64 (32 octets).")
    encr_public_key_der: str = Field(description="La même en SPKI DER, base64 (outils ONDC).")
    challenge_scheme: str = Field(description="Chiffrement du défi /on_subscribe.")
    url: str
    type: str = Field(examples=["BREG"])


class Revision(Answer):
    revision: int = Field(description="Croît à chaque changement du registre.")


class RegistryHealth(Answer):
    """``GET /health`` (503 ``degraded`` quand la base ne répond pas)."""

    status: str = Field(examples=["ok"])
    database: str
    subscribers: dict[str, int] = Field(description="Participants par statut.")
    snapshot_revision: int | None = Field(description="Révision de l'index des `lookup`.")
    policy: str = Field(description="Politique d'inscription (`open`, `approval` …).")


class Ack(Answer):
    status: str = Field(examples=["ACK"])


class AckMessage(Answer):
    ack: Ack


class SubscribeOutcome(Answer):
    subscriber_id: str
    key_id: str
    status: str = Field(description="`INITIATED`, `UNDER_SUBSCRIPTION`, `SUBSCRIBED` …")
    action: str = Field(description="Ce que le registre a fait de la demande.")


class SubscribeAnswer(Answer):
    """The ACK of ``/subscribe``, with where the participant stands."""

    message: AckMessage
    subscriber: SubscribeOutcome


class LookupCity(Answer):
    code: str


class LookupLocation(Answer):
    city: LookupCity
    country: LookupCity


class LookupRecord(Answer):
    """One participant and one of its keys, as ``lookup`` lists them (ONDC/Beckn names)."""

    subscriber_id: str
    url: str
    subscriber_url: str = Field(description="Le même que `url`.")
    type: str = Field(description="`BAP`, `BPP`, `BG` ou `BREG`.")
    domain: str
    domains: list[str]
    city: str
    regions: list[str]
    country: str
    location: LookupLocation
    key_id: str
    ukId: str = Field(description="Le même que `key_id` (nom ONDC).")
    unique_key_id: str = Field(description="Le même que `key_id`.")
    signing_public_key: str
    encr_public_key: str
    valid_from: str
    valid_until: str
    status: str
    created: str
    updated: str
    suspended_at: str | None = Field(default=None, description="Suspendu : depuis quand.")
    grace_until: str | None = Field(default=None, description="Suspendu : fin de la grâce.")


class KeySnapshot(Answer):
    key_id: str
    signing_public_key: str
    encr_public_key: str
    valid_from: str
    valid_until: str
    status: str = Field(description="`ACTIVE`, `REVOKED` …")


class SubscriberSnapshot(Answer):
    """A participant and its keys, as the audit log keeps it."""

    subscriber_id: str
    url: str
    type: str
    domains: list[str]
    regions: list[str]
    country: str
    status: str
    keys: list[KeySnapshot]


class StatusChanged(SubscriberSnapshot):
    """A participant after a change of status."""

    suspended_at: str | None
    grace_until: str | None = Field(default=None, description="Fin de la période de grâce.")


class AdminKeyView(KeySnapshot):
    valid_now: bool = Field(description="Active et dans sa période de validité.")


class AdminSubscriber(Answer):
    """The operator's view of a participant: every key, and its suspension."""

    subscriber_id: str
    url: str
    type: str
    domains: list[str]
    regions: list[str]
    country: str
    status: str
    keys: list[AdminKeyView]
    created: str
    updated: str
    suspended_at: str | None
    grace_until: str | None = Field(default=None, description="Fin de la période de grâce.")


class SubscriberPage(Answer):
    total: int
    subscribers: list[AdminSubscriber]


class Rejected(Answer):
    subscriber_id: str
    status: str = Field(examples=["REJECTED"])


class ExpiringKey(Answer):
    subscriber_id: str
    status: str
    key_id: str
    valid_until: str
    days_left: float
    expired: bool


class AuditEntry(Answer):
    id: int
    at: str
    actor: str
    action: str
    subscriber_id: str | None
    key_id: str | None
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class Statistics(Answer):
    """Participants per status; subscribed ones per role, domain and region; keys per status."""

    by_status: dict[str, int]
    by_type: dict[str, int]
    by_domain: dict[str, int]
    by_region: dict[str, int]
    keys: dict[str, int]
