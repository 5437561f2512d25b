"""The guard every JSON body of every role's HTTP API passes, before any route parses it.

Protocol calls (``POST /{action}``) are read by the inbound pipeline (:mod:`.pipeline`), with
its size limit and the JSON guard (:mod:`.jsonguard`). Everything else a role reads as JSON
(the nodes' client and management APIs, the registry's ``/subscribe``, ``/lookup`` and
``/admin``, ``/on_subscribe``) goes through :class:`JsonBodyGuard`, an ASGI middleware:

1. a body larger than ``max_bytes`` is refused (413) before it is read whole;
2. a body with a hostile shape (nesting beyond :data:`~.jsonguard.MAX_DEPTH`, a huge string or
   array, a member written twice) is refused (400, with the path), as is an integer beyond
   64 bits, which no column can hold;
3. otherwise the body, read once, is handed on unchanged; the route parses it as before and
   answers its own refusals (a body that is not JSON at all is the route's to describe).

Bodies that are not JSON (a CSV import, a form upload) are left to their routes, which have
their own limits. The role chooses how a refusal is written (:data:`Refuse`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..protocol.jsonpath import json_path
from .jsonguard import JsonShapeError, loads_inbound

# (status, stable code, French message, JSON path, request path) → the role's answer.
Refuse = Callable[[int, str, str, str, str], Response]

TOO_LARGE = "corps_trop_volumineux"
INVALID_JSON = "json_invalide"
INT64 = (-(2**63), 2**63 - 1)
_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return not kind or kind == "application/json" or kind.endswith("+json")


def too_big_integer(value: Any) -> str | None:
    """The path of the first integer beyond 64 bits in a parsed JSON value, dotted
    (``items.0.count``; ``$.0`` in an array at the top, ``$`` for the value itself), else
    ``None``."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, location = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, (*location, k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, (*location, i) if location else ("$", i)) for i, v in enumerate(item))
        elif type(item) is int and not INT64[0] <= item <= INT64[1]:
            return json_path(location)
    return None


class JsonBodyGuard:
    """ASGI middleware: size limit and JSON guard for every JSON body, before the routes."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        refuse: Refuse,
        skip: Callable[[str], bool] = lambda _path: False,
    ) -> None:
        self.app, self.max_bytes, self.refuse, self.skip = app, max_bytes, refuse, skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _METHODS or self.skip(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if not _is_json(headers.get("content-type", "")):
            await self.app(scope, receive, send)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send, 413, TOO_LARGE, self._too_large(), "$")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        disconnected = False
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send, 413, TOO_LARGE, self._too_large(), "$")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body.strip() and not disconnected:
            refusal = _shape_refusal(body)
            if refusal is not None:
                message_text, json_path = refusal
                await self._refuse(scope, receive, send, 400, INVALID_JSON, message_text, json_path)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                if disconnected:
                    return {"type": "http.disconnect"}
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"Corps trop volumineux (au plus {self.max_bytes} octets)."

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, code: str, text: str, at: str
    ) -> None:
        response = self.refuse(status, code, text, at, scope["path"])
        await response(scope, receive, send)


def _shape_refusal(body: bytes) -> tuple[str, str] | None:
    """Why a JSON body is hostile (French message, path), or ``None``; a body that is not
    JSON at all is left to the route."""
    try:
        value, _finite = loads_inbound(body)
    except JsonShapeError as exc:
        return f"JSON refusé : {exc.message}.", exc.path
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    where = too_big_integer(value)
    if where is not None:
        return "Entier hors limites (au plus 64 bits).", where
    return None
