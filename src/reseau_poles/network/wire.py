"""A small HTTP/1.1 client for signed Beckn calls: one POST to many origins, as cheaply as we can.

httpx costs about a millisecond of CPU per call; a search that reaches 500 seller nodes would
spend half a second of one core in it, and a buyer node receiving 25 catalogues sends 25
searches and a seller node one callback per message. This client writes the request bytes
itself, reads the answer with httptools (the parser uvicorn already brings), and keeps idle
keep-alive connections per origin. It does only what a Beckn call needs: ``POST`` with a
body, a ``Content-Length`` or chunked answer, TLS for ``https`` URLs. It is the fast transport
of :mod:`.outbound` (the gateway's multicast, :class:`reseau_poles.network.client.NetworkClient`);
webhooks (pinned addresses, TLS server names) take its httpx transport.

Failures are typed so the caller can tell a connection failure (worth one retry on a fresh
connection) from a timeout or a bad answer (not retried), and from a destination the node's
policy forbids (:class:`DestinationForbidden`, never worth a retry).

With a :class:`~.destinations.DestinationPolicy`, each new connection first has its host
checked and resolved by the policy, then goes to the address the policy accepted (the name
stays in ``Host`` and is the TLS server name): a DNS answer that changes between the check and
the connection cannot move it to a forbidden address.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httptools

if TYPE_CHECKING:
    from .destinations import DestinationPolicy

Origin = tuple[str, str, int]  # scheme, host, port


class ConnectionFailed(Exception):
    """No answer started: refused, reset, or a kept-alive connection closed under us."""


class DestinationForbidden(Exception):
    """The node's destination policy refuses this address: nothing was sent."""


class BadResponse(Exception):
    """The peer answered something that is not HTTP, or too much of it; ``http_status`` is
    the status of the answer when its head was read."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


TOO_LARGE = "réponse trop volumineuse"


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed URL: where to connect and what to ask for."""

    origin: Origin
    path: str
    host_header: str

    @classmethod
    def parse(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"URL non prise en charge : {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        default = (parts.scheme == "http" and port == 80) or (
            parts.scheme == "https" and port == 443
        )
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return cls(
            (parts.scheme, parts.hostname, port), path, host if default else f"{host}:{port}"
        )


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection; one request at a time."""

    def __init__(self, max_body: int) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.max_body = max_body
        self.closed = False
        self.used = False  # has carried a request before (a stale keep-alive may fail)
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._body = bytearray()
        self._started = False
        self._keep_alive = True
        self._status: int | None = None
        self._too_large = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            if self._started:
                waiter.set_exception(
                    BadResponse("connexion fermée au milieu de la réponse", self._status)
                )
            else:
                waiter.set_exception(ConnectionFailed("connexion fermée avant la réponse"))

    def data_received(self, data: bytes) -> None:
        self._started = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(BadResponse("changement de protocole inattendu", self._status))
        except (httptools.HttpParserError, BadResponse) as exc:
            # httptools wraps what a callback raises: the flag says what it was.
            message = TOO_LARGE if self._too_large else str(exc)
            self._fail(BadResponse(message, self._status))

    # httptools callbacks
    def on_headers_complete(self) -> None:
        self._status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self._body += body
        if len(self._body) > self.max_body:
            self._too_large = True
            raise BadResponse(TOO_LARGE)

    def on_message_complete(self) -> None:
        self._keep_alive = self.parser.should_keep_alive()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result((self.parser.get_status_code(), bytes(self._body)))

    # ours
    def _fail(self, exc: Exception) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def request(self, data: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._body = bytearray()
        self._started = False
        self._status = None
        self.used = True
        self.transport.write(data)
        try:
            return await self._waiter
        finally:
            self._waiter = None

    @property
    def reusable(self) -> bool:
        return self._keep_alive and not self.closed


class WireClient:
    """``POST`` bytes to many origins over pooled keep-alive connections."""

    def __init__(
        self,
        *,
        connect_timeout: float = 1.0,
        max_idle_per_origin: int = 8,
        max_response_bytes: int = 65_536,
        user_agent: str = "reseau-poles-passerelle/0.1",
        policy: DestinationPolicy | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.policy = policy
        self.max_idle_per_origin = max_idle_per_origin
        self.max_response_bytes = max_response_bytes
        self.user_agent = user_agent
        self._idle: dict[Origin, list[_Connection]] = {}
        self._ssl: ssl.SSLContext | None = None

    def request_bytes(self, target: Target, body: bytes, headers: Mapping[str, str]) -> bytes:
        """The request, head and body, as it goes on the wire."""
        lines = [
            f"POST {target.path} HTTP/1.1",
            f"Host: {target.host_header}",
            f"User-Agent: {self.user_agent}",
            f"Content-Length: {len(body)}",
        ]
        for name, value in headers.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError(f"en-tête invalide : {name}")
            lines.append(f"{name}: {value}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def post(self, target: Target, data: bytes) -> tuple[int, bytes]:
        """Send prepared request bytes. A stale kept-alive connection that fails before any
        answer is replaced by a fresh one at once (that is not the caller's retry: nothing
        reached the peer's application)."""
        connection = self._take_idle(target.origin)
        if connection is not None:
            try:
                return await self._exchange(target.origin, connection, data)
            except ConnectionFailed:
                pass
        connection = await self._connect(target.origin)
        return await self._exchange(target.origin, connection, data)

    async def _exchange(
        self, origin: Origin, connection: _Connection, data: bytes
    ) -> tuple[int, bytes]:
        try:
            result = await connection.request(data)
        except BaseException:
            connection.close()
            raise
        if connection.reusable:
            self._give_back(origin, connection)
        else:
            connection.close()
        return result

    def _take_idle(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if not connection.closed:
                return connection
        return None

    def _give_back(self, origin: Origin, connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) < self.max_idle_per_origin:
            idle.append(connection)
        else:
            connection.close()

    async def _address(self, origin: Origin) -> str:
        """Where to connect for ``origin``: its host, or the address the policy accepted."""
        scheme, host, port = origin
        if self.policy is None:
            return host
        from .destinations import DestinationRefused

        shown = f"[{host}]" if ":" in host else host
        try:
            destination = self.policy.check_url(f"{scheme}://{shown}:{port}/")
            addresses = await self.policy.resolve(destination)
        except DestinationRefused as exc:
            if exc.retryable:  # the name does not resolve (yet): a connection failure
                raise ConnectionFailed(str(exc)) from None
            raise DestinationForbidden(str(exc)) from None
        return str(addresses[0])

    async def _connect(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        address = await self._address(origin)
        loop = asyncio.get_running_loop()
        context = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, protocol = await loop.create_connection(
                    lambda: _Connection(self.max_response_bytes),
                    address,
                    port,
                    ssl=context,
                    server_hostname=host if context else None,
                )
        except TimeoutError:
            raise ConnectionFailed(f"connexion trop lente à {host}:{port}") from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectionFailed(f"connexion impossible à {host}:{port} : {exc}") from None
        return protocol

    def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()

    @property
    def idle_connections(self) -> int:
        return sum(len(idle) for idle in self._idle.values())
