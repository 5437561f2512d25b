"""What the buyer's routes get by dependency: the node's services and settings (the one place
that reads ``request.app.state``), and the caller's organisation from its API key (one key per
buyer organisation, ``X-API-Key`` or ``Authorization: Bearer``, revocable)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from reseau_poles.participant import ApiError
from reseau_poles.participant.api import API_KEY_BEARER, API_KEY_HEADER, api_key_owner
from reseau_poles.participant.webhook_subscriptions import WebhookSubscriptions

from ..repositories.organisations import organisation_for_api_key
from ..services.cart_checkout import CartService
from ..services.guides import GuideService
from ..services.order_callbacks import BUYER_EVENTS
from ..services.orders import OrderService
from ..services.reports import ReportService
from ..services.searches import BuyerService
from ..services.sites import SiteService
from ..services.sse import StreamSlots
from ..settings import BuyerSettings


def _state(request: Request) -> Any:
    return request.app.state


def search_service(request: Request) -> BuyerService:
    return _state(request).service


def order_service(request: Request) -> OrderService:
    return _state(request).orders


def webhook_subscriptions(request: Request) -> WebhookSubscriptions:
    """The organisations' webhook subscriptions (the frame's service, on the orders' table)."""
    orders = order_service(request)
    return WebhookSubscriptions(orders.webhooks, orders.factory, BUYER_EVENTS)


def cart_service(request: Request) -> CartService:
    return _state(request).carts


def site_service(request: Request) -> SiteService:
    return _state(request).sites


def report_service(request: Request) -> ReportService:
    return _state(request).reports


def guide_service(request: Request) -> GuideService:
    """The organisations' order guides (the portal's pages)."""
    return _state(request).guides


def settings(request: Request) -> BuyerSettings:
    return _state(request).settings


def stream_slots(request: Request) -> StreamSlots:
    return _state(request).streams


def heartbeat_seconds(request: Request) -> float:
    return float(_state(request).sse_heartbeat_seconds)


async def organisation(
    request: Request,
    x_api_key: Annotated[str | None, Security(API_KEY_HEADER)] = None,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(API_KEY_BEARER)] = None,
) -> str:
    """The organisation holding the request's key; 401 ``non_authentifie`` otherwise."""
    return await api_key_owner(
        search_service(request).factory,
        x_api_key,
        request.headers.get("authorization"),
        organisation_for_api_key,
        request=request,
    )


Organisation = Annotated[str, Depends(organisation)]
Searches = Annotated[BuyerService, Depends(search_service)]
Orders = Annotated[OrderService, Depends(order_service)]
Subscriptions = Annotated[WebhookSubscriptions, Depends(webhook_subscriptions)]
Carts = Annotated[CartService, Depends(cart_service)]
Sites = Annotated[SiteService, Depends(site_service)]
Reports = Annotated[ReportService, Depends(report_service)]
Guides = Annotated[GuideService, Depends(guide_service)]
Settings = Annotated[BuyerSettings, Depends(settings)]
Streams = Annotated[StreamSlots, Depends(stream_slots)]
Heartbeat = Annotated[float, Depends(heartbeat_seconds)]


def wait_of(
    wait_ms: str | None, limit: int, *, default: int = 0, max_digits: int | None = None
) -> int:
    """A ``?wait_ms=`` in milliseconds, at most ``limit`` (the node's ``max_wait_ms``);
    ``default`` when absent; 400 ``parametres_invalides`` when it is not a positive integer
    (of at most ``max_digits`` digits, when given)."""
    if wait_ms is None:
        return min(default, limit)
    if not wait_ms.isdigit() or (max_digits is not None and len(wait_ms) > max_digits):
        raise ApiError(400, "parametres_invalides", "wait_ms : entier positif attendu.", "wait_ms")
    return min(int(wait_ms), limit)
