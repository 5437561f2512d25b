"""The pôle's places and fulfilment options (tag « gestion »).

GET    /api/providers/{id}/locations                its places (warehouse, drop points…)
PUT    /api/providers/{id}/locations/{location_id}  create or replace a place
DELETE /api/providers/{id}/locations/{location_id}  remove a place no option uses
GET    /api/providers/{id}/fulfillment-options      delivery zones, pickup, drop points
PUT    /api/providers/{id}/fulfillment-options/{option_id}
DELETE /api/providers/{id}/fulfillment-options/{option_id}   withdraw (kept for orders)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from reseau_poles.participant import ApiError, read_json_object, validated
from reseau_poles.participant.answers import answers
from reseau_poles.participant.api import body_doc

from .. import answers as out
from ..repositories import columns as column_repo
from ..requests import FulfillmentOptionIn, LocationIn
from .common import SAVED, not_found, read, same_id, write
from .deps import OwnProvider, PlacesService

router = APIRouter(prefix="/api/providers/{provider_id}", tags=["gestion"])


# --- locations ------------------------------------------------------------------------------


def location_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in LocationIn.model_fields}


@router.get("/locations", summary="Lieux du pôle", responses=answers(out.LocationList))
async def get_locations(provider_id: OwnProvider, places: PlacesService) -> dict[str, Any]:
    rows = await read(places.locations, provider_id)
    return {"locations": [location_out(row) for row in rows]}


@router.put(
    "/locations/{location_id}",
    summary="Créer ou remplacer un lieu",
    openapi_extra=body_doc(LocationIn),
    responses=answers(out.LocationAnswer, 200, 201, description=SAVED),
)
async def put_location(
    request: Request, provider_id: OwnProvider, location_id: str, places: PlacesService
) -> JSONResponse:
    """Entrepôt, point de cueillette ou point de chute : coordonnées GPS, adresse, région."""
    data = same_id(await read_json_object(request, allow_empty=False), "id", location_id)
    place = validated(LocationIn, data)
    created = await write(places.put_location, provider_id, place)
    row = await read(places.location, provider_id, place.id)
    assert row is not None
    return JSONResponse(location_out(row), status_code=201 if created else 200)


@router.delete("/locations/{location_id}", status_code=204, summary="Retirer un lieu")
async def delete_location(
    provider_id: OwnProvider, location_id: str, places: PlacesService
) -> Response:
    """Refusé (409) tant qu'un mode d'exécution actif utilise ce lieu."""
    if not await write(places.delete_location, provider_id, location_id):
        raise not_found("Lieu", "path.location_id")
    return Response(status_code=204)


# --- fulfilment options ---------------------------------------------------------------------


def option_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "type": row["type"],
        "name": row["name"],
        "regions": column_repo.split_codes(row["regions"]),
        "fee": f"{row['fee']:.2f}",
        "fee_taxable": row["fee_taxable"],
        "lead_time_hours": row["lead_time_hours"],
        "cold_chain": column_repo.split_codes(row["cold_chain"]),
        "location_id": row["location_id"],
        "delivery_days": row["delivery_days"],
        "delivery_hours": row["delivery_hours"],
        "max_window_hours": row["max_window_hours"],
        "minimum_order": f"{row['minimum_order']:.2f}"
        if row["minimum_order"] is not None
        else None,
    }


@router.get(
    "/fulfillment-options",
    summary="Modes d'exécution",
    responses=answers(out.FulfillmentOptionList),
)
async def get_fulfillment_options(
    provider_id: OwnProvider, places: PlacesService
) -> dict[str, Any]:
    """Zones de livraison par région (frais, délai), cueillette au pôle, points de chute."""
    rows = await read(places.fulfillment_options, provider_id)
    return {"fulfillment_options": [option_out(row) for row in rows]}


@router.put(
    "/fulfillment-options/{option_id}",
    summary="Créer ou remplacer un mode d'exécution",
    openapi_extra=body_doc(FulfillmentOptionIn),
    responses=answers(out.FulfillmentOptionAnswer, 200, 201, description=SAVED),
)
async def put_fulfillment_option(
    request: Request, provider_id: OwnProvider, option_id: str, places: PlacesService
) -> JSONResponse:
    """Une cueillette ou un point de chute nomme son lieu (``location_id``)."""
    data = same_id(await read_json_object(request, allow_empty=False), "id", option_id)
    option = validated(FulfillmentOptionIn, data)
    if option.type.value != "livraison" and option.location_id is None:
        raise ApiError(
            400,
            "parametres_invalides",
            "Une cueillette ou un point de chute doit nommer son lieu (location_id).",
            "location_id",
        )
    if option.type.value == "livraison" and not option.regions:
        raise ApiError(
            400,
            "parametres_invalides",
            "Une livraison doit nommer au moins une région desservie.",
            "regions",
        )
    created = await write(places.put_fulfillment_option, provider_id, option)
    rows = await read(places.fulfillment_options, provider_id)
    row = next(row for row in rows if row["id"] == option.id)
    return JSONResponse(option_out(row), status_code=201 if created else 200)


@router.delete(
    "/fulfillment-options/{option_id}", status_code=204, summary="Retirer un mode d'exécution"
)
async def delete_fulfillment_option(
    provider_id: OwnProvider, option_id: str, places: PlacesService
) -> Response:
    done = await write(places.withdraw_fulfillment_option, provider_id, option_id)
    if not done:
        raise not_found("Mode d'exécution", "path.option_id")
    return Response(status_code=204)
