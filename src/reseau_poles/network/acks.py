"""ACK and NACK bodies, and the refusal that carries a NACK back to the peer; reading them
back (:func:`read_ack`) and the ids of a message's context (:func:`context_ids`), for the
client, the outbox and the transcript alike.

The bodies are fixed bytes where they can be: an ACK is the same 36 bytes every time, so the
hot path never serialises it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.jsonfast import wire

ACK_BODY = b'{"message":{"ack":{"status":"ACK"}}}'
JSON_CONTENT_TYPE = "application/json"
# What a peer's answer is: an ACK, a NACK, or no Beckn answer at all (or none: our side).
Status = Literal["ACK", "NACK", "ERROR"]

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


def read_ack(http_status: int, content: bytes) -> tuple[Status, Mapping[str, Any] | None]:
    """Classify a peer's answer. Only a 2xx with ``message.ack.status == "ACK"`` is an ACK."""
    if content == ACK_BODY:
        if 200 <= http_status < 300:
            return "ACK", None
        return "ERROR", {"code": "http", "message": f"ACK avec HTTP {http_status}"}
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return "ERROR", {"code": "http", "message": f"réponse HTTP {http_status} non JSON"}
    message = data.get("message") if isinstance(data, dict) else None
    ack = message.get("ack") if isinstance(message, dict) else None
    status = ack.get("status") if isinstance(ack, dict) else None
    if status == "ACK" and 200 <= http_status < 300:
        return "ACK", None
    if status == "NACK":
        error = data.get("error")
        return "NACK", error if isinstance(error, dict) else {"message": "NACK sans erreur"}
    return "ERROR", {"code": "http", "message": f"réponse HTTP {http_status} sans ACK ni NACK"}


_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_CONTEXT_FIRST = b'{"context":'


def context_ids(body: bytes) -> tuple[str | None, str | None]:
    """``(transaction_id, message_id)`` of a message body, or ``None`` where unreadable.

    A body that starts with its context (ours always do) has only that object read, not the
    whole catalog after it (this runs for every message transcribed or queued)."""
    context: Any = None
    if body.startswith(_CONTEXT_FIRST):
        try:
            text = body.decode("utf-8")
            start = _WHITESPACE.match(text, len(_CONTEXT_FIRST)).end()  # type: ignore[union-attr]
            context = _DECODER.raw_decode(text, start)[0]
        except (ValueError, RecursionError):
            context = None  # read the whole body below, as for any other shape
    try:
        if not isinstance(context, dict):
            context = json.loads(body).get("context")
    except (ValueError, AttributeError, UnicodeDecodeError, RecursionError):
        return None, None
    if not isinstance(context, dict):
        return None, None
    transaction_id, message_id = context.get("transaction_id"), context.get("message_id")
    return (
        transaction_id if isinstance(transaction_id, str) else None,
        message_id if isinstance(message_id, str) else None,
    )


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
