"""Outbound calls: serialise once, sign the exact bytes sent, post, read the ACK/NACK.

The body is turned into bytes once (:func:`body_bytes`) and those bytes are both signed and
sent: signing one serialisation and sending another is the most common interoperability bug
on ONDC. A peer's garbage (HTML error page, no ACK, a reset connection, a timeout) never
raises: it comes back as a :class:`CallResult` with ``status == "ERROR"``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from ..protocol.jsonfast import wire
from ..protocol.signing import AUTHORIZATION, Signer
from .acks import JSON_CONTENT_TYPE, Status, read_ack
from .outbound import (
    CALL_FAILURES,
    DESTINATION_FORBIDDEN,
    CallFailure,
    HttpxTransport,
    Transport,
    WireTransport,
    call_failure,
)
from .settings import NetworkSettings

if TYPE_CHECKING:
    from .destinations import DestinationPolicy
    from .transcript import Transcript

USER_AGENT = "reseau-poles/0.1"


def body_bytes(body: Any) -> bytes:
    """The wire bytes of a message: bytes as given, a model through the models' serialiser,
    a dict as compact UTF-8 JSON."""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if hasattr(body, "model_dump_json"):
        from ..protocol.models import to_bytes  # the models' canonical serialiser

        return to_bytes(body)
    return wire(body)


@dataclass(frozen=True, slots=True)
class CallResult:
    """What came back from one call. ``latency`` in seconds; ``error`` is the peer's Beckn
    ``Error`` object for a NACK, or ``{"code": "network", "message": …}`` for our side;
    ``failure`` what went wrong on our side (:func:`~.outbound.call_failure`)."""

    url: str
    action: str
    status: Status
    http_status: int | None
    latency: float
    error: Mapping[str, Any] | None = None
    response_body: bytes = b""
    failure: CallFailure | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ACK"

    @property
    def error_code(self) -> str | None:
        code = self.error.get("code") if self.error else None
        return str(code) if code is not None else None

    @property
    def retryable(self) -> bool:
        """Worth sending again later: no answer, an overloaded or failing peer (5xx or 429,
        with or without a NACK: a node whose database is down answers 503 with a NACK), or a
        signature refusal (the peer's registry cache may not know our new key yet). Never a
        destination the policy forbids."""
        if self.status == "ERROR":
            if self.error_code == DESTINATION_FORBIDDEN:
                return False
            return self.http_status is None or self.http_status >= 500 or self.http_status == 429
        # A NACK with 503 (the peer's database is down), 500 or 429 did not judge the message.
        return (
            self.status == "NACK"
            and self.http_status is not None
            and (self.http_status == 401 or self.http_status >= 500 or self.http_status == 429)
        )


class NetworkClient:
    """Signed Beckn calls over pooled HTTP/1.1 keep-alive connections.

    Calls go through a :class:`~.outbound.Transport`: by default a
    :class:`~.outbound.WireTransport` (a third of httpx's CPU per call, which a buyer pays 25
    times per search and a seller once per callback). A client built with its own ``http``
    (an ``httpx.AsyncClient``) or ``transport``, or a call with httpx ``extensions``, goes
    through that instead: the webhooks pin addresses and TLS server names that way.

    Create it inside the event loop that uses it (a role's lifespan) and close it with
    :meth:`aclose` or ``async with``.
    """

    def __init__(
        self,
        signer: Signer | None,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        max_connections: int = 200,
        max_keepalive: int = 50,
        max_response_bytes: int = 1_048_576,
        signature_ttl: int = 30,
        transcript: Transcript | None = None,
        http: httpx.AsyncClient | None = None,
        transport: Transport | None = None,
        policy: DestinationPolicy | None = None,
    ) -> None:
        self.signer = signer
        self.signature_ttl = signature_ttl
        self.max_response_bytes = max_response_bytes
        self.transcript = transcript
        self.timeout = timeout
        self._connect_timeout = connect_timeout
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_keepalive
        )
        if transport is None and http is not None:
            transport = HttpxTransport(http, max_response_bytes=max_response_bytes)
        if transport is None:
            transport = WireTransport(
                connect_timeout=connect_timeout,
                max_idle_per_origin=max(1, min(max_keepalive, 64)),
                max_response_bytes=max_response_bytes,
                user_agent=USER_AGENT,
                policy=policy,
                timeout=timeout,
            )
        self.transport: Transport = transport
        # Made on first use for a call with httpx ``extensions`` over the wire transport.
        self._extended: HttpxTransport | None = None

    @classmethod
    def from_settings(
        cls,
        signer: Signer | None,
        settings: NetworkSettings,
        *,
        transcript: Transcript | None = None,
    ) -> NetworkClient:
        return cls(
            signer,
            timeout=settings.http_timeout,
            connect_timeout=settings.http_connect_timeout,
            max_connections=settings.http_max_connections,
            max_keepalive=settings.http_max_keepalive,
            max_response_bytes=settings.max_response_bytes,
            signature_ttl=settings.signature_ttl,
            transcript=transcript,
            policy=protocol_policy(settings),
        )

    async def __aenter__(self) -> NetworkClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()
        if self._extended is not None:
            await self._extended.aclose()
            self._extended = None

    def _transport_for(self, extensions: Mapping[str, Any] | None) -> Transport:
        if not extensions or not isinstance(self.transport, WireTransport):
            return self.transport
        if self._extended is None:
            http = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout, connect=self._connect_timeout),
                limits=self._limits,
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,
            )
            self._extended = HttpxTransport(
                http, max_response_bytes=self.max_response_bytes, owned=True
            )
        return self._extended

    def sign(self, body: bytes) -> str:
        if self.signer is None:
            raise RuntimeError("ce client n'a pas de clé de signature")
        return self.signer.sign(body, ttl=self.signature_ttl)

    async def send(
        self,
        url: str,
        action: str,
        body: Any,
        *,
        headers: Mapping[str, str] | None = None,
        signature_header: str | None = AUTHORIZATION,
        timeout: float | None = None,
    ) -> CallResult:
        """``POST {url}/{action}`` with ``body`` signed in ``signature_header``.

        The gateway forwards a buyer's message with ``headers={"Authorization": theirs}`` and
        ``signature_header=GATEWAY_AUTHORIZATION``; ``signature_header=None`` sends unsigned.
        """
        content = body_bytes(body)
        request_headers = {"Content-Type": JSON_CONTENT_TYPE}
        if headers:
            request_headers.update(headers)
        if signature_header is not None:
            request_headers[signature_header] = self.sign(content)
        target = url.rstrip("/") + "/" + action
        return await self.post(target, action, content, request_headers, timeout=timeout)

    async def post(
        self,
        target: str,
        action: str,
        content: bytes,
        headers: Mapping[str, str],
        *,
        timeout: float | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> CallResult:
        """Send prepared bytes and headers as they are; never raises for the peer's doing.

        ``extensions``: httpx request extensions (the webhooks' ``sni_hostname``)."""
        started = time.perf_counter()
        try:
            http_status, received = await self._transport_for(extensions).post(
                target, content, headers, timeout=timeout, extensions=extensions
            )
        except CALL_FAILURES as exc:
            failure = call_failure(exc)
            result = CallResult(
                target,
                action,
                "ERROR",
                failure.http_status,
                time.perf_counter() - started,
                failure.error,
                failure=failure,
            )
        else:
            result = _answered(target, action, started, http_status, received)
        if self.transcript is not None:
            self.transcript.outbound(target, action, headers, content, result)
        return result


def protocol_policy(settings: NetworkSettings) -> DestinationPolicy:
    """Where this node's protocol calls may go: http or https, private addresses only on a
    network declared private (``private_network``)."""
    from .destinations import DestinationPolicy

    return DestinationPolicy(allow_http=True, allow_private_networks=settings.private_network)


def _answered(
    target: str, action: str, started: float, http_status: int, received: bytes
) -> CallResult:
    """What a peer's whole answer says: ACK, NACK (with its error) or not a Beckn answer."""
    status, error = read_ack(http_status, received)
    return CallResult(
        target, action, status, http_status, time.perf_counter() - started, error, received
    )
