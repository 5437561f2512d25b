"""Rate limits of a node's ``/api``, per key holder (a pôle on the seller node, an
organisation on the buyer node): a token bucket each (``api_rate_per_second``,
``api_rate_burst``), and a stricter one for the routes that cost the network most (the buyer's
``POST /api/searches``: ``api_search_rate_per_second``, ``api_search_burst``).

The check runs once the key is known (:func:`reseau_poles.node.api.api_key_owner`): a request
without a valid key gets its 401 without touching any bucket. Past its rate a holder gets a 429
``trop_de_requetes`` with ``Retry-After`` (whole seconds, at least 1); the others' buckets are
untouched, so one organisation's flood leaves the others their share. The buckets live in the
process, or in Redis when ``redis_url`` is set (shared by every process of the node).

A key seen before whose holder's bucket is empty is refused before its look-up in the
database (:meth:`ApiLimits.refuse_early`): a client hammering past its limit does not take
the worker threads the other holders' requests need. A key revoked meanwhile thus gets 429
rather than 401 until its holder's bucket refills.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from fastapi import Request

from reseau_poles.network.ratelimit import Limiter, make_rate_limiter, retry_after_header

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
        )

    def is_costly(self, request: Request) -> bool:
        route = request.scope.get("route")
        path = getattr(route, "path", None)
        return (request.method, path) in self.costly_routes

    async def refuse_early(self, request: Request, key: str) -> None:
        """Before the key's look-up: a 429 if it is a key seen lately whose holder's bucket
        is empty (nothing taken)."""
        holder = self.holders.get(_digest(key))
        if holder is None or getattr(request.state, _CHECKED, False):
            return
        wait = await self.general.peek(holder)
        if wait:
            self._refuse(self.general, self.general_burst, wait)
        if self.is_costly(request):
            wait = await self.costly.peek(holder)
            if wait:
                self._refuse(self.costly, self.costly_burst, wait)

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

    @staticmethod
    def _refuse(limiter: Limiter, burst: int, wait: float) -> None:
        from .api import ApiError

        raise ApiError(
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
