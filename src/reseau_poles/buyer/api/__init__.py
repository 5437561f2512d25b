"""The buyer node's client API (``/api``): one router per feature, authenticated per
organisation (:mod:`.deps`). ``ROUTERS``: what ``create_app`` includes, in this order."""

from __future__ import annotations

from fastapi import APIRouter

from . import carts, orders, reports, searches, sites, webhooks

ROUTERS: tuple[APIRouter, ...] = (
    orders.router,
    webhooks.router,
    sites.router,
    carts.router,
    reports.router,
    searches.router,
)

__all__ = ["ROUTERS"]
