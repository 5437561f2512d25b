"""The registry's core: its identity and signer, its database, its metrics, the lookup
snapshot (rebuilt from the database after every write) and the challenger, which the feature
services share; what it says about itself (its public record, its revision, its health)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.protocol.errors import ErrorCode
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.signing import Signer
from reseau_poles.storage import make_session_factory, read_session, utcnow

from ..errors import RegistryError
from ..metrics import Metrics, registry_metrics
from ..repositories import lookup as lookup_repo
from ..repositories import participants as participant_repo
from ..repositories import state as state_repo
from ..repositories import stats as stats_repo
from ..repositories.lookup import LookupRow
from ..repositories.participants import Participant
from ..settings import RegistrySettings
from ..tables import SubscriberStatus
from .challenge import Challenger
from .snapshot import Entry, LookupSnapshot, entry_from_row

log = logging.getLogger("reseau_poles.registry")

REGISTRY_KEY_LIFETIME = timedelta(days=3650)


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
        self.metrics = metrics or registry_metrics()
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

    # --- shared by the feature services -------------------------------------------------------

    @property
    def suspension_grace(self) -> timedelta:
        return timedelta(seconds=self.settings.suspension_grace_seconds)

    def written(self, action: str) -> None:
        """After an operator's write committed: the next lookup reloads, the action counts."""
        self.snapshot.invalidate()
        self.metrics.inc("registry_admin_actions_total", action=action)

    @staticmethod
    def require(session: Session, subscriber_id: str) -> Participant:
        """The participant, locked for the transaction; 404 when unknown."""
        participant = participant_repo.get_participant(session, subscriber_id, for_update=True)
        if participant is None:
            raise unknown(subscriber_id)
        return participant

    # --- what the registry says about itself --------------------------------------------------

    def revision(self) -> int:
        with read_session(self.sessions) as session:
            return state_repo.read_revision(session)

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

    def health(self) -> dict[str, Any]:
        with read_session(self.sessions) as session:
            counts = stats_repo.count_subscribers(session)
        return {"status": "ok", "database": "ok", "subscribers": counts}

    def _load_entries(self) -> tuple[int, list[Entry]]:
        now = utcnow()
        grace = self.suspension_grace
        with read_session(self.sessions) as session:
            revision = state_repo.read_revision(session)
            rows = lookup_repo.lookup_rows(session, now, now - grace if grace else None)
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


def unknown(subscriber_id: str) -> RegistryError:
    return RegistryError(
        f"participant {subscriber_id!r} inconnu",
        code=ErrorCode.REGISTRY_NOT_FOUND,
        path="subscriber_id",
        status=404,
    )
