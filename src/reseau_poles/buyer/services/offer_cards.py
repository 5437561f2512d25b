"""What a person sees of an offer (one item of one pôle) in search results: an offer *card*,
read from the pôle's catalogue as the search brought it (no I/O).

A card holds the product, the pôle, the region of origin and the producer, the
certifications, the conservation, the pack (« 540 ml ») with its price and the price per unit
(« 23,15 $ / l », :mod:`.results`), whether the item is taxable, what is available and the
minimum, and the pôle's fulfilment options for it (name, kind, fee, minimum order and the
next delivery it can make, :func:`reseau_poles.protocol.profile.next_slot`). What the
catalogue does not say is ``None`` (the page shows « — »).

    cards, total = offer_cards(document["providers"], query, text=..., now=utcnow(), limit=200)

:class:`Arrivals` keeps the same list as the answers of a search arrive one by one: where
each new card goes among those shown, and which fall beyond the limit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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

from .results import NO_QUERY, Offer, ResultQuery, accepts, apply, ordering, read_offer, sort_key

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


@dataclass
class _Shown:
    """A card in an :class:`Arrivals` list: its sort key (``None``: none, last), its place in
    the merged results (the pôle's first arrival, then the item's within the pôle: the order
    of equal keys), and the card, made once it is shown."""

    sort_key: Any
    place: tuple[int, int]
    key: str
    offer: Offer | None
    card: dict[str, Any] | None = None


@dataclass
class Placement:
    """What one answer changed in a list of cards: ``runs``, the new cards in runs, each
    after the card whose key it names (``None``: at the top), in the list's order; and
    ``removed``, the keys of cards no longer shown (pushed beyond the limit, or replaced by a
    later answer of the same item: then it is in ``runs`` again)."""

    runs: list[tuple[str | None, list[dict[str, Any]]]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class Arrivals:
    """The cards of one search's answers as they arrive, always as :func:`offer_cards` would
    show every answer so far (the results merged by pôle and item, :func:`.intent.merge`;
    the query's order; at most ``limit``), without making again the cards already shown:
    :meth:`add` says where each new card goes (a page inserts them where they belong instead
    of redrawing the list at the end)."""

    def __init__(
        self, query: ResultQuery = NO_QUERY, text: str | None = None, limit: int = MAX_CARDS
    ) -> None:
        self.query = query
        self.limit = limit
        self.relevance, self.sort, self.descending = ordering(query, text)
        # Every offer kept so far in order (a card shown may be replaced by a later answer,
        # and one beyond the limit come back up), and those shown: the first ``limit``.
        self.entries: list[_Shown] = []
        self.shown: list[_Shown] = []
        self._poles: dict[tuple[Any, Any], int] = {}
        self._items: dict[tuple[Any, Any], dict[Any, int]] = {}
        self._kept: set[str] = set()  # card keys of every offer kept so far

    @property
    def total(self) -> int:
        """The offers kept so far, shown or not."""
        return len(self.entries)

    @property
    def keys(self) -> list[str]:
        return [entry.key for entry in self.shown]

    def add(self, providers: Sequence[Mapping[str, Any]], now: datetime) -> Placement:
        """Take in what one answer brought (its providers, merged); where its cards go."""
        arrived: list[_Shown] = []
        replaced: set[str] = set()
        for provider in providers:
            pole = (provider.get("bpp_id"), provider.get("id"))
            rank = self._poles.setdefault(pole, len(self._poles))
            places = self._items.setdefault(pole, {})
            for item in provider.get("items") or []:
                item_id = item.get("id") if isinstance(item, Mapping) else None
                place = (rank, places.setdefault(item_id or f"#{len(places)}", len(places)))
                key = card_key(pole[0], pole[1], item_id)
                if key in self._kept:  # a later answer replaces the item, kept or not
                    replaced.add(key)
                    self._kept.discard(key)
                offer = read_offer(provider, item)
                if not accepts(self.query, offer):
                    continue
                if self.relevance is not None:
                    offer.relevance = self.relevance.score(offer)
                self._kept.add(key)
                arrived.append(_Shown(sort_key(self.sort, offer), place, key, offer))
        entries = [e for e in self.entries if e.key not in replaced] + arrived
        entries.sort(key=lambda e: e.place)
        present = [e for e in entries if e.sort_key is not None]
        missing = [e for e in entries if e.sort_key is None]
        if self.sort is not None:
            present.sort(key=lambda e: e.sort_key, reverse=self.descending)
        self.entries = present + missing
        return self._show(now)

    def hide_after(self, count: int) -> None:
        """Only the first ``count`` cards are shown (a page that drew only those): the others
        within the limit come with the next :meth:`reveal` or :meth:`add`."""
        self.shown = self.shown[: max(count, 0)]

    def reveal(self, now: datetime) -> Placement:
        """The cards within the limit not yet shown (after :meth:`hide_after`), placed."""
        return self._show(now)

    def _show(self, now: datetime) -> Placement:
        placement = Placement()
        ordered = self.entries[: self.limit]
        still = {id(entry) for entry in ordered}
        was_shown = {id(entry) for entry in self.shown}
        # No longer shown: pushed beyond the limit, or replaced (its entry is gone).
        placement.removed = [e.key for e in self.shown if id(e) not in still]
        known: dict[int, dict[str, Any]] = {}
        before: str | None = None  # the key of the card above
        extending = False  # the card above is new too: same run
        for entry in ordered:
            if id(entry) not in was_shown:  # new, or back above the limit
                if entry.card is None:
                    assert entry.offer is not None
                    entry.card = offer_card(entry.offer, now, known)
                    entry.offer = None  # the card says all; the answer's body is not kept
                if extending:
                    placement.runs[-1][1].append(entry.card)
                else:
                    placement.runs.append((before, [entry.card]))
                extending = True
            else:
                extending = False
            before = entry.key
        self.shown = ordered
        return placement
