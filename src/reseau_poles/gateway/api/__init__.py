"""The gateway's own HTTP routes, one router per feature. ``ROUTERS``: what ``create_app``
includes, in this order, after the routes every participant has (``/on_subscribe``,
``/health``: :mod:`reseau_poles.participant.routes`).

``POST /search`` is no router: it is the network layer's pipeline, mounted in front of the
routing; its OpenAPI text is :data:`.search.SEARCH_DOCS`."""

from __future__ import annotations

from fastapi import APIRouter

from . import metrics, searches

ROUTERS: tuple[APIRouter, ...] = (
    metrics.router,  # /metrics
    searches.router,  # /searches, /searches/{message_id}
)

__all__ = ["ROUTERS"]
