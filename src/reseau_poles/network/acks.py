"""ACK and NACK bodies, and the refusal that carries a NACK back to the peer.

The bodies are fixed bytes where they can be: an ACK is the same 36 bytes every time, so the
hot path never serialises it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.jsonfast import wire

ACK_BODY = b'{"message":{"ack":{"status":"ACK"}}}'
JSON_CONTENT_TYPE = "application/json"

# The code for "this request is not acceptable" depends on who refuses it, as for signatures.
INVALID_REQUEST_BY_ROLE: dict[str, ErrorCode] = {
    "BG": ErrorCode.GATEWAY_INVALID_REQUEST,
    "BAP": ErrorCode.BUYER_INVALID_RESPONSE,
    "BPP": ErrorCode.INVALID_REQUEST,
    "BREG": ErrorCode.REGISTRY_INVALID_REQUEST,
}


def nack_body(error: ProtocolError | Mapping[str, Any]) -> bytes:
    """The NACK body for ``error`` (a :class:`ProtocolError` or a Beckn ``Error`` object)."""
    payload = (
        error.to_nack()
        if isinstance(error, ProtocolError)
        else {"message": {"ack": {"status": "NACK"}}, "error": dict(error)}
    )
    return wire(payload)


def http_error_message(
    status: int, detail: Any, headers: Mapping[str, str] | None = None, where: str = ""
) -> str:
    """What an HTTP error of the routing says, in French, for every role: « adresse inconnue »
    (404), « méthode non permise (permises : GET, POST) » (405, from its ``Allow`` header),
    else the error's own detail; ``where`` (« GET /api/x ») follows the first words."""
    text = {404: "adresse inconnue", 405: "méthode non permise"}.get(status, str(detail))
    if where:
        text = f"{text} : {where}"
    allowed = (headers or {}).get("Allow") or (headers or {}).get("allow")
    if status == 405 and allowed:
        text = f"{text} (permises : {allowed})"
    return text


class Refusal(Exception):
    """An inbound message we refuse: HTTP status, extra headers and the NACK to send back.

    Raised by the inbound pipeline; the FastAPI exception handler (or a raw ASGI app) turns it
    into the answer with :meth:`body`. Never carries a traceback to the peer.
    """

    def __init__(
        self,
        error: ProtocolError,
        *,
        status_code: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(error.message)
        self.error = error
        self.status_code = status_code or error.http_status
        self.headers = dict(headers or {})

    @property
    def reason(self) -> str:
        return getattr(self.error, "reason", type(self.error).__name__)

    def body(self) -> bytes:
        return nack_body(self.error)

    def __repr__(self) -> str:
        return f"Refusal({self.status_code}, {self.error!r})"
