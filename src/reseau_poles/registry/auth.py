"""Operator authentication for ``/admin``: a BECKN-006 signature over the request body (the
empty body for GET) made with a key listed in the registry's settings. No passwords."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Request

from reseau_poles.protocol.errors import ErrorCode, ProtocolError, SignatureError
from reseau_poles.protocol.signing import AUTHORIZATION, parse_header, verify

from .errors import RegistryError
from .settings import OperatorKey

WWW_AUTHENTICATE = 'Signature realm="reseau-poles-registre",headers="(created) (expires) digest"'


@dataclass(frozen=True, slots=True)
class Operator:
    operator_id: str
    key_id: str

    @property
    def actor(self) -> str:
        return f"operator:{self.operator_id}|{self.key_id}"


class ReplayGuard:
    """Signatures of state-changing requests already used, kept until they expire."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    def check_and_remember(self, signature: str, expires: float) -> bool:
        now = time.time()
        if len(self._seen) > 1000:
            self._seen = {sig: until for sig, until in self._seen.items() if until >= now}
        if signature in self._seen:
            return False
        self._seen[signature] = expires
        return True


class OperatorAuth:
    def __init__(
        self, operators: list[OperatorKey], *, skew: float, max_body_bytes: int = 65_536
    ) -> None:
        self._keys = {(op.operator_id, op.key_id): op for op in operators}
        self._skew = skew
        self._max_body_bytes = max_body_bytes
        self._replays = ReplayGuard()

    async def __call__(self, request: Request) -> Operator:
        body = await self._read(request)
        try:
            header = parse_header(request.headers.get(AUTHORIZATION))
        except SignatureError as exc:
            raise self._refuse(exc.reason, exc.message) from None
        operator = self._keys.get((header.subscriber_id, header.key_id))
        if operator is None:
            raise self._refuse(
                "unknown_operator",
                f"{header.subscriber_id}|{header.key_id} n'est pas une clé d'opérateur de ce registre",
            )
        try:
            verify(
                body,
                header,
                operator.signing_public_key,
                skew=self._skew,
                invalid_code=ErrorCode.REGISTRY_INVALID_SIGNATURE,
            )
        except SignatureError as exc:
            raise self._refuse(exc.reason, exc.message) from None
        if request.method not in ("GET", "HEAD") and not self._replays.check_and_remember(
            header.signature, header.expires + self._skew
        ):
            raise self._refuse("replayed", "cette signature a déjà servi : signez chaque requête")
        return Operator(operator.operator_id, operator.key_id)

    async def _read(self, request: Request) -> bytes:
        """The body, never more than the registry's limit (413 before any signature work)."""
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body_bytes:
            raise self._too_large()
        size = 0
        chunks: list[bytes] = []
        async for chunk in request.stream():
            size += len(chunk)
            if size > self._max_body_bytes:
                raise self._too_large()
            chunks.append(chunk)
        body = b"".join(chunks)
        request._body = body  # the route reads the same bytes again (Starlette's cache)
        return body

    def _too_large(self) -> ProtocolError:
        return RegistryError(
            f"corps trop long (> {self._max_body_bytes} octets)",
            code=ErrorCode.REGISTRY_INVALID_REQUEST,
            path="$",
            status=413,
        )

    @staticmethod
    def _refuse(reason: str, message: str) -> SignatureError:
        return SignatureError(
            reason,
            f"authentification de l'opérateur refusée : {message}",
            code=ErrorCode.REGISTRY_INVALID_SIGNATURE,
            path="headers.Authorization",
        )
