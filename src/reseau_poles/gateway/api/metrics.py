"""``GET /metrics``: the gateway's figures for Prometheus (:mod:`..metrics`)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse

from ..metrics import CONTENT_TYPE
from .deps import Service

router = APIRouter()


@router.get("/metrics", summary="Métriques Prometheus", response_class=PlainTextResponse)
async def metrics(service: Service) -> Response:
    return Response(service.render_metrics(), media_type=CONTENT_TYPE)
