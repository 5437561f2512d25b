"""The registry's refusal: a protocol error with its HTTP status (and headers, e.g. 429's
``Retry-After``)."""

from __future__ import annotations

from reseau_poles.protocol.errors import ErrorCode, ProtocolError


class RegistryError(ProtocolError):
    """A refusal of the registry, with its HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode,
        path: str | None,
        status: int,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, code=code, path=path)
        self.http_status = status
        self.headers = headers
