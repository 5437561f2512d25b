"""Rate limits of a node's ``/api``, per key holder (a pôle on the seller node, an
organisation on the buyer node): a token bucket each (``api_rate_per_second``,
``api_rate_burst``), and a stricter one for the routes that cost the network most (the buyer's
``POST /api/searches``: ``api_search_rate_per_second``, ``api_search_burst``).

The check runs once the key is known (:func:`reseau_poles.participant.api.api_key_owner`): a request
without a valid key gets its 401 without touching any bucket. Past its rate a holder gets a 429
``trop_de_requetes`` with ``Retry-After`` (whole seconds, at least 1); the others' buckets are
untouched, so one organisation's flood leaves the others their share. The buckets live in the
process, or in Redis when ``redis_url`` is set (shared by every process of the node).

A key seen before whose holder's bucket is empty is refused before anything else of the
request is done (:class:`EarlyRefusal`, a raw ASGI layer in front of the body guard and
FastAPI's routing; :meth:`ApiLimits.refuse_early` for the same rule inside a dependency): a
client hammering past its limit costs the node one dictionary look-up and a bucket read per
request, and takes neither the worker threads nor the event loop time the other holders'
requests need. A key revoked meanwhile thus gets 429 rather than 401 until its holder's bucket
refills.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from fastapi import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from reseau_poles.network.ratelimit import Limiter, make_rate_limiter, retry_after_header

from .api import ApiError, api_key_from_headers
from .settings import NodeSettings

PATH = "headers.X-API-Key"
_CHECKED = "api_rate_checked"
KNOWN_KEYS = 10_000


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class ApiLimits:
    """The node's two buckets per key holder, and which routes (method, path template) take
    from the stricter one as well."""

    general: Limiter
    costly: Limiter
    general_burst: int
    costly_burst: int
    costly_routes: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    # The same routes as (method, compiled path), for a request not yet routed.
    costly_paths: tuple[tuple[str, re.Pattern[str]], ...] = ()
    # SHA-256 of the keys seen lately → their holder (the least recent forgotten first).
    holders: OrderedDict[str, str] = field(default_factory=OrderedDict)

    @classmethod
    def from_settings(
        cls,
        settings: NodeSettings,
        *,
        redis_url: str | None = None,
        costly_routes: Iterable[tuple[str, str]] = (),
    ) -> ApiLimits:
        prefix = f"reseau-poles:api:{settings.subscriber_id}:"
        return cls(
            general=make_rate_limiter(
                settings.api_rate_per_second,
                settings.api_rate_burst,
                redis_url=redis_url,
                prefix=prefix + "all:",
            ),
            costly=make_rate_limiter(
                settings.api_search_rate_per_second,
                settings.api_search_burst,
                redis_url=redis_url,
                prefix=prefix + "costly:",
            ),
            general_burst=settings.api_rate_burst,
            costly_burst=settings.api_search_burst,
            costly_routes=frozenset((method.upper(), path) for method, path in costly_routes),
            costly_paths=tuple(
                (method.upper(), compile_path(path)[0]) for method, path in costly_routes
            ),
        )

    def is_costly(self, request: Request) -> bool:
        route = request.scope.get("route")
        path = getattr(route, "path", None)
        return (request.method, path) in self.costly_routes

    def is_costly_path(self, method: str, path: str) -> bool:
        return any(
            method == costly_method and pattern.match(path)
            for costly_method, pattern in self.costly_paths
        )

    async def early_refusal(self, method: str, path: str, key: str) -> ApiError | None:
        """The 429 for a key seen lately whose holder's bucket is empty, before anything else
        is done with its request (nothing taken); ``None`` otherwise."""
        holder = self.holders.get(_digest(key))
        if holder is None:
            return None
        wait = await self.general.peek(holder)
        if wait:
            return self._refusal(self.general, self.general_burst, wait)
        if self.costly_paths and self.is_costly_path(method, path):
            wait = await self.costly.peek(holder)
            if wait:
                return self._refusal(self.costly, self.costly_burst, wait)
        return None

    async def refuse_early(self, request: Request, key: str) -> None:
        """Before the key's look-up: a 429 if it is a key seen lately whose holder's bucket
        is empty (nothing taken)."""
        if getattr(request.state, _CHECKED, False):
            return
        refusal = await self.early_refusal(request.method, request.url.path, key)
        if refusal is not None:
            raise refusal

    async def check(self, request: Request, holder: str, key: str | None = None) -> None:
        """Take the request's tokens from ``holder``'s buckets, or refuse it with a 429;
        ``key``: the key it came with (remembered for :meth:`refuse_early`)."""
        if getattr(request.state, _CHECKED, False):  # a dependency resolved twice
            return
        setattr(request.state, _CHECKED, True)
        if key is not None:
            digest = _digest(key)
            self.holders[digest] = holder
            self.holders.move_to_end(digest)
            if len(self.holders) > KNOWN_KEYS:
                self.holders.popitem(last=False)
        wait = await self.general.take(holder)
        if wait:
            self._refuse(self.general, self.general_burst, wait)
        if self.is_costly(request):
            wait = await self.costly.take(holder)
            if wait:
                self._refuse(self.costly, self.costly_burst, wait)

    @classmethod
    def _refuse(cls, limiter: Limiter, burst: int, wait: float) -> None:
        raise cls._refusal(limiter, burst, wait)

    @staticmethod
    def _refusal(limiter: Limiter, burst: int, wait: float) -> ApiError:
        return ApiError(
            429,
            "trop_de_requetes",
            f"Trop de requêtes pour cette clé d'API : au plus {limiter.rate:g} par seconde "
            f"(rafale de {burst}). Réessayez dans {retry_after_header(wait)} s.",
            PATH,
            headers={"Retry-After": retry_after_header(wait)},
        )

    async def aclose(self) -> None:
        await self.general.aclose()
        await self.costly.aclose()


class EarlyRefusal:
    """The outer layer of a node's ``/api``: a request whose key belongs to a holder past its
    rate gets its 429 here, before its body is read or parsed, before routing and dependency
    resolution; every other request goes on unchanged (the dependency applies the limits
    then, and learns the key's holder)."""

    def __init__(self, app: ASGIApp, *, limits: ApiLimits, prefix: str) -> None:
        self.app = app
        self.limits = limits
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and self.limits.holders
            and scope["path"].startswith(self.prefix)
            and (key := _key_of(scope)) is not None
        ):
            refusal = await self.limits.early_refusal(scope["method"], scope["path"], key)
            if refusal is not None:
                await refusal.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _key_of(scope: Scope) -> str | None:
    api_key = authorization = None
    for name, value in scope["headers"]:
        if name == b"x-api-key":
            api_key = value.decode("latin-1")
        elif name == b"authorization":
            authorization = value.decode("latin-1")
    return api_key_from_headers(api_key, authorization)
