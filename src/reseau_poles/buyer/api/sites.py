"""An organisation's delivery sites (``/api/sites``): where its orders are received.

POST   /api/sites           201 with the site (``Location``)
GET    /api/sites           the organisation's sites
GET    /api/sites/{id}      one site
PUT    /api/sites/{id}      replace it; PATCH: change some fields (the result is checked whole)
DELETE /api/sites/{id}      204; kept in the database for the orders that name it
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from reseau_poles.participant import ApiError, read_json_object
from reseau_poles.participant.answers import answers
from reseau_poles.participant.api import body_doc

from .. import answers as out
from ..requests import SiteIn
from ..services.sites import SiteNotFound, SiteService, parse_site
from .deps import Organisation, Sites

router = APIRouter(prefix="/api/sites", tags=["sites de livraison"])


def _unknown() -> ApiError:
    return ApiError(404, "site_inconnu", "Site de livraison inconnu.", "id")


@router.post(
    "",
    status_code=201,
    openapi_extra=body_doc(SiteIn),
    responses=answers(out.Site, 201, description="Le site créé (en-tête Location)."),
    summary="Créer un site de livraison",
)
async def create_site(request: Request, service: Sites, organisation_id: Organisation) -> Any:
    """Ajouter un site de livraison (adresse, région, heures de réception, chaîne de froid)."""
    site, region = parse_site(await read_json_object(request, allow_empty=False))
    document = await service.create(organisation_id, site, region)
    return JSONResponse(
        document, status_code=201, headers={"Location": f"/api/sites/{document['id']}"}
    )


@router.get("", responses=answers(out.SiteList), summary="Sites de livraison")
async def list_sites(service: Sites, organisation_id: Organisation) -> Any:
    """Les sites de livraison de l'organisation."""
    return {"sites": await service.list(organisation_id)}


@router.get("/{site_id}", responses=answers(out.Site), summary="Un site de livraison")
async def read_site(site_id: str, service: Sites, organisation_id: Organisation) -> Any:
    """Un site de livraison."""
    try:
        return await service.get(organisation_id, site_id[:64])
    except SiteNotFound:
        raise _unknown() from None


async def _change(
    request: Request, service: SiteService, site_id: str, organisation_id: str, *, merge: bool
) -> Any:
    data = await read_json_object(request, allow_empty=False)
    try:
        return await service.change(organisation_id, site_id[:64], data, merge=merge)
    except SiteNotFound:
        raise _unknown() from None


@router.put(
    "/{site_id}",
    openapi_extra=body_doc(SiteIn),
    responses=answers(out.Site),
    summary="Remplacer un site de livraison",
)
async def replace_site(
    request: Request, site_id: str, service: Sites, organisation_id: Organisation
) -> Any:
    """Remplacer un site (tous ses champs)."""
    return await _change(request, service, site_id, organisation_id, merge=False)


@router.patch(
    "/{site_id}",
    openapi_extra=body_doc(SiteIn, partial=True),
    responses=answers(out.Site),
    summary="Modifier un site de livraison",
)
async def patch_site(
    request: Request, site_id: str, service: Sites, organisation_id: Organisation
) -> Any:
    """Changer certains champs d'un site ; le résultat est vérifié en entier."""
    return await _change(request, service, site_id, organisation_id, merge=True)


@router.delete("/{site_id}", status_code=204, summary="Supprimer un site de livraison")
async def delete_site(site_id: str, service: Sites, organisation_id: Organisation) -> Response:
    """Retirer un site ; les commandes qui le nomment le gardent."""
    try:
        await service.delete(organisation_id, site_id[:64])
    except SiteNotFound:
        raise _unknown() from None
    return Response(status_code=204)
