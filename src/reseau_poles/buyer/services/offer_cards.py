"""What a person sees of an offer (one item of one pôle) in search results: an offer *card*,
read from the pôle's catalogue as the search brought it (no I/O).

A card holds the product, the pôle, the region of origin and the producer, the
certifications, the conservation, the pack (« 540 ml ») with its price and the price per unit
(« 23,15 $ / l », :mod:`.results`), whether the item is taxable, what is available and the
minimum, and the pôle's fulfilment options for it (name, kind, fee, minimum order and the
next delivery it can make, :func:`reseau_poles.protocol.profile.next_slot`). What the
catalogue does not say is ``None`` (the page shows « — »).

    cards, total = offer_cards(document["providers"], query, text=..., now=utcnow(), limit=200)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.profile import (
    Certification,
    delivery_rules_from_tags,
    next_slot,
    parse_measure,
    region_label,
)
from reseau_poles.protocol.profile.tags import collect

from .results import NO_QUERY, Offer, ResultQuery, apply

CENT: Final = Decimal("0.01")
MAX_CARDS: Final = 200
"""Cards a page shows at most; the rest is said (never silently cut)."""

# The order badges are shown in: the Québec origin brands first, then organic labels.
_CERTIFICATION_ORDER: Final = {c.value: index for index, c in enumerate(Certification)}


def card_key(bpp_id: Any, provider_id: Any, item_id: Any) -> str:
    """A short stable id for an offer (an HTML id: ``offre-…``)."""
    raw = f"{bpp_id}\x1f{provider_id}\x1f{item_id}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def _count(item: Mapping[str, Any], *keys: str) -> int | None:
    value: Any = item.get("quantity")
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _decimal(value: Any) -> Decimal | None:
    try:
        found = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return found if found.is_finite() else None


def fulfilment_option(option: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """One of the pôle's fulfilment options as its catalogue declares it (``modalites``)."""
    found: dict[str, Any] = {
        "id": _text(option.get("id")),
        "type": _text(option.get("type")),
        "name": None,
        "fee": None,
        "minimum_order": None,
        "next_delivery": None,
    }
    tags = option.get("tags")
    try:
        group = collect(tags, ["modalites"], path="tags").get("modalites")
        if group is not None:
            name = group.single("nom")
            fee = group.single("frais")
            found["name"] = _text(name.value) if name is not None else None
            found["fee"] = _decimal(fee.value) if fee is not None else None
        rules = delivery_rules_from_tags(tags)
    except ProtocolError:
        return found  # a declaration this node cannot read: nothing more is said
    found["minimum_order"] = rules.minimum_order
    found["next_delivery"] = next_slot(rules, now)
    return found


def _options(
    provider: Mapping[str, Any],
    item: Mapping[str, Any],
    now: datetime,
    known: dict[int, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The item's fulfilment options; ``known``: those already read in this call, by option
    (a pôle's options are the same for each of its items: read once, not once per card)."""
    options = provider.get("fulfillments")
    if not isinstance(options, list):
        return []
    offered = item.get("fulfillment_ids")
    wanted = set(offered) if isinstance(offered, list) else None
    found = []
    for option in options:
        if not isinstance(option, Mapping) or (
            wanted is not None and option.get("id") not in wanted
        ):
            continue
        if known is None:
            found.append(fulfilment_option(option, now))
            continue
        read = known.get(id(option))
        if read is None:
            read = known[id(option)] = fulfilment_option(option, now)
        found.append(read)
    return found


def offer_card(
    offer: Offer, now: datetime, known: dict[int, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The card of one offer (:func:`.results.read_offer`); ``known``: the fulfilment options
    already read for other cards of the same catalogues (shared between cards, never
    changed)."""
    item, provider = offer.item, offer.provider
    descriptor = item.get("descriptor") if isinstance(item.get("descriptor"), Mapping) else {}
    pack = None
    quantity = item.get("quantity") if isinstance(item.get("quantity"), Mapping) else {}
    unitized = quantity.get("unitized") if isinstance(quantity, Mapping) else None
    if isinstance(unitized, Mapping) and unitized.get("measure") is not None:
        try:
            value, unit = parse_measure(unitized["measure"])
            pack = {"value": value, "unit": unit.value}
        except (ProtocolError, ValueError, ArithmeticError):
            pack = None
    origin = offer.tags.origin
    region = str(origin.region) if origin is not None and origin.region else None
    options = _options(provider, item, now, known)
    dates = [o["next_delivery"] for o in options if o["next_delivery"] is not None]
    provider_descriptor = provider.get("descriptor")
    return {
        "key": card_key(provider.get("bpp_id"), provider.get("id"), item.get("id")),
        "bpp_id": provider.get("bpp_id"),
        "provider_id": provider.get("id"),
        "provider_name": _text(provider_descriptor.get("name"))
        if isinstance(provider_descriptor, Mapping)
        else None,
        "item_id": item.get("id"),
        "name": offer.name,
        "short_desc": _text(descriptor.get("short_desc")) if descriptor else None,
        "origin_region": region,
        "origin_label": region_label(origin.region)
        if origin is not None and origin.region
        else None,
        "producer": origin.producer if origin is not None else None,
        "certifications": sorted(
            (c.value for c in offer.tags.certifications),
            key=lambda code: _CERTIFICATION_ORDER.get(code, len(_CERTIFICATION_ORDER)),
        ),
        "conservation": offer.tags.conservation.value if offer.tags.conservation else None,
        "pack": pack,
        "price": offer.price,
        "unit_price": (
            offer.unit_price.quantize(CENT, rounding=ROUND_HALF_UP)
            if offer.unit_price is not None
            else None
        ),
        "per": offer.per.value if offer.per is not None else None,
        "taxable": offer.tags.taxable,
        "available": _count(item, "available", "count"),
        "minimum": _count(item, "minimum", "count"),
        "maximum": _count(item, "maximum", "count"),
        "delivery": options,
        "next_delivery": min(dates) if dates else None,
        "relevance": offer.relevance,
    }


def offer_cards(
    providers: Sequence[Mapping[str, Any]],
    query: ResultQuery = NO_QUERY,
    *,
    text: str | None = None,
    now: datetime,
    limit: int = MAX_CARDS,
) -> tuple[list[dict[str, Any]], int]:
    """The cards of the offers ``query`` keeps, in its order (relevance for ``text`` when it
    does not sort), at most ``limit``; and how many offers it kept in all."""
    _, offers = apply(providers, query, text)
    known: dict[int, dict[str, Any]] = {}  # ``providers`` live through the call: ids hold
    return [offer_card(offer, now, known) for offer in offers[:limit]], len(offers)
