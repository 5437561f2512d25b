"""The client API's authentication: one API key per buyer organisation (``X-API-Key`` or
``Authorization: Bearer``), revocable; the dependency answers with the organisation id."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Request

from reseau_poles.node.api import api_key_owner

from . import repository as repo


async def organisation(
    request: Request,
    x_api_key: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> str:
    """The organisation holding the request's key; 401 ``non_authentifie`` otherwise."""
    return await api_key_owner(
        request.app.state.service.factory,
        x_api_key,
        authorization,
        repo.organisation_for_api_key,
        request=request,
    )
