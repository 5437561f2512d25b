"""The pôle's profile (tag « gestion »).

GET    /api/providers/{id}                          the pôle's profile
PUT    /api/providers/{id}                          replace the profile
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request

from reseau_poles.participant import read_json_object, validated
from reseau_poles.participant.answers import answers
from reseau_poles.participant.api import body_doc

from .. import answers as out
from ..repositories import providers as provider_repo
from ..requests import ProviderIn
from .common import not_found, read, same_id, write
from .deps import OwnProvider, ProvidersService

router = APIRouter(prefix="/api/providers/{provider_id}", tags=["gestion"])


def provider_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **provider_repo.provider_in_from_row(row).model_dump(mode="json", warnings=False),
        "active": row["active"],
    }


@router.get("", summary="Profil du pôle", responses=answers(out.ProviderAnswer))
async def get_provider(provider_id: OwnProvider, providers: ProvidersService) -> dict[str, Any]:
    """Profil du pôle : forme juridique, régions, contact, heures, conditions de paiement."""
    row = await read(providers.profile, provider_id)
    if row is None:
        raise not_found("Pôle", "path.provider_id")
    return provider_out(row)


@router.put(
    "",
    summary="Remplacer le profil du pôle",
    openapi_extra=body_doc(ProviderIn),
    responses=answers(out.ProviderAnswer),
)
async def put_provider(
    request: Request, provider_id: OwnProvider, providers: ProvidersService
) -> dict[str, Any]:
    """Remplace tout le profil (les champs absents reprennent leur valeur par défaut)."""
    data = same_id(await read_json_object(request, allow_empty=False), "id", provider_id)
    profile = validated(ProviderIn, data)
    return provider_out(await write(providers.replace, profile))
