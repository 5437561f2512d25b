"""The registry's HTTP API: one router per feature. ``ROUTERS``: what ``create_app``
includes, in this order (the public API, then the operator's under ``/admin``)."""

from __future__ import annotations

from fastapi import APIRouter

from . import audit, health, keys, lookup, participants, subscribe

ROUTERS: tuple[APIRouter, ...] = (
    subscribe.router,
    lookup.router,
    health.router,
    participants.router,
    keys.router,
    audit.router,
)

__all__ = ["ROUTERS"]
