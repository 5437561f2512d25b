"""Webhooks: a node's events, signed and retried, to the software its owners already run.

A node (the seller for its pôles, the buyer for its organisations) keeps subscriptions per
owner in its own table, made by :func:`webhook_table` on its ``MetaData`` with its prefix
(``seller_webhooks``, ``buyer_webhooks``). :meth:`Webhooks.emit` writes one outbox row per
matching subscription **in the caller's transaction**, beside the state change it reports:
both happen or neither does. The network outbox worker then delivers the rows through the
transport installed by :meth:`Webhooks.install` (an unsigned-by-Beckn ``POST`` to the
subscription's URL), retrying with backoff like any callback.

What the receiver gets (a JSON ``POST``)::

    Content-Type: application/json
    X-Reseau-Poles-Event-Id: evt_…          same on every retry: de-duplicate on it
    X-Reseau-Poles-Event-Type: order.confirmed
    X-Reseau-Poles-Signature: t=1764140000,v1=5257a8…
    {"id": "evt_…", "type": "order.confirmed", "created": "…Z", "owner_id": "…", "data": {…}}

``v1`` is the hex HMAC-SHA256, keyed with the subscription's secret, of ``f"{t}."`` followed by
the raw body bytes; ``t`` is the Unix time of the attempt (each retry signs again), so a
receiver refuses stale deliveries. :func:`verify_signature` is the receiver's check.

A 2xx answer is a delivery. 5xx, 429, 401 (a secret being rotated), timeouts and refused
connections are retried with backoff until the outbox deadline; any other 4xx fails the
delivery at once (a 410 means "stop"); redirects are not followed (a 3xx fails it too). A
deleted or deactivated subscription stops its pending deliveries.

Destinations follow the node's policy (:mod:`reseau_poles.network.destinations`): checked when a subscription
is made, and again at every attempt, when the name is resolved and the request sent to the
address just checked; a forbidden destination fails the delivery at once, its reason in the
delivery's ``last_error``.

Secrets are stored sealed (:mod:`reseau_poles.participant.webhook_secrets`), with a key kept in the
node's ``key_dir`` beside its private keys; they are opened only to sign a delivery. A secret
the key cannot open (a lost key file) fails its deliveries with ``secret_illisible`` and its
subscription is listed with ``needs_new_secret``: never an error of the whole API.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import hmac
import json
import logging
import os
import secrets
import ssl
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine, insert, select, update

from reseau_poles.network.client import USER_AGENT, CallResult, NetworkClient
from reseau_poles.network.destinations import (
    Destination,
    DestinationPolicy,
    DestinationRefused,
    IPAddress,
    pinned_request,
)
from reseau_poles.network.outbound import FailureKind, HttpxTransport
from reseau_poles.network.outgoing import Outgoing
from reseau_poles.network.tables import outbox_table
from reseau_poles.protocol.moments import wire_time
from reseau_poles.storage import UTCDateTime, utcnow

from .webhook_secrets import SecretCipher, SecretUnreadable, is_sealed, shown_prefix

log = logging.getLogger(__name__)

SCHEME: Final = "webhook"
SIGNATURE_HEADER: Final = "X-Reseau-Poles-Signature"
EVENT_ID_HEADER: Final = "X-Reseau-Poles-Event-Id"
EVENT_TYPE_HEADER: Final = "X-Reseau-Poles-Event-Type"
SUBSCRIPTION_HEADER: Final = "X-Reseau-Poles-Webhook-Id"
DEFAULT_TOLERANCE: Final = 300
SECRET_PREFIX: Final = "whsec_"
SHOWN_LENGTH: Final = len(SECRET_PREFIX) + 4  # what the API lists of a secret
ALL_EVENTS: Final = "*"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def webhook_table(metadata: sa.MetaData, prefix: str) -> sa.Table:
    """The subscriptions table ``{prefix}_webhooks`` on ``metadata``.

    ``owner_id`` is the role's own owner (a provider id, an organisation id); event types are
    comma-wrapped (``,order.confirmed,fulfillment.changed,`` or ``,*,``).
    """
    name = f"{prefix}_webhooks"
    table = sa.Table(
        name,
        metadata,
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        # Sealed (reseau_poles.participant.webhook_secrets): never the secret in clear.
        sa.Column("secret", sa.String(255), nullable=False),
        sa.Column("event_types", sa.String(1024), nullable=False),
        sa.Column("description", sa.String(255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
    )
    sa.Index(f"ix_{name}_owner", table.c.owner_id)
    return table


# --- signatures --------------------------------------------------------------------------


def new_secret() -> str:
    """A fresh signing secret (shown once to the owner)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-Reseau-Poles-Signature`` value for ``body`` at ``timestamp`` (now by default)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


class WebhookSignatureError(ValueError):
    """A delivery whose signature header is missing, malformed, stale or wrong."""


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """Check a received delivery; returns its timestamp or raises
    :class:`WebhookSignatureError`. ``body`` must be the raw bytes received, not re-serialised
    JSON. Several ``v1`` values are accepted (any one may match), for secret rotation."""
    if not header:
        raise WebhookSignatureError("en-tête de signature absent")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise WebhookSignatureError("horodatage illisible") from None
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise WebhookSignatureError("en-tête de signature mal formé (t=…,v1=… attendu)")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookSignatureError("signature périmée (horodatage hors tolérance)")
    expected = sign(secret, body, timestamp).partition(",v1=")[2]
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise WebhookSignatureError("signature invalide")
    return timestamp


# --- subscriptions and events ------------------------------------------------------------


def _codes(values: Iterable[str]) -> str:
    return "," + ",".join(values) + ","


def _split(text: str) -> list[str]:
    return [value for value in text.split(",") if value]


class Webhooks:
    """Subscriptions in ``table`` and their deliveries through the network outbox.

    ``event_types``: the events this node emits (a subscription may only ask for these);
    ``policy``: where webhooks may go (by default https to public addresses only);
    ``key_dir``: the node's key folder, where the key sealing the secrets is kept (made at
    the first start).
    """

    # How many of a name's addresses one attempt tries when connections are refused.
    MAX_ADDRESSES: Final = 3

    def __init__(
        self,
        table: sa.Table,
        event_types: Iterable[str],
        policy: DestinationPolicy | None = None,
        *,
        key_dir: str | os.PathLike[str],
    ) -> None:
        self.table = table
        self.cipher = SecretCipher.load_or_create(key_dir)
        self.event_types = tuple(event_types)
        self.policy = policy or DestinationPolicy()
        self.engine: Engine | None = None
        self.client: NetworkClient | None = None
        self.timeout = httpx.Timeout(10.0, connect=3.0)
        self.max_response_bytes = 1_048_576
        # The trust store of https deliveries; ``None``: httpx's default (certifi's CAs).
        self.ssl_context: ssl.SSLContext | None = None

    def check_url(self, url: str) -> str:
        """``url`` if the policy accepts it as a destination, else
        :class:`~reseau_poles.network.destinations.DestinationRefused` (code and French message)."""
        self.policy.check_url(url)
        return url

    # -- management --

    def create(
        self,
        session: Any,
        owner_id: str,
        url: str,
        event_types: Iterable[str] = (ALL_EVENTS,),
        *,
        description: str | None = None,
    ) -> dict[str, Any]:
        """A new active subscription, returned with its secret (the only time it is shown)."""
        self.check_url(url)
        kinds = list(dict.fromkeys(event_types)) or [ALL_EVENTS]
        unknown = [k for k in kinds if k != ALL_EVENTS and k not in self.event_types]
        if unknown:
            raise ValueError(f"type d'événement inconnu : {unknown[0]}")
        secret = new_secret()
        now = utcnow()
        row_id = session.execute(
            insert(self.table)
            .values(
                owner_id=owner_id,
                url=url,
                secret=self.cipher.seal(secret, secret[:SHOWN_LENGTH]),
                event_types=_codes(kinds),
                description=description,
                active=True,
                created_at=now,
            )
            .returning(self.table.c.id)
        ).scalar_one()
        row = self.get(session, owner_id, int(row_id))
        assert row is not None
        return {**row, "secret": secret}

    def _public(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": int(row["id"]),
            "url": row["url"],
            "event_types": _split(row["event_types"]),
            "description": row["description"],
            "active": bool(row["active"]),
            "secret_prefix": shown_prefix(row["secret"], SHOWN_LENGTH),
            # The node's key cannot open this secret (key file lost or changed): the owner
            # must subscribe again; deliveries fail with ``secret_illisible`` meanwhile.
            "needs_new_secret": not self.cipher.readable(row["secret"]),
            "created_at": row["created_at"],
        }

    def list(self, session: Any, owner_id: str) -> list[dict[str, Any]]:
        rows = session.execute(
            select(self.table)
            .where(self.table.c.owner_id == owner_id, self.table.c.deleted_at.is_(None))
            .order_by(self.table.c.id)
        ).mappings()
        return [self._public(row) for row in rows]

    def get(self, session: Any, owner_id: str, webhook_id: int) -> dict[str, Any] | None:
        row = (
            session.execute(
                select(self.table).where(
                    self.table.c.id == webhook_id,
                    self.table.c.owner_id == owner_id,
                    self.table.c.deleted_at.is_(None),
                )
            )
            .mappings()
            .first()
        )
        return self._public(row) if row is not None else None

    def delete(self, session: Any, owner_id: str, webhook_id: int) -> bool:
        """Deactivate and hide a subscription; its pending deliveries stop."""
        result = session.execute(
            update(self.table)
            .where(
                self.table.c.id == webhook_id,
                self.table.c.owner_id == owner_id,
                self.table.c.deleted_at.is_(None),
            )
            .values(active=False, deleted_at=utcnow())
        )
        return result.rowcount == 1

    def deliveries(
        self, session: Any, owner_id: str, webhook_id: int, *, limit: int = 50
    ) -> builtins.list[dict[str, Any]] | None:
        """The newest deliveries of one subscription (from the outbox), or ``None`` if the
        owner has no such subscription."""
        if self.get(session, owner_id, webhook_id) is None:
            return None
        marker = json.dumps({SUBSCRIPTION_HEADER: str(webhook_id)})[1:-1]
        rows = session.execute(
            select(outbox_table)
            .where(
                outbox_table.c.action.like(f"{SCHEME}:%"),
                outbox_table.c.headers.like(f"%{marker}%"),
            )
            .order_by(outbox_table.c.id.desc())
            .limit(limit)
        ).mappings()
        return [
            {
                "event_id": row["message_id"],
                "event_type": row["action"].partition(":")[2],
                "status": row["status"],
                "attempts": row["attempts"],
                "last_http_status": row["last_http_status"],
                "last_error": row["last_error"],
                "created_at": row["created_at"],
                "next_attempt_at": row["next_attempt_at"],
                "delivered_at": row["delivered_at"],
            }
            for row in rows
        ]

    # -- events --

    def emit(
        self,
        out: Outgoing,
        session: Any,
        owner_id: str,
        event_type: str,
        data: Mapping[str, Any],
        *,
        transaction_id: str | None = None,
        event_id: str | None = None,
        created: datetime | None = None,
    ) -> str:
        """Queue ``event_type`` for every active subscription of ``owner_id`` that wants it,
        in the caller's transaction (``out.send``), sent once it committed. Returns the event id."""
        if event_type not in self.event_types:
            raise ValueError(f"type d'événement inconnu : {event_type}")
        event_id = event_id or f"evt_{uuid.uuid4().hex}"
        table = self.table
        targets = session.execute(
            select(table.c.id, table.c.url).where(
                table.c.owner_id == owner_id,
                table.c.active.is_(True),
                table.c.deleted_at.is_(None),
                sa.or_(
                    table.c.event_types.like(f"%,{event_type},%"),
                    table.c.event_types.like(f"%,{ALL_EVENTS},%"),
                ),
            )
        ).all()
        if not targets:
            return event_id
        stamp = wire_time(created or utcnow())
        body = json.dumps(
            {
                "id": event_id,
                "type": event_type,
                "created": stamp,
                "owner_id": owner_id,
                "data": data,
            },
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        ).encode()
        for subscription_id, url in targets:
            out.send(
                session,
                url,
                f"{SCHEME}:{event_type}",
                body,
                message_id=event_id,
                transaction_id=transaction_id,
                headers={
                    EVENT_ID_HEADER: event_id,
                    EVENT_TYPE_HEADER: event_type,
                    SUBSCRIPTION_HEADER: str(subscription_id),
                },
            )
        return event_id

    # -- delivery --

    def install(self, network: Any, engine: Engine) -> None:
        """Deliver this node's webhook rows from its outbox worker (if it runs one)."""
        self.engine = engine
        self.client = network.client
        settings = getattr(network, "settings", None)
        if settings is not None:
            self.timeout = httpx.Timeout(
                settings.http_timeout, connect=settings.http_connect_timeout
            )
            self.max_response_bytes = settings.max_response_bytes
        worker = getattr(network, "worker", None)
        if worker is not None:
            worker.register_transport(SCHEME, self.deliver)
        self.seal_clear_secrets(engine)

    def seal_clear_secrets(self, engine: Engine) -> int:
        """Seal every secret still stored in clear (by an earlier version); returns how many.
        Idempotent, safe with several processes starting at once. Logs the subscriptions
        whose secret this node's key cannot open."""
        table = self.table
        if not sa.inspect(engine).has_table(table.name):
            return 0  # not migrated (auto_migrate off): the node's start reports it
        sealed = 0
        with engine.begin() as connection:
            rows = connection.execute(select(table.c.id, table.c.secret)).all()
            for row_id, stored in rows:
                if is_sealed(stored):
                    continue
                result = connection.execute(
                    update(table)
                    .where(table.c.id == row_id, table.c.secret == stored)
                    .values(secret=self.cipher.seal(stored, stored[:SHOWN_LENGTH]))
                )
                sealed += result.rowcount
        if sealed:
            log.warning(
                "%d secret(s) de webhook stocké(s) en clair chiffré(s) dans %s",
                sealed,
                table.name,
            )
        lost = [
            int(row_id)
            for row_id, stored in rows
            if is_sealed(stored) and not self.cipher.readable(stored)
        ]
        if lost:
            log.error(
                "%s : %d abonnement(s) webhook au secret illisible (clé %s perdue ou changée ?) "
                ": ids %s. Remettez la clé sauvegardée ou faites recréer ces abonnements",
                table.name,
                len(lost),
                self.cipher.key_id,
                ", ".join(map(str, lost[:20])),
            )
        return sealed

    def _secret(self, subscription_id: int) -> str | None:
        assert self.engine is not None
        with self.engine.connect() as connection:
            row = connection.execute(
                select(self.table.c.secret).where(
                    self.table.c.id == subscription_id,
                    self.table.c.active.is_(True),
                    self.table.c.deleted_at.is_(None),
                )
            ).first()
        return row[0] if row is not None else None

    async def deliver(self, row: Mapping[str, Any]) -> CallResult:
        """One attempt: sign now, ``POST`` the stored bytes, read the HTTP status."""
        target, action = row["target_url"], row["action"]
        try:
            stored = json.loads(row["headers"] or "{}")
            subscription_id = int(stored.get(SUBSCRIPTION_HEADER, 0))
            stored_secret = await asyncio.to_thread(self._secret, subscription_id)
        except Exception as exc:  # a transport never raises: the worker records the failure
            return CallResult(target, action, "ERROR", None, 0.0, {"message": repr(exc)})
        if stored_secret is None:
            # Deleted or deactivated: a definitive refusal (not retried).
            return CallResult(
                target,
                action,
                "NACK",
                None,
                0.0,
                {"code": "webhook_inactif", "message": "abonnement supprimé ou désactivé"},
            )
        try:
            secret = self.cipher.open(stored_secret)
        except SecretUnreadable as exc:
            # Final: no retry opens it. The owner subscribes again (needs_new_secret).
            log.error("webhook %s : secret illisible (%s)", subscription_id, exc)
            message = (
                "secret de l'abonnement illisible (clé des secrets du nœud perdue ou changée) : "
                "recréez l'abonnement"
            )
            return CallResult(
                target, action, "NACK", None, 0.0, {"code": "secret_illisible", "message": message}
            )
        try:
            destination = self.policy.check_url(target)
            addresses = await self.policy.resolve(destination)
        except DestinationRefused as exc:
            # A forbidden destination is final (NACK, not retried); a name that does not
            # resolve now is tried again later (ERROR).
            return CallResult(
                target,
                action,
                "ERROR" if exc.retryable else "NACK",
                None,
                0.0,
                {"code": exc.code, "message": exc.message},
            )
        body = bytes(row["body"])
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: stored.get(EVENT_ID_HEADER, ""),
            EVENT_TYPE_HEADER: stored.get(EVENT_TYPE_HEADER, ""),
            SIGNATURE_HEADER: sign(secret, body),
        }
        result = await self._send(target, action, body, headers, destination, addresses)
        status = result.http_status
        if status is not None and 200 <= status < 300:
            return replace(result, status="ACK", error=None)
        if status is None or status >= 500 or status == 429:
            return replace(result, status="ERROR", error=result.error or {"code": "http"})
        if 300 <= status < 400:
            message = (
                f"redirection refusée ({status}) : les webhooks ne suivent pas les redirections"
            )
            return replace(
                result, status="NACK", error={"code": f"http_{status}", "message": message}
            )
        return replace(
            result,
            status="NACK",
            error={"code": f"http_{status}", "message": f"refusé par le récepteur ({status})"},
        )

    async def _send(
        self,
        target: str,
        action: str,
        body: bytes,
        headers: dict[str, str],
        destination: Destination,
        addresses: builtins.list[IPAddress],  # ``list`` here is the method above
    ) -> CallResult:
        """``POST`` to the checked addresses (the next one only if a connection is refused),
        never to the name: no second DNS answer between the check and the connection. A client
        per attempt, without keep-alive or proxy: a pooled connection is keyed by address, and
        two names on one address must not share a TLS session."""
        if self.ssl_context is None:
            self.ssl_context = httpx.create_ssl_context()
        transcript = self.client.transcript if self.client is not None else None
        async with httpx.AsyncClient(
            timeout=self.timeout,
            verify=self.ssl_context,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=0),
            headers={"User-Agent": USER_AGENT},
        ) as http:
            transport = HttpxTransport(http, max_response_bytes=self.max_response_bytes)
            client = NetworkClient(None, transport=transport, transcript=transcript)
            for address in addresses[: self.MAX_ADDRESSES]:
                url, pinned, extensions = pinned_request(destination, address)
                result = await client.post(
                    url, action, body, {**headers, **pinned}, extensions=extensions
                )
                failure = result.failure
                if failure is None or failure.kind is not FailureKind.CONNECT:
                    break
        return replace(result, url=target)
