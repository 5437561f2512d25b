"""A participant changes its key without the operator, and hears before its key expires.

``rotate_key``: a new key pair is made in ``{key_dir}/nouvelle-cle``, subscribed to the
registry with a record signed by the current key (the registry trusts a key vouched for by a
key it holds), then the current key's window is cut to ``overlap`` from now (both keys are
valid meanwhile, so messages signed with either are accepted while the node restarts), and the
new key takes the current one's place in ``key_dir``; the old one is kept in
``{key_dir}/anciennes-cles/{key_id}``. The registry seals each challenge to the key being
registered: the running node answers with :func:`open_any_challenge`, which tries its own key,
then the key folder's (installed since it started) and the pending one — as a sealed box, then
(:func:`answer_registry_challenge`) as ONDC's AES-256-ECB under the X25519 shared secret with
the registry's encryption key: the challenge's form says which (registry/README.md, "Le
contrat /on_subscribe").

``rotate_offline``: the same new key in place, without the registry — when the current key
is lost, revoked or expired; the operator then registers it (``registry admin add-key``).

``KeyExpiryWatch``: asks the registry for our key's window at start and every
``interval``, logs a warning when it ends within ``warn_days``, and says so in ``/health``.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from reseau_poles.keystore import KeyFiles
from reseau_poles.protocol.dates import rfc3339
from reseau_poles.protocol.errors import KeyFormatError
from reseau_poles.protocol.keys import (
    EncryptionKeyPair,
    SubscriberKeys,
    b64decode,
    decode_encryption_public_key,
    ondc_open_challenge,
    open_challenge,
)

PENDING_DIR = "nouvelle-cle"
RETIRED_DIR = "anciennes-cles"
DEFAULT_OVERLAP_HOURS = 48.0
# The registry refuses a window already over: the old key gets at least this long.
MIN_OVERLAP = timedelta(minutes=1)
DEFAULT_WARN_DAYS = 30
DEFAULT_CHECK_HOURS = 12.0
RETRY_SECONDS = 60.0  # the next check when the key was not listed or the registry silent

log = logging.getLogger("reseau_poles.keys")


def _candidate_keys(keys: SubscriberKeys, key_dir: Path | str | None) -> list[EncryptionKeyPair]:
    """Our running encryption key, then the key folder's current and pending ones (a rotation
    under way), each once."""
    found = [keys.encryption]
    if key_dir is None:
        return found
    folder = Path(key_dir)
    for candidate in (KeyFiles(folder), KeyFiles(folder / PENDING_DIR)):
        try:
            other = candidate.read() if candidate.exists() else None
        except KeyFormatError:
            other = None
        if other is None or other.subscriber_id != keys.subscriber_id:
            continue
        if other.encryption not in found:
            found.append(other.encryption)
    return found


def looks_like_ondc(encrypted: str) -> bool:
    """A challenge that may be ONDC's: AES blocks (a multiple of 16 bytes). A sealed box is
    48 bytes longer than its text, and the registry's challenge is 43 bytes: never so."""
    try:
        raw = b64decode(encrypted)
    except KeyFormatError:
        return False
    return bool(raw) and len(raw) % 16 == 0


def open_any_challenge(
    keys: SubscriberKeys,
    key_dir: Path | str | None,
    encrypted: str,
    registry_encryption_key: str | None = None,
) -> str:
    """Open the registry's challenge with the running key, else with the key folder's current
    or pending key (a rotation under way): as a sealed box, then — when the registry's
    encryption key is given and the challenge has the form — as ONDC's AES-256-ECB. Raises
    ``KeyFormatError`` when nothing opens it."""
    candidates = _candidate_keys(keys, key_dir)
    for pair in candidates:
        try:
            return open_challenge(pair, encrypted)
        except KeyFormatError:
            continue
    if registry_encryption_key and looks_like_ondc(encrypted):
        for pair in candidates:
            try:
                return ondc_open_challenge(pair, registry_encryption_key, encrypted)
            except KeyFormatError:
                continue
    raise KeyFormatError("défi non chiffré pour une clé de ce participant")


async def fetch_registry_encryption_key(registry_url: str, timeout: float = 3.0) -> str | None:
    """The registry's X25519 public key from its well-known document, or ``None``."""
    from .lookup import WELL_KNOWN_PATH

    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as http:
            response = await http.get(registry_url.rstrip("/") + WELL_KNOWN_PATH)
            value = response.json().get("encr_public_key") if response.status_code == 200 else None
        if isinstance(value, str):
            decode_encryption_public_key(value)
            return value
    except (httpx.HTTPError, ValueError, AttributeError, KeyFormatError) as exc:
        log.warning("clé de chiffrement du registre illisible à %s : %s", registry_url, exc)
    return None


async def answer_registry_challenge(
    keys: SubscriberKeys,
    key_dir: Path | str | None,
    encrypted: str,
    *,
    registry_encryption_key: str | None,
    registry_url: str | None,
) -> str:
    """What ``/on_subscribe`` answers: the challenge opened, whichever scheme the registry
    used. The registry's encryption key (ONDC's scheme only) is the configured one, else the
    one of ``registry_url``'s well-known document, read only when a sealed box did not open."""
    try:
        return open_any_challenge(keys, key_dir, encrypted, registry_encryption_key)
    except KeyFormatError:
        if registry_encryption_key or not registry_url or not looks_like_ondc(encrypted):
            raise
    fetched = await fetch_registry_encryption_key(registry_url)
    if fetched is None:
        raise KeyFormatError("défi ONDC, mais clé de chiffrement du registre inconnue")
    return open_any_challenge(keys, key_dir, encrypted, fetched)


@dataclass(frozen=True)
class Participant:
    """What a node declares to the registry (the record around its key)."""

    registry_url: str
    subscriber_id: str
    url: str
    type: str
    domains: list[str]
    regions: list[str]
    country: str = "CAN"


@dataclass(frozen=True)
class Rotation:
    old_key_id: str
    new_key_id: str
    old_valid_until: datetime  # the end of the overlap
    new_valid_until: datetime
    status: str


class RotationError(Exception):
    """The rotation stopped; ``message`` says where and what to do (French)."""


def own_window(
    registry_url: str, subscriber_id: str, key_id: str, *, timeout: float = 10.0
) -> tuple[datetime, datetime] | None:
    """Our key's window as the registry's lookup lists it; ``None`` when it is not listed
    (revoked, over, participant suspended or awaiting approval)."""
    from .registry_client import lookup

    records = lookup(registry_url, subscriber_id=subscriber_id, key_id=key_id, timeout=timeout)
    return _window_in(records, subscriber_id, key_id)


def _window_in(records: Any, subscriber_id: str, key_id: str) -> tuple[datetime, datetime] | None:
    if not isinstance(records, list):
        return None
    for record in records:
        if (
            isinstance(record, dict)
            and str(record.get("subscriber_id", "")).lower() == subscriber_id.lower()
            and record.get("key_id") == key_id
        ):
            try:
                return _moment(record["valid_from"]), _moment(record["valid_until"])
            except (KeyError, TypeError, ValueError):
                return None
    return None


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def rotate_key(
    participant: Participant,
    key_dir: Path | str,
    *,
    overlap: timedelta,
    timeout: float = 30.0,
) -> Rotation:
    """Register a new key signed by the current one, cut the current one to ``overlap``, and
    put the new one in ``key_dir``. Raises ``RegistryRefusal`` (the registry said no: nothing
    changed in ``key_dir``, the pending key is kept for a retry), ``httpx.HTTPError``,
    ``KeyFormatError`` or :class:`RotationError`."""
    from .registry_client import signer_for, subscribe

    folder = Path(key_dir)
    old = KeyFiles(folder).read()
    if old.subscriber_id != participant.subscriber_id:
        raise RotationError(
            f"{folder} contient les clés de {old.subscriber_id!r}, pas de "
            f"{participant.subscriber_id!r}"
        )
    window = own_window(participant.registry_url, old.subscriber_id, old.key_id)
    pending = KeyFiles(folder / PENDING_DIR)
    if pending.exists():  # an earlier attempt stopped: the same new key, not yet another one
        new = pending.read()
        if new.subscriber_id != old.subscriber_id or new.key_id == old.key_id:
            raise RotationError(f"{pending.folder} ne contient pas une nouvelle clé valable")
    else:
        new = SubscriberKeys.generate(old.subscriber_id)
        pending.write(new)

    def send(keys: SubscriberKeys, signer: SubscriberKeys, **window: datetime) -> dict[str, Any]:
        return subscribe(
            participant.registry_url,
            keys,
            url=participant.url,
            type=participant.type,
            domains=participant.domains,
            regions=participant.regions,
            country=participant.country,
            signer=signer_for(signer),
            timeout=timeout,
            **window,
        )

    now = datetime.now(UTC).replace(microsecond=0)
    answer = send(new, old)  # the new key, vouched for by the current one
    new_until = own_window(participant.registry_url, new.subscriber_id, new.key_id)
    old_from = window[0] if window else old.created.astimezone(UTC)
    old_until = now + max(overlap, MIN_OVERLAP)
    if window is not None and window[1] < old_until:
        old_until = window[1]  # never lengthen the old key's life
    send(old, new, valid_from=old_from, valid_until=old_until)
    install(folder, old, new)
    return Rotation(
        old_key_id=old.key_id,
        new_key_id=new.key_id,
        old_valid_until=old_until,
        new_valid_until=new_until[1] if new_until else now + timedelta(days=365),
        status=str(answer.get("status") or "?"),
    )


def rotate_offline(key_dir: Path | str, subscriber_id: str) -> SubscriberKeys:
    """A new key in ``key_dir`` (the current one, if any, kept under ``anciennes-cles``),
    not registered: the operator registers it (``registry admin add-key``)."""
    folder = Path(key_dir)
    files = KeyFiles(folder)
    old = None
    if files.exists():
        try:
            old = files.read()
        except KeyFormatError:
            old = None
    if old is not None and old.subscriber_id != subscriber_id:
        raise RotationError(f"{folder} contient les clés de {old.subscriber_id!r}")
    new = SubscriberKeys.generate(subscriber_id)
    install(folder, old, new)
    return new


def install(folder: Path, old: SubscriberKeys | None, new: SubscriberKeys) -> None:
    """``new`` becomes the folder's key; ``old`` is kept under ``anciennes-cles/{key_id}``."""
    if old is not None:
        KeyFiles(folder / RETIRED_DIR / old.key_id).write(old, overwrite=True)
    KeyFiles(folder).write(new, overwrite=True)
    shutil.rmtree(folder / PENDING_DIR, ignore_errors=True)


# --- warning before the key expires -------------------------------------------------------------


class KeyExpiryWatch:
    """Our key's end, read from the registry's lookup: a warning in the log at start and every
    ``interval`` when it is within ``warn_days``; :meth:`report` for ``/health``."""

    def __init__(
        self,
        registry_url: str | None,
        keys: SubscriberKeys,
        *,
        warn_days: float = DEFAULT_WARN_DAYS,
        interval: float = DEFAULT_CHECK_HOURS * 3600,
        rotate_command: str = "reseau-poles … rotate-key",
        timeout: float = 5.0,
    ) -> None:
        self.registry_url = registry_url
        self.keys = keys
        self.warn_days = warn_days
        self.interval = interval
        self.rotate_command = rotate_command
        self.timeout = timeout
        self.valid_until: datetime | None = None
        self.checked_at: datetime | None = None
        self.listed: bool | None = None

    def report(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        days = (
            round((self.valid_until - now).total_seconds() / 86400, 1)
            if self.valid_until is not None
            else None
        )
        return {
            "key_id": self.keys.key_id,
            "valid_until": rfc3339(self.valid_until) if self.valid_until else None,
            "days_left": days,
            "expires_soon": days is not None and days <= self.warn_days,
            "listed": self.listed,
            "checked_at": rfc3339(self.checked_at) if self.checked_at else None,
        }

    async def check(self) -> None:
        if not self.registry_url:
            return
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.post(
                    f"{self.registry_url.rstrip('/')}/lookup",
                    json={"subscriber_id": self.keys.subscriber_id, "key_id": self.keys.key_id},
                )
                response.raise_for_status()
                records = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.info("échéance de la clé non vérifiée : registre injoignable (%s)", exc)
            return
        self.checked_at = datetime.now(UTC)
        window = _window_in(records, self.keys.subscriber_id, self.keys.key_id)
        was_listed, self.listed = self.listed, window is not None
        if window is None:
            if was_listed is not False:  # said once, not at every check; loud if it was listed
                log.log(
                    logging.WARNING if was_listed else logging.INFO,
                    "la clé %s de %s n'est pas listée par le registre (pas encore inscrite ou "
                    "approuvée, révoquée, expirée, ou participant suspendu)",
                    self.keys.key_id,
                    self.keys.subscriber_id,
                )
            return
        self.valid_until = window[1]
        report = self.report()
        if report["expires_soon"]:
            log.warning(
                "la clé %s de %s expire le %s (dans %s jours) : changez-la avec « %s »",
                self.keys.key_id,
                self.keys.subscriber_id,
                report["valid_until"],
                report["days_left"],
                self.rotate_command,
            )

    async def run(self) -> None:
        if not self.registry_url:
            return
        while True:
            await self.check()
            # Not listed yet (a node started before it subscribes) or no answer: soon again.
            known = self.listed and self.valid_until is not None
            await asyncio.sleep(self.interval if known else min(self.interval, RETRY_SECONDS))
