"""How a node answers what goes wrong, for every role and every route: :func:`refusal_for`
turns any exception raised while serving a request into its answer (the same function for the
protocol endpoint and the application's other routes), :func:`database_down` is the 503 while
the node's database does not answer, and :class:`AnswerUnexpected` catches what nothing else
did. Raw ASGI where the hot path needs it (:func:`send_answer`), FastAPI's ``Response``
elsewhere (:func:`refusal_response`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import sqlalchemy.exc
from fastapi import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..protocol.errors import ErrorCode, ProtocolError
from .acks import INVALID_REQUEST_BY_ROLE, JSON_CONTENT_TYPE, Refusal

log = logging.getLogger("reseau_poles.network")

_JSON_HEADER = (b"content-type", JSON_CONTENT_TYPE.encode())


async def send_answer(
    send: Send, status: int, content: bytes, extra: Mapping[str, str] | None = None
) -> None:
    """A JSON answer (an ACK or a NACK) straight on a raw ASGI ``send``."""
    headers = [_JSON_HEADER, (b"content-length", str(len(content)).encode())]
    if extra:
        headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def refusal_response(refusal: Refusal) -> Response:
    return Response(
        refusal.body(),
        status_code=refusal.status_code,
        headers=refusal.headers,
        media_type=JSON_CONTENT_TYPE,
    )


# A database that does not answer (restart, failover, pool exhausted): a 503 to retry.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
)


# Who answers, in the messages of internal failures.
WHO_BY_ROLE: dict[str, str] = {
    "BAP": "du nœud",
    "BPP": "du nœud",
    "BG": "de la passerelle",
    "BREG": "du registre",
}


def database_down(code: ErrorCode, role: str = "BPP") -> Refusal:
    """The answer while the role's database does not answer: 503, retry in a second."""
    error = ProtocolError(
        f"base de données {WHO_BY_ROLE[role]} momentanément indisponible ; réessayez", code=code
    )
    return Refusal(error, status_code=503, headers={"Retry-After": "1"})


def refusal_for(exc: BaseException, role: str, where: str = "") -> Refusal:
    """The answer to any exception raised while serving a request, for every role: status,
    NACK body (:meth:`Refusal.body`) and headers.

    A :class:`Refusal` is its own answer; a :class:`ProtocolError` (a handler's) its NACK
    with its status; a database that does not answer 503 with ``Retry-After: 1``; anything
    else 500 with a NACK in ``role``'s invalid-request code, logged (``where`` says which
    request) with its traceback, which never leaves the process."""
    if isinstance(exc, Refusal):
        return exc
    if isinstance(exc, ProtocolError):
        return Refusal(exc, status_code=exc.http_status)
    code = INVALID_REQUEST_BY_ROLE[role]
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return database_down(code, role)
    log.error("erreur interne : %s", where or "?", exc_info=exc)
    message = f"erreur interne {WHO_BY_ROLE[role]} ; réessayez plus tard"
    return Refusal(ProtocolError(message, code=code), status_code=500)


class AnswerUnexpected:
    """ASGI middleware: anything unexpected becomes the answer of :func:`refusal_for` (a 500
    NACK, the same as on a protocol endpoint), or the answer of the path's prefix in
    ``by_prefix``; logged with its traceback, which never leaves the process. Caught here rather than by an exception
    handler, which Starlette follows by re-raising: the server would then drop the client's
    keep-alive connection."""

    def __init__(
        self,
        app: ASGIApp,
        role: str,
        by_prefix: Mapping[str, Callable[[], Response]] | None = None,
    ) -> None:
        self.app, self.role, self.by_prefix = app, role, dict(by_prefix or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:
                raise
            path = str(scope.get("path", ""))
            answer = next(
                (make for prefix, make in self.by_prefix.items() if path.startswith(prefix)),
                None,
            )
            if answer is not None:
                log.exception("erreur interne : %s %s", scope.get("method"), path)
                response = answer()
            else:
                response = refusal_response(
                    refusal_for(exc, self.role, f"{scope.get('method')} {path}")
                )
            await response(scope, receive, send)
