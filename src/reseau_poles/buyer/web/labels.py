"""Words and badges the follow-up pages show for the protocol's codes (no I/O): an order's
phase and fulfilment state (catalogue keys), certifications as badges, regions by name.

Certification and region names are the official French names (brands and place names, the
same in English); the rest goes through the catalogue (``orders.phase.*``,
``orders.etape.*``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reseau_poles.protocol.profile import Certification, Region

from ..services.order_timeline import step_code

# Badge class (portal.css) per certification; the others show as plain badges.
_BADGE_KIND = {
    Certification.ALIMENTS_DU_QUEBEC: "aq",
    Certification.ALIMENTS_DU_QUEBEC_BIO: "aq",
    Certification.ALIMENTS_PREPARES_AU_QUEBEC: "apq",
    Certification.ALIMENTS_PREPARES_AU_QUEBEC_BIO: "apq",
    Certification.BIOLOGIQUE_CANADA: "bio",
    Certification.BIOLOGIQUE_QUEBEC: "bio",
}


def certification_badges(codes: Iterable[Any] | None) -> list[tuple[str, str]]:
    """``[(label, kind)]`` for a line's certification codes, unknown codes left out."""
    badges = []
    for code in codes or ():
        try:
            certification = Certification(str(code))
        except ValueError:
            continue
        badges.append((certification.label, _BADGE_KIND.get(certification, "")))
    return badges


def region_name(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return Region(code).label
    except ValueError:
        return None


def phase_key(state: str | None) -> str:
    """``orders.phase.<state>`` (new, selected … cancelled)."""
    return f"orders.phase.{state or 'new'}"


def fulfillment_key(state: str | None, fulfillment_type: str | None) -> str | None:
    """``orders.etape.<code>`` of a fulfilment state, in words for its type; ``None`` before
    the pôle said anything."""
    if not state:
        return None
    return f"orders.etape.{step_code(state, fulfillment_type)}"


def state_badge(order: dict[str, Any]) -> tuple[str, str]:
    """What a list shows of an order's state: the fulfilment's step once the order is
    confirmed (``Packed`` …), else its phase; ``(catalogue key, data-state)``."""
    fulfillment = order.get("fulfillment") or {}
    state = fulfillment.get("state")
    if order.get("state") in ("confirmed", "completed", "cancelled") and state not in (
        None,
        "Pending",
    ):
        key = fulfillment_key(state, fulfillment.get("type"))
        assert key is not None
        return key, str(state)
    return phase_key(order.get("state")), str(order.get("state") or "new")
