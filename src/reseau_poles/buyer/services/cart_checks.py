"""What the buyer node checks before a pôle sees a cart line or a delivery window, against the
pôle's catalogue as the organisation last saw it (its searches' results).

* a line: the item is in that pôle's catalogue, shown available, its quantity within the
  item's minimum and maximum, its fulfilment option one the pôle offers;
* a delivery window: not in the past, not inverted, not longer than the pôle accepts, and on
  the pôle's delivery days and hours after its lead time where it declares them (the rule is
  the protocol's, :func:`reseau_poles.protocol.profile.check_window`, the seller node's too).

Each refusal is a 400 naming the field at fault. The seller node checks again at select,
init and confirm: the catalogue may have changed since the search, and it is the authority.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from reseau_poles.participant import ApiError
from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.profile import DeliveryRules, check_window, delivery_rules_from_tags
from reseau_poles.storage import utcnow

from ..repositories import catalog

WINDOW_REFUSED = "plage_livraison_invalide"


def _count(item: Mapping[str, Any], *keys: str) -> int | None:
    value: Any = item.get("quantity")
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def catalog_option(
    provider: Mapping[str, Any] | None, fulfilment_id: str | None, kind: str | None
) -> Mapping[str, Any] | None:
    """The pôle's fulfilment option by its id, else its first option of that type."""
    options = provider.get("fulfillments") if provider else None
    options = [o for o in options if isinstance(o, Mapping)] if isinstance(options, list) else []
    if fulfilment_id:
        return next((o for o in options if o.get("id") == fulfilment_id), None)
    if kind:
        return next((o for o in options if o.get("type") == kind), None)
    return None


def declared_rules(
    provider: Mapping[str, Any] | None, fulfilment_id: str | None, kind: str | None
) -> DeliveryRules:
    """When the pôle's option delivers, as its catalogue declares it (nothing declared, or a
    declaration this node cannot read: the general rules only; the seller node decides)."""
    option = catalog_option(provider, fulfilment_id, kind)
    if option is None:
        return DeliveryRules()
    try:
        return delivery_rules_from_tags(option.get("tags") or [])
    except ProtocolError:
        return DeliveryRules()


def check_delivery_window(
    start: datetime | str | None,
    end: datetime | str | None,
    rules: DeliveryRules | None = None,
    *,
    path: str = "delivery_window",
    pole: str | None = None,
) -> None:
    """A 400 ``plage_livraison_invalide`` at ``{path}.start`` or ``{path}.end`` for a window
    the rule refuses (nothing when no window is set)."""
    if start is None and end is None:
        return
    try:
        check_window(
            start,
            end,
            now=utcnow(),
            rules=rules,
            start_path=f"{path}.start",
            end_path=f"{path}.end",
        )
    except ProtocolError as exc:
        where = f" (pôle {pole})" if pole else ""
        raise ApiError(400, WINDOW_REFUSED, exc.message + where, exc.path) from None


def check_order_window(session: Session, organisation_id: str, order: Any) -> None:
    """An order's window against the rules of the pôle's chosen option (``OrderIn``)."""
    window = order.delivery_window
    if window is None:
        return
    provider = catalog.catalog_provider(
        session, organisation_id, order.provider.bpp_id, order.provider.id
    )
    fulfilment = order.fulfilment
    rules = declared_rules(
        provider, fulfilment.id if fulfilment else None, fulfilment.type if fulfilment else None
    )
    check_delivery_window(window.start, window.end, rules)


def check_line(
    session: Session,
    organisation_id: str,
    line: Mapping[str, Any],
    *,
    path: str = "",
) -> None:
    """One cart line against the pôle's catalogue as last seen; ``path``: the line's prefix
    (``lines.2.``, or ``""`` for a line posted alone)."""
    bpp_id, provider_id, item_id = line["bpp_id"], line["provider_id"], line["item_id"]
    known = catalog.catalog_items(session, organisation_id, bpp_id, provider_id, [item_id])
    item = known.get(item_id)
    if item is None:
        raise ApiError(
            400,
            "article_inconnu",
            f"Article « {item_id[:80]} » absent du catalogue du pôle « {provider_id[:80]} » "
            f"({bpp_id[:80]}) tel que vos recherches l'ont vu ; cherchez-le d'abord.",
            f"{path}item_id",
        )
    name = (item.get("descriptor") or {}).get("name") or item_id
    available = _count(item, "available", "count")
    if available is not None and available <= 0:
        raise ApiError(
            400, "article_epuise", f"« {name} » : épuisé à la dernière recherche.", f"{path}item_id"
        )
    quantity = int(line["quantity"])
    least = _count(item, "minimum", "count")
    most = _count(item, "maximum", "count")
    if least is not None and quantity < least:
        raise ApiError(
            400,
            "quantite_hors_limites",
            f"« {name} » : commande minimale {least} (demandé : {quantity}).",
            f"{path}quantity",
        )
    if most is not None and quantity > most:
        raise ApiError(
            400,
            "quantite_hors_limites",
            f"« {name} » : commande maximale {most} (demandé : {quantity}).",
            f"{path}quantity",
        )
    chosen = line.get("fulfilment_id")
    if chosen:
        provider = catalog.catalog_provider(session, organisation_id, bpp_id, provider_id)
        offered = item.get("fulfillment_ids")
        if catalog_option(provider, chosen, None) is None or (
            isinstance(offered, list) and offered and chosen not in offered
        ):
            raise ApiError(
                400,
                "mode_execution_inconnu",
                f"Mode d'exécution « {chosen[:80]} » non offert par ce pôle pour « {name} ».",
                f"{path}fulfilment_id",
            )
