"""What the pôle's pages share: who may do what, the node's services, a fragment answer
(a table row swapped by htmx), and the catalogue's words for the profile's codes.

Roles (:mod:`reseau_poles.portal.roles`): ``gestion`` does everything; ``preparation``
prepares the orders (orders, fulfilment buttons, pick lists; the products read only);
``admin`` manages the pôle's accounts and its integrations.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ParamSpec, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from reseau_poles.portal.accounts import User
from reseau_poles.portal.auth import require_role
from reseau_poles.portal.site import portal_of
from reseau_poles.portal.templating import PAGE_HEADERS, page_context
from reseau_poles.protocol.profile import (
    Certification,
    Conservation,
    FulfillmentState,
    FulfillmentType,
    Unit,
)

MANAGE = "gestion"
PREPARE = "preparation"
ADMIN = "admin"

Manager = Annotated[User, Depends(require_role(MANAGE))]
"""Keeps the catalogue: products, CSV import."""
Preparer = Annotated[User, Depends(require_role(MANAGE, PREPARE))]
"""Moves orders along their fulfilment."""
Integrator = Annotated[User, Depends(require_role(MANAGE, ADMIN))]
"""The pôle's webhooks and API keys."""

P = ParamSpec("P")
R = TypeVar("R")


async def call(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """A blocking service call on a worker thread (the event loop never waits for the
    database)."""
    return await asyncio.to_thread(function, *args, **kwargs)


def part(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A template rendered alone (no page around it: a table row htmx swaps in), with what
    every template has (``t``, ``csrf_field`` …) and the headers of every page
    (``Vary: HX-Request``, ``no-store``, never framed)."""
    body = portal_of(request).templates.render(name, page_context(request, context))
    headers = {"Vary": "HX-Request", "Cache-Control": "no-store", **PAGE_HEADERS}
    return HTMLResponse(body, status_code=status, headers=headers)


# --- the profile's codes in the catalogue's words -----------------------------------------------


def state_key(state: str, kind: str | None = None) -> str:
    """A fulfilment state's words for a fulfilment type (``Order-picked-up`` is taken by the
    carrier in a delivery, collected by the customer at a pickup): ``Packed`` →
    ``gestion.prep.etat.packed``."""
    if state == FulfillmentState.ORDER_PICKED_UP.value:
        suffix = "ramassee_livreur" if kind == FulfillmentType.LIVRAISON.value else "recuperee"
        return f"gestion.prep.etat.{suffix}"
    if (
        state == FulfillmentState.READY_FOR_PICKUP.value
        and kind == FulfillmentType.POINT_DE_CHUTE.value
    ):
        return "gestion.prep.etat.arrivee_point_de_chute"
    known = {s.value for s in FulfillmentState}
    code = state.lower().replace("-", "_") if state in known else "inconnu"
    return f"gestion.prep.etat.{code}"


UNIT_KEYS = {unit.value: f"gestion.products.unite.{unit.value}" for unit in Unit}
CONSERVATION_KEYS = {c.value: f"gestion.products.conservation.{c.value}" for c in Conservation}
CERTIFICATION_KEYS = {c.value: f"gestion.products.certification.{c.value}" for c in Certification}
TYPE_KEYS = {kind.value: f"gestion.prep.type.{kind.value}" for kind in FulfillmentType}
