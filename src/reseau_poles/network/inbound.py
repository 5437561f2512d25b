"""The checks of an inbound protocol call, one small method each; the order they run in is
:func:`reseau_poles.network.pipeline.inbound_pipeline` (the one pipeline every role's
protocol endpoint runs, ARCHITECTURE.md « une requête est une suite d'étapes nommées »):

1. :meth:`~Inbound.read_asgi` – the raw bytes, refused with 413 beyond the size limit;
2. :meth:`~Inbound.verify_signature` – ``Authorization`` against the signer's key found
   through the registry cache, then the gateway's ``X-Gateway-Authorization`` (or, in its
   absence, the older ``Proxy-Authorization`` when that is a ``Signature``) when present or
   required; either header may come inside one pair of double quotes (ONDC's Python helper);
3. :meth:`~Inbound.decode_body` – JSON with a ``context`` object, refused when its shape is
   hostile (duplicate members, nesting, huge strings or arrays: :mod:`.jsonguard`);
4. :meth:`~Inbound.check_signer` – the ``Authorization`` signer is ``context.bap_id`` for a
   request, ``context.bpp_id`` for a callback (``on_*``), and :meth:`~Inbound.check_sender_uri`
   – the address the message gives for its sender (``context.bap_uri``, ``context.bpp_uri``)
   is the one the registry holds for the signer: answers and later calls go only there;
   :meth:`~Inbound.check_timestamp` – ``context.timestamp`` is no later than the signature's
   ``expires`` and no earlier than its ``created`` less the time a sender's outbox may keep
   re-sending one message (``outbox_default_ttl``, a day), both with the clock skew: a year
   0001 or 9999 is refused with the stale-request code and path ``context.timestamp``;
5. :meth:`~Inbound.guard_replay` – a ``(subscriber_id, message_id, action)`` seen inside its
   validity window is refused (the pipeline forgets it again when a later check refuses);
6. :meth:`~Inbound.validate` – the rules of the action's Beckn model.

A participant the operator suspended passes step 2 only during its grace period (the
registry's ``grace_until``), never for ``search`` / ``on_search`` nor as a gateway: what it
may still do (finish the orders begun before ``suspended_at``) is for the node to decide,
which knows its transactions (:meth:`Inbound.suspended_refusal`, ``create_node_app``).

Signatures are checked on the bytes received, before any JSON parsing: an unsigned or forged
call learns nothing about our parser. Failures raise :class:`Refusal`, which
:func:`~reseau_poles.network.answers.refusal_for` turns into the answer: 401 with
``WWW-Authenticate`` (``Proxy-Authenticate`` for the gateway header) and a NACK for signature
and replay refusals; 400 NACK with the JSON path for a bad message; 413 for an oversized body;
503 (``Retry-After``) while the node's database does not answer. The refusing role picks the
error code. :func:`install` gives the application's other routes the same answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.types import Receive

from ..protocol.errors import (
    INVALID_SIGNATURE_BY_ROLE,
    STALE_REQUEST_BY_ROLE,
    ProtocolError,
    SignatureError,
    StaleRequestError,
)
from ..protocol.jsonpath import json_path
from ..protocol.models.codec import check_message
from ..protocol.models.scalars import parse_rfc3339
from ..protocol.signing import (
    AUTHORIZATION,
    GATEWAY_AUTHORIZATION,
    PROXY_AUTHORIZATION,
    SIGNED_HEADERS,
    SignatureHeader,
    check_header,
    is_signature,
    parse_header,
    verify_signature,
)
from .acks import INVALID_REQUEST_BY_ROLE, JSON_CONTENT_TYPE, Refusal, nack_body
from .answers import DATABASE_UNAVAILABLE, AnswerUnexpected, refusal_for, refusal_response
from .jsonguard import JsonShapeError, loads_inbound
from .lookup import RegistryError, RegistryLookup, SubscriberRecord, format_time
from .replay import ReplayGuard, replay_key
from .settings import NetworkSettings

ROLES = ("BAP", "BPP", "BG", "BREG")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Discovery opens new business: a suspended participant never takes part, grace or not.
NEVER_IN_GRACE = frozenset({"search", "on_search"})


@dataclass(slots=True)
class InboundMessage:
    """A protocol call that passed every check: what a route works with."""

    action: str
    body: bytes
    payload: dict[str, Any]
    signer: SignatureHeader
    signer_record: SubscriberRecord
    gateway: SignatureHeader | None = None

    @property
    def context(self) -> dict[str, Any]:
        context: dict[str, Any] = self.payload["context"]
        return context

    @property
    def message(self) -> Any:
        return self.payload.get("message")

    @property
    def transaction_id(self) -> str | None:
        return self.context.get("transaction_id")

    @property
    def message_id(self) -> str:
        message_id: str = self.context["message_id"]
        return message_id

    @property
    def bap_id(self) -> str | None:
        return self.context.get("bap_id")

    @property
    def bap_uri(self) -> str | None:
        return self.context.get("bap_uri")

    @property
    def bpp_id(self) -> str | None:
        return self.context.get("bpp_id")

    @property
    def bpp_uri(self) -> str | None:
        return self.context.get("bpp_uri")


class Inbound:
    """The checks of one role's inbound protocol calls (run by its pipeline).

    ``role`` is ours (``BAP``, ``BPP``, ``BG``): it decides the error codes we answer with.
    """

    def __init__(
        self,
        subscriber_id: str,
        role: str,
        lookup: RegistryLookup,
        *,
        replay_guard: ReplayGuard | None = None,
        max_body_bytes: int = 1_048_576,
        skew: float = 5.0,
        replay_max_window: float = 3600.0,
        require_gateway_signature: bool = False,
        validate_models: bool = True,
        replay_exempt_actions: Iterable[str] = (),
        timestamp_max_age: float = 86_400.0,
    ) -> None:
        if role not in ROLES:
            raise ValueError(f"rôle inconnu : {role!r} (attendu : {', '.join(ROLES)})")
        self.subscriber_id = subscriber_id
        self.role = role
        self.lookup = lookup
        self.replay_guard = replay_guard
        # Actions whose handler is its own replay guard (see :meth:`guard_replay`).
        self.replay_exempt_actions = frozenset(replay_exempt_actions)
        self.max_body_bytes = max_body_bytes
        self.skew = skew
        self.replay_max_window = replay_max_window
        self.timestamp_max_age = timestamp_max_age
        self.require_gateway_signature = require_gateway_signature
        self.invalid_signature_code = INVALID_SIGNATURE_BY_ROLE[role]
        self.stale_code = STALE_REQUEST_BY_ROLE[role]
        self.invalid_request_code = INVALID_REQUEST_BY_ROLE[role]
        # The models' rules, without building them (``None``: the models are not checked).
        self._parse_message = check_message if validate_models else None
        challenge = f'Signature realm="{subscriber_id}",headers="{SIGNED_HEADERS}"'
        self._www_authenticate = {"WWW-Authenticate": challenge}
        self._proxy_authenticate = {"Proxy-Authenticate": challenge}

    @classmethod
    def from_settings(
        cls,
        subscriber_id: str,
        role: str,
        settings: NetworkSettings,
        lookup: RegistryLookup,
        *,
        replay_guard: ReplayGuard | None = None,
        replay_exempt_actions: Iterable[str] = (),
    ) -> Inbound:
        return cls(
            subscriber_id,
            role,
            lookup,
            replay_guard=replay_guard,
            replay_exempt_actions=replay_exempt_actions,
            max_body_bytes=settings.inbound_max_body_bytes,
            skew=settings.signature_skew,
            replay_max_window=settings.replay_max_window,
            require_gateway_signature=settings.require_gateway_signature,
            # The outbox re-sends a message with its first body (and timestamp) until this
            # deadline, each time signed anew.
            timestamp_max_age=settings.outbox_default_ttl,
        )

    # --- the checks, in the order of pipeline.inbound_pipeline ---------------------------

    async def read_asgi(self, headers: Mapping[str, str], receive: Receive) -> bytes:
        """Step 1: the raw bytes from ``receive``, never more than ``max_body_bytes``."""
        self._check_length(headers.get("content-length"))
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise self._disconnected()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _check_length(self, declared: str | None) -> None:
        if declared is not None:
            if not declared.isdigit():
                raise self._bad_request("Content-Length invalide", "headers.Content-Length")
            if int(declared) > self.max_body_bytes:
                raise self._too_large()

    def _disconnected(self) -> Refusal:
        return self._bad_request("connexion fermée pendant la lecture du corps", "body")

    async def verify_signature(
        self, body: bytes, headers: Mapping[str, str], action: str
    ) -> tuple[SignatureHeader, SubscriberRecord, SignatureHeader | None]:
        """Step 2: ``Authorization``, then the gateway's header when present or required."""
        signer, record = await self._verify_one(
            body, _header(headers, AUTHORIZATION), AUTHORIZATION, action=action
        )
        gateway_name = GATEWAY_AUTHORIZATION
        gateway_value = _header(headers, GATEWAY_AUTHORIZATION)
        if gateway_value is None:
            # Older stacks put the gateway's signature in Proxy-Authorization; credentials of
            # another scheme there (a forward proxy's Basic …) are not ours to judge.
            proxy = _header(headers, PROXY_AUTHORIZATION)
            if proxy is not None and is_signature(proxy):
                gateway_name, gateway_value = PROXY_AUTHORIZATION, proxy
        gateway = None
        if gateway_value is not None or (self.require_gateway_signature and action == "search"):
            gateway, gateway_record = await self._verify_one(
                body, gateway_value, gateway_name, gateway=True
            )
            if gateway_record.type != "BG":
                raise self._unauthorized(
                    SignatureError(
                        "not_a_gateway",
                        f"{gateway.subscriber_id} n'est pas inscrit comme passerelle (BG)",
                        code=self.invalid_signature_code,
                        path=f"headers.{gateway_name}",
                    ),
                    gateway=True,
                )
        return signer, record, gateway

    def decode_body(self, body: bytes, action: str) -> tuple[dict[str, Any], bool]:
        """Step 3: JSON object with a ``context`` whose ``action`` is the URL's and which
        carries a ``message_id`` (needed by the replay guard); and whether every number in
        the body is finite (one JSON pass)."""
        try:
            payload, finite = loads_inbound(body)
        except JsonShapeError as exc:
            raise self._bad_request(exc.message, exc.path) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._bad_request(f"corps illisible (JSON invalide) : {exc}", "$") from None
        if not isinstance(payload, dict):
            raise self._bad_request("le corps doit être un objet JSON", "$")
        context = payload.get("context")
        if not isinstance(context, dict):
            raise self._bad_request("context manquant ou invalide", "context")
        if context.get("action") != action:
            raise self._bad_request(
                f"context.action vaut {context.get('action')!r} mais l'appel vise /{action}",
                "context.action",
            )
        message_id = context.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise self._bad_request("context.message_id manquant", "context.message_id")
        return payload, finite

    def check_signer(
        self, context: Mapping[str, Any], action: str, signer: SignatureHeader
    ) -> None:
        """Step 4: who signed must be who the context says sent it."""
        field = "bpp_id" if action.startswith("on_") else "bap_id"
        expected = context.get(field)
        if signer.subscriber_id != expected:
            raise self._unauthorized(
                SignatureError(
                    "signer_mismatch",
                    f"message signé par {signer.subscriber_id!r} alors que context.{field} "
                    f"vaut {expected!r}",
                    code=self.invalid_signature_code,
                    path=f"context.{field}",
                )
            )

    def check_sender_uri(
        self, context: Mapping[str, Any], action: str, record: SubscriberRecord
    ) -> None:
        """Step 4, second half: the sender's address in the context is the URL the registry
        holds for the signer. A seller answers a request at ``context.bap_uri`` and a buyer
        sends its next request to ``context.bpp_uri``: followed unchecked, one signed search
        would have every seller post its catalogue to any address the message names. Refused
        (401, so a sender whose registry entry just changed may retry once caches follow)
        rather than silently replaced: the sender learns its configuration is wrong."""
        field = "bpp_uri" if action.startswith("on_") else "bap_uri"
        named = context.get(field)
        if named is None and field == "bpp_uri":
            return  # a callback without bpp_uri: nothing will be sent to an address it names
        if not isinstance(named, str) or not _same_url(named, record.url):
            raise self._unauthorized(
                SignatureError(
                    "uri_mismatch",
                    f"context.{field} vaut {str(named)[:200]!r} alors que le registre inscrit "
                    f"{record.url!r} pour {record.subscriber_id} : les réponses ne vont qu'à "
                    "l'adresse inscrite au registre",
                    code=self.invalid_signature_code,
                    path=f"context.{field}",
                )
            )

    def check_timestamp(self, context: Mapping[str, Any], signer: SignatureHeader) -> None:
        """Step 4, last: ``context.timestamp`` inside the signature's window, skew allowed.

        Not later than ``expires``: a message is written before it is signed. Not earlier
        than ``created`` less ``timestamp_max_age``: an outbox re-sends the same body, signed
        anew, for up to that long (the sender's retries after an outage stay accepted). A
        timestamp that is not RFC 3339 text is left to the model's check (step 6)."""
        value = context.get("timestamp")
        if not isinstance(value, str):
            return
        try:
            seconds = (parse_rfc3339(value) - _EPOCH).total_seconds()
        except (ValueError, OverflowError):
            return
        earliest = signer.created - self.timestamp_max_age - self.skew
        latest = signer.expires + self.skew
        if earliest <= seconds <= latest:
            return
        raise Refusal(
            StaleRequestError(
                f"context.timestamp ({value[:40]}) hors de la fenêtre de la signature : "
                f"entre {format_time(earliest)} et {format_time(latest)} (created - "
                f"{int(self.timestamp_max_age)} s, expires + {self.skew:g} s de décalage "
                "d'horloge)",
                code=self.stale_code,
                path="context.timestamp",
            ),
            status_code=400,
        )

    async def guard_replay(
        self, context: Mapping[str, Any], action: str, signer: SignatureHeader
    ) -> str | None:
        """Step 5: remember the message for as long as its signature could be replayed.

        Skipped for the ``replay_exempt_actions``: those whose handler de-duplicates durably
        by message id (a row unique on action, sender and message id, kept for good), answers
        ACK again to an exact copy of what it stored, changes nothing for it, and refuses
        another body under the same message id. There the window guard would only turn a
        sender's honest resend (its ACK lost) into a false refusal of a message we hold."""
        if self.replay_guard is None or action in self.replay_exempt_actions:
            return None
        key = replay_key(signer.subscriber_id, context["message_id"], action)
        window = min(signer.expires + self.skew - time.time(), self.replay_max_window)
        if not await self.replay_guard.remember(key, max(window, self.skew)):
            raise self._unauthorized(
                StaleRequestError(
                    f"message déjà reçu (rejeu) : {action} {context['message_id']} "
                    f"de {signer.subscriber_id}",
                    code=self.stale_code,
                    path="context.message_id",
                )
            )
        return key

    def validate(
        self, action: str, body: bytes, payload: dict[str, Any], *, numbers_finite: bool = False
    ) -> Any:
        """Step 6: the rules of the action's Beckn model, unless ``validate_models`` is off;
        returns the validated document (plain data).

        ``numbers_finite``: step 3 saw no NaN, Infinity or overflowing number, so the models
        need not parse the body once more to look for one."""
        if self._parse_message is None:
            return None
        try:
            return self._parse_message(
                action, body, code=self.invalid_request_code, check_numbers=not numbers_finite
            )
        except ProtocolError as exc:
            raise Refusal(exc, status_code=400) from None
        except (ValueError, TypeError, KeyError) as exc:
            raise self._bad_request(f"message invalide : {exc}", "message") from None

    # --- helpers ------------------------------------------------------------------------------

    async def _verify_one(
        self,
        body: bytes,
        value: str | None,
        header_name: str,
        *,
        gateway: bool = False,
        action: str = "",
    ) -> tuple[SignatureHeader, SubscriberRecord]:
        """The signature in one header, and the signer's registry record: for a signer with
        several, the one of the type that sends ``action`` (BPP for a callback, BAP for a
        request), BG for the gateway header."""
        code = self.invalid_signature_code
        path = f"headers.{header_name}"
        try:
            parsed = parse_header(value, header_name=header_name)
            check_header(parsed, skew=self.skew, header_name=header_name, invalid_code=code)
            if parsed.expires - parsed.created > self.replay_max_window:
                # The replay guard remembers a message for at most replay_max_window: a
                # signature valid for longer could be replayed once it is forgotten.
                raise SignatureError(
                    "validity_too_long",
                    f"signature valable {parsed.expires - parsed.created} s : au plus "
                    f"{int(self.replay_max_window)} s entre created et expires",
                    code=code,
                    path=path,
                )
            try:
                records = await self.lookup.key(parsed.subscriber_id, parsed.key_id)
            except RegistryError as exc:
                raise SignatureError(exc.reason, str(exc), code=code, path=path) from None
            record = next((r for r in records if r.subscribed), None)
            if record is None:
                record = self._in_grace(records, action, gateway=gateway, path=path)
            wanted = "BG" if gateway else ("BPP" if action.startswith("on_") else "BAP")
            if gateway or action:
                record = next((r for r in records if r.subscribed and r.type == wanted), record)
            check_header(
                parsed,
                skew=self.skew,
                key_validity=record.validity,
                header_name=header_name,
                invalid_code=code,
            )
            verify_signature(
                body,
                parsed,
                record.signing_public_key or "",
                header_name=header_name,
                invalid_code=code,
            )
        except SignatureError as exc:
            exc.code = code
            raise self._unauthorized(exc, gateway=gateway) from None
        return parsed, record

    def _in_grace(
        self, records: tuple[SubscriberRecord, ...], action: str, *, gateway: bool, path: str
    ) -> SubscriberRecord:
        """A suspended signer's record, when its grace period lets this message through to
        the node's own check; otherwise the refusal, saying why."""
        now = time.time()
        record = next((r for r in records if r.in_grace(now)), None)
        if record is None:
            raise SignatureError(
                "subscriber_inactive",
                f"{records[0].subscriber_id} n'est pas actif dans le registre "
                f"(statut {records[0].status})",
                code=self.invalid_signature_code,
                path=path,
            )
        if gateway or action in NEVER_IN_GRACE:
            raise self.suspended_error(record, path=path)
        return record

    def suspended_error(
        self, record: SubscriberRecord, *, path: str = "headers.Authorization"
    ) -> SignatureError:
        """The refusal of a suspended participant's message that no order under way covers."""
        return SignatureError(
            "subscriber_suspended",
            f"{record.subscriber_id} est suspendu par l'opérateur du réseau depuis "
            f"{format_time(record.suspended_at)} : il ne peut ouvrir aucune transaction (recherche, "
            "nouvelle commande) ; seules les commandes commencées avant la suspension se "
            f"poursuivent, jusqu'au {format_time(record.grace_until)}",
            code=self.invalid_signature_code,
            path=path,
        )

    def suspended_refusal(self, record: SubscriberRecord) -> Refusal:
        """:meth:`suspended_error` as the 401 answer."""
        return self._unauthorized(self.suspended_error(record))

    def _unauthorized(self, error: ProtocolError, *, gateway: bool = False) -> Refusal:
        headers = self._proxy_authenticate if gateway else self._www_authenticate
        return Refusal(error, status_code=401, headers=headers)

    def _bad_request(self, message: str, path: str) -> Refusal:
        return Refusal(
            ProtocolError(message, code=self.invalid_request_code, path=path), status_code=400
        )

    def _too_large(self) -> Refusal:
        return Refusal(
            ProtocolError(
                f"corps trop volumineux (limite : {self.max_body_bytes} octets)",
                code=self.invalid_request_code,
                path="body",
            ),
            status_code=413,
        )


def _same_url(named: str, registered: str | None) -> bool:
    """Whether a context's URL is the registered one: scheme and host case aside, the default
    port written or not, a trailing ``/`` or not."""
    if not registered:
        return False
    try:
        a, b = urlsplit(named.strip()), urlsplit(registered.strip())
        a_port = a.port or _DEFAULT_PORTS.get(a.scheme.lower())
        b_port = b.port or _DEFAULT_PORTS.get(b.scheme.lower())
    except ValueError:
        return False
    return (
        a.scheme.lower() == b.scheme.lower()
        and (a.hostname or "") == (b.hostname or "")
        and a_port == b_port
        and a.path.rstrip("/") == b.path.rstrip("/")
        and not a.username
        and not a.password
        and a.query == b.query
        and not a.fragment
    )


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value


def install(
    app: FastAPI,
    inbound: Inbound | None = None,
    *,
    unexpected_by_prefix: Mapping[str, Callable[[], Response]] | None = None,
) -> None:
    """Make every failure of the application's routes an answer, as the protocol endpoint
    answers (:func:`~reseau_poles.network.answers.refusal_for`): refusals become their NACK,
    FastAPI's own validation errors a 400 NACK with the path, a database that does not answer
    a 503, anything unexpected a 500 NACK without a traceback (or, under a prefix of
    ``unexpected_by_prefix``, that prefix's answer)."""
    role = inbound.role if inbound else "BPP"
    code = INVALID_REQUEST_BY_ROLE[role]

    async def on_refusal(_request: Request, exc: Exception) -> Response:
        return refusal_response(refusal_for(exc, role))

    async def on_validation(_request: Request, exc: Exception) -> Response:
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        location = errors[0].get("loc", ()) if errors else ()
        path = json_path(location)
        error = ProtocolError("requête invalide", code=code, path=path)
        return Response(nack_body(error), status_code=400, media_type=JSON_CONTENT_TYPE)

    app.add_exception_handler(Refusal, on_refusal)
    app.add_exception_handler(RequestValidationError, on_validation)
    # A database that does not answer (restart, failover, pool exhausted) is a 503 the caller
    # may retry, not an internal error; and a handler for these classes, unlike one for
    # ``Exception``, answers without Starlette re-raising, so the connection stays usable.
    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, on_refusal)
    app.add_middleware(AnswerUnexpected, role=role, by_prefix=unexpected_by_prefix)
