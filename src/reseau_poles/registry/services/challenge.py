"""The registry's challenge: where it may go, how many at once, one answer for every failure.

A subscribe names a URL; the registry posts a sealed challenge to ``{url}/on_subscribe`` and
expects ``{"answer": …}`` back. Anyone may send a subscribe (a first one is signed by the key
it registers), so the challenge must be neither an anonymous port scanner nor a way to tie up
the registry. Three rules:

1. **Where** — the network's destination policy (:mod:`reseau_poles.network.destinations`),
   as for protocol calls: http or https, no user information (``user:pw@``), never link-local
   (the cloud metadata service), multicast or reserved addresses; loopback and private
   addresses only on a network declared private (``private_network``). The URL is checked at
   ``/subscribe`` (400 naming ``url``); the name is resolved when the challenge goes out and
   the request goes to the address just checked (pinned, the name in ``Host`` and as the TLS
   server name), so a second DNS answer cannot send it elsewhere.
2. **One answer** — whatever went wrong (connection refused, silence, an HTTP error, not JSON,
   a wrong answer, a name that does not resolve or resolves to a forbidden address, the
   deadline), the caller reads the same message, code 15003, path ``url``; the detail goes to
   the registry's log, for its operator.
3. **How many** — at most ``challenge_max_per_source`` subscribes under way per source address
   (an IPv6 caller counts by its /64) and ``challenge_max_concurrent`` in all; beyond, 429
   with ``Retry-After`` at once, never a queue. Challenges have their own connection pool, as
   large as the overall limit (no wait for a connection), a short connection timeout and a
   deadline for each attempt.

The challenge is a libsodium sealed box by default, or ONDC's AES-256-ECB under the X25519
shared secret (``challenge_scheme``, for the network or per subscribe); a participant that is
slow to start may get ``challenge_retries`` more attempts, each with a fresh challenge, after
a failure that may pass (silence, connection refused, HTTP 408, 429 or 5xx). The contract a
participant implements is in registry/README.md ("Le contrat /on_subscribe").
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import math
from collections.abc import Iterator
from typing import Final

import httpx

from reseau_poles.network.destinations import (
    Destination,
    DestinationPolicy,
    DestinationRefused,
    pinned_request,
)
from reseau_poles.protocol.errors import ErrorCode
from reseau_poles.protocol.keys import (
    ChallengeScheme,
    EncryptionKeyPair,
    challenge_matches,
    new_challenge,
    ondc_encrypt_challenge,
    seal_challenge,
)
from reseau_poles.protocol.signing import Signer

from ..errors import RegistryError
from ..requests import SubscribeRecord
from ..settings import RegistrySettings

log = logging.getLogger("reseau_poles.registry")

MAX_CHALLENGE_RESPONSE_BYTES: Final = 16384
# Addresses of one name tried in turn, the next only when a connection is refused.
MAX_ADDRESSES: Final = 3
# HTTP statuses of a participant still starting (or behind a proxy that is): worth a retry.
TRANSIENT_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})


def challenge_busy_seconds(settings: RegistrySettings) -> float:
    """The longest a challenge may last: every attempt and the pauses between them."""
    attempts = 1 + settings.challenge_retries
    return (
        attempts * settings.challenge_deadline_seconds
        + settings.challenge_retries * settings.challenge_retry_delay_seconds
    )


def source_of(host: str | None) -> str:
    """Whom a limit counts: the caller's IPv4 address, or its IPv6 /64 (one machine usually
    holds a whole /64: counting each address would give it millions of places)."""
    if not host:
        return "?"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class ChallengeGate:
    """Subscribes under way, per source address and in all; beyond a limit, 429 at once.

    Used from the event loop only: no ``await`` between the check and the count, no lock."""

    def __init__(self, *, total: int, per_source: int, retry_after: int) -> None:
        self.total, self.per_source, self.retry_after = total, per_source, retry_after
        self.in_flight = 0
        self._by_source: dict[str, int] = {}

    @contextlib.contextmanager
    def hold(self, source: str) -> Iterator[None]:
        held = self._by_source.get(source, 0)
        if held >= self.per_source:
            raise self._busy(
                f"déjà {held} inscriptions en cours depuis votre adresse ({source}) : "
                f"réessayez dans {self.retry_after} s"
            )
        if self.in_flight >= self.total:
            raise self._busy(
                f"le registre traite déjà {self.in_flight} inscriptions : réessayez dans "
                f"{self.retry_after} s"
            )
        self.in_flight += 1
        self._by_source[source] = held + 1
        try:
            yield
        finally:
            self.in_flight -= 1
            left = self._by_source[source] - 1
            if left:
                self._by_source[source] = left
            else:
                del self._by_source[source]

    def _busy(self, message: str) -> RegistryError:
        return RegistryError(
            message,
            code=ErrorCode.REGISTRY_BUSY,
            path=None,
            status=429,
            headers={"Retry-After": str(self.retry_after)},
        )


class Challenger:
    """Checks participants' URLs and sends them the challenge (its own HTTP client)."""

    def __init__(
        self, settings: RegistrySettings, signer: Signer, encryption: EncryptionKeyPair
    ) -> None:
        self.settings = settings
        self.signer = signer
        self.encryption = encryption  # the registry's own X25519 pair (ONDC's scheme)
        self.policy = DestinationPolicy(
            allow_http=True, allow_private_networks=settings.private_network
        )
        self.gate = ChallengeGate(
            total=settings.challenge_max_concurrent,
            per_source=settings.challenge_max_per_source,
            retry_after=max(1, math.ceil(challenge_busy_seconds(settings))),
        )
        self.http: httpx.AsyncClient | None = None

    async def start(self) -> None:
        settings = self.settings
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(
                settings.challenge_timeout_seconds,
                connect=settings.challenge_connect_timeout_seconds,
                pool=settings.challenge_deadline_seconds,
            ),
            # One connection per challenge under way, never reused: two names on one address
            # must not share a connection (nor a TLS session).
            limits=httpx.Limits(
                max_connections=settings.challenge_max_concurrent, max_keepalive_connections=0
            ),
            follow_redirects=False,
            trust_env=False,  # a proxy would resolve the name itself, after our check
        )

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.aclose()
            self.http = None

    def check_url(self, url: str) -> Destination:
        """The challenge's destination for a participant's ``url``, or a 400 naming ``url``."""
        try:
            return self.policy.check_url(f"{url}/on_subscribe")
        except DestinationRefused as exc:
            hint = (
                ""
                if self.settings.private_network
                else " (ce registre n'accepte que des adresses publiques ; sur un réseau "
                "interne, son opérateur peut le déclarer privé : private_network = true)"
            )
            raise RegistryError(
                f"url refusée : {exc.message}{hint}",
                code=ErrorCode.REGISTRY_INVALID_REQUEST,
                path="url",
                status=400,
            ) from None

    def scheme_of(self, record: SubscribeRecord) -> ChallengeScheme:
        """The subscribe's own choice, else the network's."""
        return record.challenge_scheme or self.settings.challenge_scheme

    def failure(self, url: str) -> RegistryError:
        """The one answer to a challenge that did not succeed, whatever the reason."""
        settings = self.settings
        deadline = f"{settings.challenge_deadline_seconds:g}"
        where = "" if settings.private_network else ", à une adresse publique"
        attempts = 1 + settings.challenge_retries
        tries = f", {attempts} essais" if attempts > 1 else ""
        return RegistryError(
            "Défi non relevé : l'adresse inscrite n'a pas répondu correctement au défi "
            f"(attendu : POST {url}/on_subscribe joignable depuis le registre{where}, "
            f'réponse {{"answer": …}} dans les {deadline} s{tries}, le défi ouvert avec la '
            "clé privée de encr_public_key ; voir le contrat /on_subscribe du registre)",
            code=ErrorCode.REGISTRY_CHALLENGE_FAILED,
            path="url",
            status=400,
        )

    def encrypt(self, scheme: ChallengeScheme, encr_public_key: str, challenge: str) -> str:
        if scheme == ChallengeScheme.ONDC:
            return ondc_encrypt_challenge(self.encryption, encr_public_key, challenge)
        return seal_challenge(encr_public_key, challenge)

    async def run(self, record: SubscribeRecord) -> None:
        """Post the challenge to ``record.url`` and check the answer (again, after a failure
        that may pass, ``challenge_retries`` times); :meth:`failure` if it never comes."""
        assert self.http is not None, "service not started"
        destination = self.check_url(record.url)
        scheme = self.scheme_of(record)
        attempts = 1 + self.settings.challenge_retries
        details: list[str] = []
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self.settings.challenge_retry_delay_seconds)
            detail, transient = await self._challenge_once(destination, record, scheme)
            if detail is None:
                if attempt > 1:
                    log.info(
                        "défi relevé par %s à l'essai %d (%s)",
                        record.subscriber_id,
                        attempt,
                        "; ".join(details),
                    )
                return
            details.append(f"essai {attempt} : {detail}")
            if not transient:
                break
        log.warning(
            "défi (%s) non relevé pour %s à %s/on_subscribe : %s",
            scheme.value,
            record.subscriber_id,
            record.url,
            "; ".join(details),
        )
        raise self.failure(record.url)

    async def _challenge_once(
        self, destination: Destination, record: SubscribeRecord, scheme: ChallengeScheme
    ) -> tuple[str | None, bool]:
        """One attempt, with a fresh challenge: ``(None, …)`` when answered right, otherwise
        what went wrong (for the log) and whether another attempt may succeed."""
        challenge = new_challenge()
        body = json.dumps(
            {
                "subscriber_id": record.subscriber_id,
                "challenge": self.encrypt(scheme, record.encr_public_key, challenge),
            }
        ).encode("utf-8")
        headers = {"Content-Type": "application/json", "Authorization": self.signer.sign(body)}
        deadline = self.settings.challenge_deadline_seconds
        try:
            async with asyncio.timeout(deadline):
                return await self._attempt(destination, body, headers, challenge)
        except TimeoutError:
            return f"délai de {deadline:g} s dépassé", True

    async def _attempt(
        self, destination: Destination, body: bytes, headers: dict[str, str], challenge: str
    ) -> tuple[str | None, bool]:
        """``None`` when the right answer came back; otherwise what went wrong (for the log);
        and whether it may pass (a retry is worth it)."""
        assert self.http is not None
        try:
            addresses = await self.policy.resolve(destination)
        except DestinationRefused as exc:
            return f"résolution refusée : {exc.message}", False
        detail = "aucune adresse"
        for address in addresses[:MAX_ADDRESSES]:
            url, pinned, extensions = pinned_request(destination, address)
            try:
                async with self.http.stream(
                    "POST", url, content=body, headers={**headers, **pinned}, extensions=extensions
                ) as response:
                    received = bytearray()
                    async for chunk in response.aiter_bytes():
                        received += chunk
                        if len(received) > MAX_CHALLENGE_RESPONSE_BYTES:
                            break
                    status = response.status_code
            except httpx.ConnectError as exc:
                detail = f"{address} : connexion impossible ({exc})"
                continue  # the next address of the name, if any
            except httpx.HTTPError as exc:
                return f"{address} : {type(exc).__name__} ({exc})", True
            verdict = _judge(status, bytes(received), challenge)
            return verdict, status in TRANSIENT_STATUSES
        return detail, True


def _judge(status: int, received: bytes, challenge: str) -> str | None:
    if not 200 <= status < 300:
        return f"HTTP {status}"
    if len(received) > MAX_CHALLENGE_RESPONSE_BYTES:
        return "réponse trop longue"
    try:
        answer = json.loads(received).get("answer")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return "réponse illisible (JSON {'answer': …} attendu)"
    if not challenge_matches(challenge, answer):
        return "mauvaise réponse (défi ouvert avec une autre clé ?)"
    return None
