"""Who is calling the seller node's management API: a pôle, known by one of its API keys.

``provider_of_key`` is a FastAPI dependency: it reads the key (``X-API-Key`` or
``Authorization: Bearer``), looks it up in a worker thread and returns the provider id it
belongs to, or refuses with a 401 ``non_authentifie``. ``own_provider`` is the dependency of
routes under ``/api/providers/{provider_id}/…``: the key must belong to that very provider
(403 ``acces_refuse`` otherwise).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.node.api import API_KEY_BEARER, API_KEY_HEADER, ApiError, api_key_owner
from reseau_poles.storage import make_session_factory

from . import repository as repo


def session_factory(request: Request) -> sessionmaker[Session]:
    """The seller service's session factory (or one made once for the app's engine)."""
    state = request.app.state
    service = getattr(state, "service", None)
    factory = getattr(service, "factory", None)
    if factory is None:
        factory = getattr(state, "management_factory", None)
        if factory is None:
            factory = state.management_factory = make_session_factory(state.engine)
    return factory


async def provider_of_key(
    request: Request,
    x_api_key: Annotated[str | None, Security(API_KEY_HEADER)] = None,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(API_KEY_BEARER)] = None,
) -> str:
    """The provider id of a live API key, or a 401."""
    return await api_key_owner(
        session_factory(request),
        x_api_key,
        request.headers.get("authorization"),
        repo.provider_for_api_key,
        request=request,
    )


def check_provider(provider_id: str, key_provider: str) -> str:
    """``provider_id`` if the key belongs to it; a 403 ``acces_refuse`` otherwise."""
    if provider_id != key_provider:
        raise ApiError(
            403,
            "acces_refuse",
            "Cette clé d'API appartient à un autre pôle.",
            "path.provider_id",
        )
    return provider_id


async def own_provider(
    provider_id: str, key_provider: Annotated[str, Depends(provider_of_key)]
) -> str:
    """Dependency of ``/api/providers/{provider_id}/…``: the path's provider, if it is the
    key's."""
    return check_provider(provider_id, key_provider)


ProviderOfKey = Annotated[str, Depends(provider_of_key)]
OwnProvider = Annotated[str, Depends(own_provider)]
