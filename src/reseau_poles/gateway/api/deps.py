"""What the gateway's routes get by dependency: its service, built by ``create_app`` (the one
place that reads ``request.app.state``), and the statistics it keeps."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..service import GatewayService
from ..stats import SearchStats


# ``async``: a plain function would be run in a worker thread, on every request.
async def gateway_service(request: Request) -> GatewayService:
    """The gateway's service (the one read of the application's state)."""
    return request.app.state.service


async def search_stats(request: Request) -> SearchStats:
    """The statistics of the recent searches."""
    return (await gateway_service(request)).stats


Service = Annotated[GatewayService, Depends(gateway_service)]
Stats = Annotated[SearchStats, Depends(search_stats)]
