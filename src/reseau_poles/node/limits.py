"""Rate limits of a node's ``/api``, per key holder (a pôle on the seller node, an
organisation on the buyer node): a token bucket each (``api_rate_per_second``,
``api_rate_burst``), and a stricter one for the routes that cost the network most (the buyer's
``POST /api/searches``: ``api_search_rate_per_second``, ``api_search_burst``).

The check runs once the key is known (:func:`reseau_poles.node.api.api_key_owner`): a request
without a valid key gets its 401 without touching any bucket. Past its rate a holder gets a 429
``trop_de_requetes`` with ``Retry-After`` (whole seconds, at least 1); the others' buckets are
untouched, so one organisation's flood leaves the others their share. The buckets live in the
process, or in Redis when ``redis_url`` is set (shared by every process of the node).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from fastapi import Request

from reseau_poles.network.ratelimit import Limiter, make_rate_limiter, retry_after_header

from .settings import NodeSettings

PATH = "headers.X-API-Key"
_CHECKED = "api_rate_checked"


@dataclass
class ApiLimits:
    """The node's two buckets per key holder, and which routes (method, path template) take
    from the stricter one as well."""

    general: Limiter
    costly: Limiter
    general_burst: int
    costly_burst: int
    costly_routes: frozenset[tuple[str, str]] = field(default_factory=frozenset)

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

    async def check(self, request: Request, holder: str) -> None:
        """Take the request's tokens from ``holder``'s buckets, or refuse it with a 429."""
        from .api import ApiError

        if getattr(request.state, _CHECKED, False):  # a dependency resolved twice
            return
        setattr(request.state, _CHECKED, True)
        limiter, burst = self.general, self.general_burst
        wait = await limiter.take(holder)
        if not wait and self.is_costly(request):
            limiter, burst = self.costly, self.costly_burst
            wait = await limiter.take(holder)
        if wait:
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
