"""Outbound calls: how bytes leave a role, and the one reading of what went wrong.

Every ``POST`` a role makes to another participant (a node's protocol calls and callbacks,
the gateway's multicast, a webhook delivery) goes through a :class:`Transport`:

* :class:`WireTransport` — :class:`~.wire.WireClient`, the small HTTP/1.1 client written for
  signed Beckn calls (plain http and https, no proxy): a third of httpx's CPU per call, with
  the node's :class:`~.destinations.DestinationPolicy` checked on each new connection;
* :class:`HttpxTransport` — an ``httpx.AsyncClient``, where TLS settings, proxies or pinned
  addresses with their TLS server name (``extensions``) matter: the webhooks.

:class:`~.client.NetworkClient` signs and sends over either; the gateway drives a
:class:`WireTransport` itself (its retry and deadline are per seller).

Whatever the transport, a failure is read once, by :func:`call_failure`: a timeout, a
connection that could not be made, an answer that is not HTTP or too large, a destination the
policy refuses, anything else. A :class:`CallFailure` says which (``kind``), with the message
and ``error.code`` a :class:`~.client.CallResult` records and the HTTP status when the answer's
head had come. The registry's challenge has its own pinned client
(:mod:`reseau_poles.registry.services.challenge`): its failures all get one answer, for the operator's
log only. Calls to the registry (lookup, subscribe, operator API) go through httpx, where
proxies and the registry's TLS matter: :mod:`.lookup` and :mod:`.registry_client`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from .wire import TOO_LARGE, BadResponse, ConnectionFailed, DestinationForbidden, Target, WireClient

if TYPE_CHECKING:
    from .destinations import DestinationPolicy

# The ``error.code`` of a call the destination policy refused (nothing sent, never retried).
DESTINATION_FORBIDDEN = "destination_interdite"
# The ``error.code`` of every other failure on our side of a call.
NETWORK = "network"


class Transport(Protocol):
    """``POST`` bytes, return ``(http_status, body)``; a failure raises one of
    :data:`CALL_FAILURES`, which :func:`call_failure` reads."""

    async def post(
        self,
        url: str,
        content: bytes,
        headers: Mapping[str, str],
        *,
        timeout: float | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> tuple[int, bytes]: ...

    async def aclose(self) -> None: ...


class Interrupted(Exception):
    """The answer's head came (``http_status``), then ``cause`` stopped the call."""

    def __init__(self, cause: BaseException, http_status: int) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.http_status = http_status


# What a call may raise for the peer's doing (or the network's): anything else is a bug.
CALL_FAILURES: tuple[type[BaseException], ...] = (
    TimeoutError,
    ConnectionFailed,
    DestinationForbidden,
    BadResponse,
    Interrupted,
    httpx.HTTPError,
    OSError,
    ValueError,
)


class FailureKind(StrEnum):
    TIMEOUT = "timeout"  # no whole answer in time
    CONNECT = "connect"  # no connection (refused, reset before the answer, TLS handshake)
    FORBIDDEN = "forbidden"  # the destination policy refused the address: nothing sent
    BAD_ANSWER = "bad_answer"  # not HTTP, cut short, or too large
    OTHER = "other"  # a URL or header we could not send, another transport error


@dataclass(frozen=True, slots=True)
class CallFailure:
    """What went wrong with one call. ``message`` and ``code`` are what a
    :class:`~.client.CallResult` records; ``cause`` is the exception read."""

    kind: FailureKind
    message: str
    http_status: int | None
    cause: BaseException
    code: str = NETWORK

    @property
    def error(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def call_failure(exc: BaseException, http_status: int | None = None) -> CallFailure:
    """The one mapping from a failed call's exception (any transport) to a :class:`CallFailure`.

    A wire failure says what happened (``échec réseau : connexion impossible à …``); an httpx
    one gives its type (``échec réseau : ConnectError``)."""
    if isinstance(exc, Interrupted):
        return call_failure(exc.cause, exc.http_status)
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return CallFailure(FailureKind.TIMEOUT, "délai dépassé", http_status, exc)
    if isinstance(exc, BadResponse):
        status = exc.http_status if exc.http_status is not None else http_status
        text = str(exc)
        if text == TOO_LARGE:
            return CallFailure(FailureKind.BAD_ANSWER, TOO_LARGE, status, exc)
        message = f"échec réseau : réponse illisible ({text[:200]})"
        return CallFailure(FailureKind.BAD_ANSWER, message, status, exc)
    if isinstance(exc, ConnectionFailed):
        return CallFailure(FailureKind.CONNECT, f"échec réseau : {exc}", http_status, exc)
    if isinstance(exc, DestinationForbidden):
        return CallFailure(
            FailureKind.FORBIDDEN, str(exc), http_status, exc, code=DESTINATION_FORBIDDEN
        )
    kind = FailureKind.CONNECT if isinstance(exc, httpx.ConnectError) else FailureKind.OTHER
    return CallFailure(kind, f"échec réseau : {type(exc).__name__}", http_status, exc)


class WireTransport:
    """:class:`~.wire.WireClient` behind the :class:`Transport` interface; the gateway also
    uses :meth:`target`, :meth:`prepare` and :meth:`send` to build a request once and send it
    again after a connection failure."""

    def __init__(
        self,
        *,
        connect_timeout: float = 3.0,
        max_idle_per_origin: int = 8,
        max_response_bytes: int = 65_536,
        user_agent: str = "reseau-poles-passerelle/0.1",
        policy: DestinationPolicy | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.timeout = timeout
        self.wire = WireClient(
            connect_timeout=connect_timeout,
            max_idle_per_origin=max_idle_per_origin,
            max_response_bytes=max_response_bytes,
            user_agent=user_agent,
            policy=policy,
        )
        # The wire client's own methods, not wrappers: the gateway calls them 500 times a
        # search. ``prepare(target, content, headers)``: the request as it goes on the wire
        # (``ValueError`` for a header we cannot send); ``send(target, data)``: prepared bytes,
        # under the caller's deadline.
        self.prepare = self.wire.request_bytes
        self.send = self.wire.post

    @staticmethod
    def target(url: str) -> Target:
        """``url`` parsed once (``ValueError`` for what is not an http or https URL)."""
        return Target.parse(url)

    async def post(
        self,
        url: str,
        content: bytes,
        headers: Mapping[str, str],
        *,
        timeout: float | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> tuple[int, bytes]:
        if extensions:
            raise ValueError("extensions httpx non prises en charge par ce transport")
        where = Target.parse(url)
        data = self.wire.request_bytes(where, content, headers)
        async with asyncio.timeout(timeout if timeout is not None else self.timeout):
            return await self.wire.post(where, data)

    def close(self) -> None:
        self.wire.close()

    async def aclose(self) -> None:
        self.wire.close()

    @property
    def idle_connections(self) -> int:
        return self.wire.idle_connections


class HttpxTransport:
    """An ``httpx.AsyncClient`` behind the :class:`Transport` interface, reading at most
    ``max_response_bytes`` of an answer. ``owned``: :meth:`aclose` closes the client."""

    def __init__(
        self, http: httpx.AsyncClient, *, max_response_bytes: int, owned: bool = False
    ) -> None:
        self.http = http
        self.max_response_bytes = max_response_bytes
        self.owned = owned

    async def post(
        self,
        url: str,
        content: bytes,
        headers: Mapping[str, str],
        *,
        timeout: float | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> tuple[int, bytes]:
        http_status: int | None = None
        try:
            async with self.http.stream(
                "POST",
                url,
                content=content,
                headers=headers,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                extensions=dict(extensions) if extensions else None,
            ) as response:
                http_status = response.status_code
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_response_bytes:
                        raise BadResponse(TOO_LARGE, http_status)
                    chunks.append(chunk)
                return http_status, b"".join(chunks)
        except BadResponse:
            raise
        except CALL_FAILURES as exc:
            if http_status is None:
                raise
            raise Interrupted(exc, http_status) from exc

    async def aclose(self) -> None:
        if self.owned:
            await self.http.aclose()
