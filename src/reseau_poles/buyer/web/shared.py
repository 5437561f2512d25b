"""What the buyer's search and cart pages share: their services by dependency, the person's
current cart (cookie ``rp_panier``), a refusal of a service shown as a message, and an HTML
fragment rendered outside a response (a Server-Sent Event's data)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any, Final

from fastapi import Depends, Request, Response
from fastapi.responses import StreamingResponse

from reseau_poles.participant import ApiError
from reseau_poles.portal.accounts import User
from reseau_poles.portal.auth import PageError, require_role
from reseau_poles.portal.site import portal_of
from reseau_poles.portal.templating import is_secure, page_context

from ..api.deps import cart_service, search_service, settings, site_service, stream_slots
from ..services import sse
from ..services.cart_approval import ApprovalService
from ..services.cart_checkout import CartService
from ..services.searches import BuyerService
from ..services.sites import SiteService
from ..services.sse import StreamSlots
from ..settings import BuyerSettings

CART_COOKIE: Final = "rp_panier"
BUYING_ROLES: Final = ("acheteur", "approbateur")

Searches = Annotated[BuyerService, Depends(search_service)]
Carts = Annotated[CartService, Depends(cart_service)]
Sites = Annotated[SiteService, Depends(site_service)]
Settings = Annotated[BuyerSettings, Depends(settings)]
Streams = Annotated[StreamSlots, Depends(stream_slots)]
# Builds carts, orders: an acheteur, or an approbateur (who may order what they approve).
Buyer = Annotated[User, Depends(require_role(*BUYING_ROLES))]


def approvals(request: Request) -> ApprovalService:
    return ApprovalService(cart_service(request))


Approvals = Annotated[ApprovalService, Depends(approvals)]


def current_cart_id(request: Request) -> str | None:
    """The cart the person is filling (the cookie's; checked by whoever uses it)."""
    value = request.cookies.get(CART_COOKIE, "")
    return value if 0 < len(value) <= 64 else None


def keep_current_cart(response: Response, request: Request, cart_id: str) -> None:
    response.set_cookie(
        CART_COOKIE,
        cart_id,
        max_age=30 * 24 * 3600,
        path=portal_of(request).prefix,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def refusal_params(exc: ApiError) -> dict[str, str]:
    """A service's refusal as the placeholders of ``cart.refus`` (its code and French text)."""
    return {"code": exc.code, "detail": exc.message[:200]}


def fragment_html(
    request: Request, name: str, context: Mapping[str, Any], block: str | None = None
) -> str:
    """The template ``name`` (or its ``block``) as text, with the page's context: for an
    event's data, where no response is rendered."""
    portal = portal_of(request)
    return portal.templates.render(name, page_context(request, context), block)


def sse_event(name: str, html: str, event_id: int | str | None = None) -> bytes:
    """One Server-Sent Event whose data is ``html`` (one ``data:`` line per line)."""
    lines = [f"event: {name}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.extend(f"data: {line}" for line in (html.splitlines() or [""]))
    return ("\n".join(lines) + "\n\n").encode()


def stream_response(stream: AsyncIterator[bytes] | None, busy: str) -> Response:
    """A page's Server-Sent Events, or the page that refuses them (429, ``Retry-After``,
    the message ``busy``) when the organisation has no stream slot left."""
    if stream is None:
        raise PageError(429, busy, headers={"Retry-After": str(sse.RETRY_AFTER_SECONDS)})
    return StreamingResponse(stream, media_type=sse.MEDIA_TYPE, headers=sse.HEADERS)
