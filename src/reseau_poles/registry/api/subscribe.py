"""``POST /subscribe``: a participant joins the network or updates its record (signed, with
the challenge to its ``/on_subscribe``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reseau_poles.participant.answers import answers

from .. import answers as out
from ..services.challenge import source_of
from .deps import Registry, SubscriptionsDep, read_body

router = APIRouter()


@router.post(
    "/subscribe",
    summary="Inscrire un participant ou mettre à jour son inscription",
    responses={
        **answers(out.SubscribeAnswer, description="ACK, et où en est l'inscription."),
        400: {"description": "NACK : requête ou url refusée (15000), défi non relevé (15003)"},
        401: {"description": "NACK : signature invalide (15001)"},
        429: {"description": "NACK : trop d'inscriptions en cours (15008), voir Retry-After"},
    },
)
async def subscribe(
    request: Request, service: Registry, subscriptions: SubscriptionsDep
) -> JSONResponse:
    body = await read_body(request, service.settings.max_body_bytes)
    source = source_of(request.client.host if request.client else None)
    outcome = await subscriptions.subscribe(body, request.headers.get("authorization"), source)
    return JSONResponse(outcome.to_ack())
