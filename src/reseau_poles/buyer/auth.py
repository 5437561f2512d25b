"""The client API's authentication: one API key per buyer organisation (``X-API-Key`` or
``Authorization: Bearer``), revocable; the dependency answers with the organisation id."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from reseau_poles.node.api import API_KEY_BEARER, API_KEY_HEADER, api_key_owner

from . import repository as repo


async def organisation(
    request: Request,
    x_api_key: Annotated[str | None, Security(API_KEY_HEADER)] = None,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(API_KEY_BEARER)] = None,
) -> str:
    """The organisation holding the request's key; 401 ``non_authentifie`` otherwise."""
    return await api_key_owner(
        request.app.state.service.factory,
        x_api_key,
        request.headers.get("authorization"),
        repo.organisation_for_api_key,
        request=request,
    )
