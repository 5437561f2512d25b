"""Filtering and sorting the merged results of a search (no I/O).

The query string of ``GET /api/searches/{id}`` (and of its ``/events`` stream):

=====================  ============================================================  ======
parameter              meaning                                                       repeat
=====================  ============================================================  ======
``certification``      the item holds this certification (all of those given)        yes
``conservation``       storage class ``ambiant`` | ``refrigere`` | ``congele`` (any)  yes
``origin``             region of origin of the item ``QC-01`` … ``QC-17`` (any)       yes
``provider``           a pôle (provider id) or a seller node (bpp id) (any)          yes
``unit``               compare in this unit: ``kg``, ``l``, ``unite`` (``g`` → kg…);  no
                       keeps the items sold by mass, volume or count accordingly
``min_unit_price``     price per ``unit`` at least (CAD, needs ``unit``)             no
``max_unit_price``     price per ``unit`` at most (CAD, needs ``unit``)              no
``sort``               ``relevance``, ``unit_price`` (needs ``unit``), ``price``,      no
                       ``name``, ``region``; ``-`` in front for descending
                       (``-price``)
=====================  ============================================================  ======

Without ``sort``, a search with text lists the offers by **relevance** (:class:`Relevance`):
the words of the query in the item's name first (a whole word over the start of one, the
name's first word over the others, a word inside a compound noun such as « pommes de terre »
well after), then in its category, then in its descriptions, English name or producer;
equal scores keep the order the sellers sent. ``sort=unit_price`` compares prices per unit
within one unit only, so it needs ``unit`` (a 400 says so): kilograms, litres and units are
never mixed in one ranking, nor silently grouped.

Repeated parameters may also be comma-separated (``origin=QC-03,QC-12``). An item without
the information a filter asks about (no certification tags, no measure) does not pass it; a
sort puts the items without a key last, whatever the direction. The region of origin is the
item's own (tag group ``origine``), never guessed from the pôle's address.

The price per unit is Beckn's ``price.value`` for one ``quantity.unitized.measure``, brought
to the base unit by :func:`reseau_poles.protocol.profile.units.price_per` (« 12,50 $ les
540 ml » → 23,15 $ le litre).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any, Final, Literal

from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.profile import (
    WHOLE_PROVINCE,
    Certification,
    Conservation,
    ItemTags,
    Unit,
    format_amount,
    normalize_text,
    parse_item_tags,
    parse_measure,
    parse_region_name,
    price_per,
    search_key,
    tokenize,
)
from reseau_poles.protocol.profile.text import COMPOUND_NOUNS, compound_positions

SORT_KEYS: Final = ("relevance", "unit_price", "price", "name", "region")
REPEATABLE: Final = frozenset({"certification", "conservation", "origin", "provider"})
SINGLE: Final = frozenset({"unit", "min_unit_price", "max_unit_price", "sort"})
MAX_VALUES: Final = 20
MAX_PRICE: Final = Decimal(1_000_000)


SortKey = Literal[
    "relevance",
    "-relevance",
    "unit_price",
    "-unit_price",
    "price",
    "-price",
    "name",
    "-name",
    "region",
    "-region",
]


class QueryError(ValueError):
    """A bad query parameter: ``message`` (French) and the parameter at fault (``path``)."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass(frozen=True, slots=True)
class ResultQuery:
    certifications: frozenset[str] = frozenset()
    conservation: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()
    providers: frozenset[str] = frozenset()
    unit: Unit | None = None
    min_unit_price: Decimal | None = None
    max_unit_price: Decimal | None = None
    sort: str | None = None
    descending: bool = False

    @property
    def filters(self) -> bool:
        return bool(
            self.certifications
            or self.conservation
            or self.origins
            or self.providers
            or self.unit is not None
        )

    def describe(self) -> dict[str, Any]:
        """The query as applied, for the response (codes in a stable order)."""
        found: dict[str, Any] = {}
        for name, values in (
            ("certification", self.certifications),
            ("conservation", self.conservation),
            ("origin", self.origins),
            ("provider", self.providers),
        ):
            if values:
                found[name] = sorted(values)
        if self.unit is not None:
            found["unit"] = self.unit.value
        if self.min_unit_price is not None:
            found["min_unit_price"] = format(self.min_unit_price, "f")
        if self.max_unit_price is not None:
            found["max_unit_price"] = format(self.max_unit_price, "f")
        if self.sort:
            found["sort"] = ("-" if self.descending else "") + self.sort
        return found


NO_QUERY: Final = ResultQuery()


# --- the query string ------------------------------------------------------------------------


def parse_result_query(
    pairs: Iterable[tuple[str, str]], *, ignore: Iterable[str] = ()
) -> ResultQuery:
    """A :class:`ResultQuery` from the query string's ``(name, value)`` pairs; names in
    ``ignore`` belong to someone else (``wait_ms``). Raises :class:`QueryError`."""
    ignored = frozenset(ignore)
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        if name in ignored:
            continue
        if name not in REPEATABLE and name not in SINGLE:
            raise QueryError(f"Paramètre inconnu « {name[:64]} ».", name[:64])
        if name in SINGLE and name in values:
            raise QueryError(f"« {name} » : une seule valeur attendue.", name)
        parts = [part.strip() for part in value.split(",")] if name in REPEATABLE else [value]
        found = values.setdefault(name, [])
        found.extend(part for part in parts if part)
        if len(found) > MAX_VALUES:
            raise QueryError(f"« {name} » : {MAX_VALUES} valeurs au plus.", name)

    def codes(name: str, read: Any) -> frozenset[str]:
        result = set()
        for index, value in enumerate(values.get(name, [])):
            try:
                result.add(read(value))
            except ProtocolError as exc:
                raise QueryError(exc.message, f"{name}[{index}]") from None
        return frozenset(result)

    origins = codes("origin", lambda v: str(parse_region_name(v)))
    unit = None
    if values.get("unit"):
        try:
            unit = Unit.parse(values["unit"][0]).base
        except ProtocolError as exc:
            raise QueryError(exc.message, "unit") from None
    bounds = {name: _price(values, name) for name in ("min_unit_price", "max_unit_price")}
    if unit is None:
        for name, bound in bounds.items():
            if bound is not None:
                raise QueryError(
                    f"« {name} » demande l'unité de comparaison « unit » (kg, l ou unite).", "unit"
                )
    low, high = bounds["min_unit_price"], bounds["max_unit_price"]
    if low is not None and high is not None and low > high:
        raise QueryError("min_unit_price dépasse max_unit_price.", "min_unit_price")
    sort, descending = None, False
    if values.get("sort"):
        wanted = values["sort"][0].strip()
        descending = wanted.startswith("-")
        sort = wanted.lstrip("-+")
        if sort not in SORT_KEYS:
            raise QueryError(
                f"Tri inconnu « {wanted[:32]} » : attendu {', '.join(SORT_KEYS)} "
                "(« - » devant pour l'ordre décroissant).",
                "sort",
            )
        if sort == "unit_price" and unit is None:
            raise QueryError(
                "Le tri par prix unitaire compare des prix dans une même unité : indiquez "
                "« unit » (kg, l ou unite) ; seuls les articles vendus dans cette unité sont "
                "alors classés.",
                "unit",
            )
    providers = frozenset(v[:255] for v in values.get("provider", []))
    return ResultQuery(
        certifications=codes("certification", lambda v: Certification.parse(v).value),
        conservation=codes("conservation", lambda v: Conservation.parse(v).value),
        origins=frozenset(o for o in origins if o != WHOLE_PROVINCE),
        providers=providers,
        unit=unit,
        min_unit_price=low,
        max_unit_price=high,
        sort=sort,
        descending=descending,
    )


def _price(values: Mapping[str, list[str]], name: str) -> Decimal | None:
    if not values.get(name):
        return None
    text = values[name][0].strip().replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or not 0 <= amount <= MAX_PRICE:
        raise QueryError(
            f"« {name} » : montant attendu entre 0 et {MAX_PRICE:,} (ex. 12.50).", name
        ) from None
    return amount


# --- one offer -------------------------------------------------------------------------------


@dataclass(slots=True)
class Offer:
    """What filters and sorts read of one item of one provider."""

    provider: Mapping[str, Any]
    item: Mapping[str, Any]
    price: Decimal | None = None
    unit_price: Decimal | None = None
    per: Unit | None = None
    tags: ItemTags = field(default_factory=ItemTags)
    relevance: int | None = None

    @property
    def name(self) -> str | None:
        descriptor = self.item.get("descriptor")
        name = descriptor.get("name") if isinstance(descriptor, Mapping) else None
        return name if isinstance(name, str) else None

    @property
    def origin(self) -> str | None:
        origin = self.tags.origin
        return str(origin.region) if origin is not None and origin.region else None

    def summary(self) -> dict[str, Any]:
        """One line of the flat, sorted ``offers`` list of a response."""
        price = self.item.get("price") if isinstance(self.item.get("price"), Mapping) else {}
        return {
            "bpp_id": self.provider.get("bpp_id"),
            "provider_id": self.provider.get("id"),
            "provider_name": _name(self.provider),
            "item_id": self.item.get("id"),
            "name": self.name,
            "price": dict(price) if price else None,
            "unit_price": (
                {"value": format_amount(self.unit_price), "per": self.per.value}
                if self.unit_price is not None and self.per is not None
                else None
            ),
            "origin_region": self.origin,
            "certifications": sorted(c.value for c in self.tags.certifications),
            "conservation": self.tags.conservation.value if self.tags.conservation else None,
            "relevance": self.relevance,
        }


def _name(entity: Mapping[str, Any]) -> str | None:
    descriptor = entity.get("descriptor")
    name = descriptor.get("name") if isinstance(descriptor, Mapping) else None
    return name if isinstance(name, str) else None


def read_offer(provider: Mapping[str, Any], item: Any) -> Offer:
    """What the filters need from an item; a field the seller wrote badly reads as absent
    (the catalog was accepted; one odd item must not hide the others)."""
    if not isinstance(item, Mapping):
        return Offer(provider, {})
    offer = Offer(provider, item)
    price = item.get("price")
    if isinstance(price, Mapping):
        try:
            offer.price = Decimal(str(price.get("value")))
        except InvalidOperation:
            offer.price = None
        if offer.price is not None and not offer.price.is_finite():
            offer.price = None
    quantity = item.get("quantity")
    unitized = quantity.get("unitized") if isinstance(quantity, Mapping) else None
    measure = unitized.get("measure") if isinstance(unitized, Mapping) else None
    if offer.price is not None and measure is not None:
        try:
            value, unit = parse_measure(measure)
            offer.unit_price = price_per(offer.price, value, unit)
            offer.per = unit.base
        except (ProtocolError, ValueError, ArithmeticError):
            offer.unit_price = offer.per = None
    if item.get("tags"):
        try:
            offer.tags = parse_item_tags(item["tags"])
        except ProtocolError:
            offer.tags = ItemTags()
    return offer


def accepts(query: ResultQuery, offer: Offer) -> bool:
    if query.providers and not (
        offer.provider.get("id") in query.providers
        or offer.provider.get("bpp_id") in query.providers
    ):
        return False
    if query.certifications and not query.certifications <= {
        c.value for c in offer.tags.certifications
    }:
        return False
    if query.conservation and (
        offer.tags.conservation is None or offer.tags.conservation.value not in query.conservation
    ):
        return False
    if query.origins and offer.origin not in query.origins:
        return False
    if query.unit is not None:
        if offer.per is not query.unit or offer.unit_price is None:
            return False
        if query.min_unit_price is not None and offer.unit_price < query.min_unit_price:
            return False
        if query.max_unit_price is not None and offer.unit_price > query.max_unit_price:
            return False
    return True


def _sort_key(sort: str, offer: Offer) -> Any:
    if sort == "relevance":
        return offer.relevance
    if sort == "unit_price":
        # Comparable within one unit only: the query keeps the items of one unit.
        return offer.unit_price
    if sort == "price":
        return offer.price
    if sort == "name":
        return None if offer.name is None else normalize_text(offer.name)
    if sort == "region":
        return None if offer.origin is None else (offer.origin, normalize_text(offer.name or ""))
    raise ValueError(sort)


def sort_offers(offers: Sequence[Offer], sort: str | None, descending: bool) -> list[Offer]:
    """Stable sort; offers without a key last in both directions."""
    if sort is None:
        return list(offers)
    keyed = [(_sort_key(sort, offer), offer) for offer in offers]
    present = [pair for pair in keyed if pair[0] is not None]
    missing = [offer for key, offer in keyed if key is None]
    present.sort(key=lambda pair: pair[0], reverse=descending)
    return [offer for _, offer in present] + missing


# --- a whole result set ----------------------------------------------------------------------


def ordering(query: ResultQuery, text: str | None) -> tuple[Relevance | None, str | None, bool]:
    """How ``query`` orders offers for a search of ``text``: the relevance scorer (when there
    are words), the sort (``None``: the sellers' order) and whether it descends."""
    relevance = Relevance(text) if text else None
    sort, descending = query.sort, query.descending
    if sort is None and relevance is not None:
        sort, descending = "relevance", True
    elif sort == "relevance" and relevance is None:
        sort = None  # nothing to rank by: the sellers' order
    return relevance, sort, descending


def sort_key(sort: str | None, offer: Offer) -> Any:
    """The key ``sort`` orders ``offer`` by (``None``: it has none, and goes last)."""
    return None if sort is None else _sort_key(sort, offer)


def kept_offers(
    providers: Sequence[Mapping[str, Any]], query: ResultQuery, relevance: Relevance | None
) -> list[Offer]:
    """The offers ``query`` keeps, in the providers' order, scored when ``relevance``."""
    kept: list[Offer] = []
    for provider in providers:
        for item in provider.get("items") or []:
            offer = read_offer(provider, item)
            if accepts(query, offer):
                if relevance is not None:
                    offer.relevance = relevance.score(offer)
                kept.append(offer)
    return kept


def apply(
    providers: Sequence[Mapping[str, Any]], query: ResultQuery = NO_QUERY, text: str | None = None
) -> tuple[list[dict[str, Any]], list[Offer]]:
    """The merged providers with only the items the query keeps (in its order when it sorts;
    providers then in the order of their first item), and the kept offers in order. ``text``:
    the search's words, for :class:`Relevance` (the order when the query does not sort).

    Without a filter, every provider stays, even one without items."""
    relevance, sort, descending = ordering(query, text)
    ordered = sort_offers(kept_offers(providers, query, relevance), sort, descending)
    by_provider: dict[int, list[Any]] = {}
    for offer in ordered:
        by_provider.setdefault(id(offer.provider), []).append(offer.item)
    if sort is not None:
        order = list(dict.fromkeys(id(offer.provider) for offer in ordered))
        position = {key: index for index, key in enumerate(order)}
        arranged = sorted(
            providers, key=lambda p: position.get(id(p), len(position))
        )  # stable: providers without kept items keep their order, last
    else:
        arranged = list(providers)
    result = []
    for provider in arranged:
        items = by_provider.get(id(provider), [])
        if items or not query.filters:
            result.append({**provider, "items": items})
    return result, ordered


# --- relevance -------------------------------------------------------------------------------


class Relevance:
    """How well an offer answers the search's words (higher is better), per word of the query
    (stop words dropped, plurals folded, as the sellers match them):

    ===========================================================  =====
    the word is a word of the name, its first one                  9
    a word of the name                                             8
    the start of a word of the name                                4
    a word of the name inside a compound noun the query lacks      3
    (« pommes » in « Pommes de terre »)
    a word, or the start of one, of the descriptions, English      2, 1
    name or producer (when the name says nothing)
    a word of the item's category (added)                          2
    ===========================================================  =====
    """

    NAME_FIRST: Final = 9
    NAME: Final = 8
    NAME_PREFIX: Final = 4
    COMPOUND: Final = 3
    ELSEWHERE: Final = 2
    ELSEWHERE_PREFIX: Final = 1
    CATEGORY: Final = 2

    def __init__(self, text: str) -> None:
        keys = [search_key(word) for word in tokenize(text, drop_stopwords=True)]
        self.words = list(dict.fromkeys(keys))
        self.compounds = {pair for pair in pairwise(keys) if pair in COMPOUND_NOUNS}
        self._categories: dict[int, dict[str, list[str]]] = {}

    def _category_keys(self, offer: Offer) -> list[str]:
        provider = offer.provider
        names = self._categories.get(id(provider))
        if names is None:
            names = {}
            for category in provider.get("categories") or []:
                if isinstance(category, Mapping) and isinstance(category.get("id"), str):
                    label = _name(category) or ""
                    names[category["id"]] = [
                        search_key(w) for w in tokenize(f"{category['id']} {label}")
                    ]
            self._categories[id(provider)] = names
        found: list[str] = []
        for category_id in offer.item.get("category_ids") or []:
            found.extend(names.get(category_id, []) if isinstance(category_id, str) else [])
        return found

    def score(self, offer: Offer) -> int:
        if not self.words:
            return 0
        name = [search_key(w) for w in tokenize(offer.name or "", drop_stopwords=True)]
        inside = compound_positions(name)
        descriptor = offer.item.get("descriptor")
        texts = [
            descriptor.get(key) if isinstance(descriptor, Mapping) else None
            for key in ("short_desc", "long_desc")
        ]
        if offer.tags.english is not None:
            texts += [offer.tags.english.name, offer.tags.english.short_desc]
        if offer.tags.origin is not None:
            texts.append(offer.tags.origin.producer)
        other = {search_key(w) for text in texts if isinstance(text, str) for w in tokenize(text)}
        category = set(self._category_keys(offer))
        total = 0
        for word in self.words:
            best = 0
            for index, key in enumerate(name):
                if not key.startswith(word):
                    continue
                if index in inside and not self._compound_wanted(name, index):
                    best = max(best, self.COMPOUND)
                elif key == word:
                    best = max(best, self.NAME_FIRST if index == 0 else self.NAME)
                else:
                    best = max(best, self.NAME_PREFIX)
            if not best:
                if word in other:
                    best = self.ELSEWHERE
                elif any(key.startswith(word) for key in other):
                    best = self.ELSEWHERE_PREFIX
            total += best + (self.CATEGORY if word in category else 0)
        return total

    def _compound_wanted(self, name: list[str], index: int) -> bool:
        """Whether the query names the compound noun that word ``index`` of ``name`` is in."""
        pairs = {(name[index - 1], name[index])} if index else set()
        if index + 1 < len(name):
            pairs.add((name[index], name[index + 1]))
        return bool(pairs & self.compounds)
