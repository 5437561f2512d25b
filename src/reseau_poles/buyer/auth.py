"""The client API's authentication: one API key per buyer organisation (``X-API-Key`` or
``Authorization: Bearer``), revocable; the dependency answers with the organisation id."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Header, Request

from reseau_poles.node import ApiError, api_key_from_headers
from reseau_poles.storage import read_session

from . import repository as repo


async def organisation(
    request: Request,
    x_api_key: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> str:
    """The organisation holding the request's key; 401 ``non_authentifie`` otherwise."""
    key = api_key_from_headers(x_api_key, authorization)
    if not key:
        raise ApiError(
            401,
            "non_authentifie",
            "Clé d'API manquante (en-tête X-API-Key ou Authorization: Bearer).",
            "headers.X-API-Key",
        )
    factory = request.app.state.service.factory

    def find() -> str | None:
        with read_session(factory) as session:
            return repo.organisation_for_api_key(session, key)

    found = await asyncio.to_thread(find)
    if found is None:
        raise ApiError(
            401, "non_authentifie", "Clé d'API inconnue ou révoquée.", "headers.X-API-Key"
        )
    return found
