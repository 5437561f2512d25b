"""Beckn documents built from the seller's rows: items, providers, fulfilments, payments.

Pure functions (rows in, JSON-ready dicts out) so that search, quotes and orders show a pôle
the same way everywhere. Tags come from the profile's builders. :class:`CatalogDocuments`
keeps the JSON text of what a search page shows, rendered once per content.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from reseau_poles.protocol.jsonfast import wire
from reseau_poles.protocol.profile import (
    CURRENCY,
    Certification,
    Conservation,
    DeliveryRules,
    EnglishText,
    FulfillmentTags,
    ItemTags,
    LegalForm,
    Origin,
    PaymentTerms,
    PaymentType,
    ProviderResults,
    ProviderTags,
    Region,
    format_amount,
    parse_days,
    parse_hours,
    parse_region,
    payment,
    region_label,
    tag,
    tag_group,
)

from ..repositories.columns import split_codes

Row = Mapping[str, Any]


def cad(amount: Decimal | str) -> dict[str, str]:
    return {"currency": CURRENCY, "value": format_amount(amount)}


def _number(value: Decimal) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text


def cold_classes(option: Row) -> frozenset[Conservation]:
    return frozenset(Conservation(code) for code in split_codes(option["cold_chain"]))


def keeps(option: Row, conservation: str) -> bool:
    """Whether the fulfilment option keeps goods of this class in their conditions."""
    return FulfillmentTags(cold_classes(option)).keeps(Conservation(conservation))


def item_tags(row: Row) -> ItemTags:
    months = split_codes(row["season_months"])
    english = (
        EnglishText(name=row["name_en"], short_desc=row["short_desc_en"])
        if row["name_en"] or row["short_desc_en"]
        else None
    )
    origin = (
        Origin(producer=row["producer"], region=row["origin_region"])
        if row["producer"] or row["origin_region"]
        else None
    )
    return ItemTags(
        certifications=frozenset(Certification(c) for c in split_codes(row["certifications"])),
        conservation=Conservation(row["conservation"]),
        origin=origin,
        taxable=bool(row["taxable"]),
        months=frozenset(int(m) for m in months) if months else None,
        english=english,
    )


def item_document(
    row: Row, *, fulfillment_ids: Sequence[str] = (), location_ids: Sequence[str] = ()
) -> dict[str, Any]:
    descriptor: dict[str, Any] = {"name": row["name"]}
    if row["short_desc"]:
        descriptor["short_desc"] = row["short_desc"]
    if row["long_desc"]:
        descriptor["long_desc"] = row["long_desc"]
    if row["image_url"]:
        descriptor["images"] = [{"url": row["image_url"]}]
    quantity: dict[str, Any] = {
        "unitized": {"measure": {"unit": row["unit"], "value": _number(row["pack_size"])}},
        "available": {"count": max(int(row["available"]), 0)},
        "minimum": {"count": int(row["minimum_quantity"])},
    }
    if row["maximum_quantity"]:
        quantity["maximum"] = {"count": int(row["maximum_quantity"])}
    document: dict[str, Any] = {
        "id": row["sku"],
        "descriptor": descriptor,
        "price": cad(row["price"]),
        "quantity": quantity,
        "category_ids": [row["category_id"]],
        "tags": item_tags(row).to_tags(),
    }
    if fulfillment_ids:
        document["fulfillment_ids"] = list(fulfillment_ids)
    if location_ids:
        document["location_ids"] = list(location_ids)
    return document


def location_document(row: Row) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": row["id"],
        "descriptor": {"name": row["name"]},
        "city": {"code": row["region"], "name": region_label(row["region"])},
        "state": {"code": "QC", "name": "Québec"},
        "country": {"code": "CAN"},
    }
    for key in ("gps", "address"):
        if row[key]:
            document[key] = row[key]
    if row["postal_code"]:
        document["area_code"] = row["postal_code"]
    return document


def delivery_rules(option: Row) -> DeliveryRules:
    """When the option delivers, as declared (what is NULL is not declared)."""
    return DeliveryRules(
        lead_time_hours=int(option["lead_time_hours"]),
        days=parse_days(option["delivery_days"]) if option.get("delivery_days") else None,
        hours=parse_hours(option["delivery_hours"]) if option.get("delivery_hours") else None,
        max_window_hours=option.get("max_window_hours"),
        minimum_order=option.get("minimum_order"),
    )


def fulfillment_document(option: Row, locations_by_id: Mapping[str, Row]) -> dict[str, Any]:
    document: dict[str, Any] = {"id": option["id"], "type": option["type"]}
    tags = FulfillmentTags(cold_classes(option)).to_tags()
    lead, *declared = delivery_rules(option).to_tags()
    tags.append(
        tag_group(
            "modalites",
            [
                tag("nom", option["name"], name="Nom"),
                tag("frais", format_amount(option["fee"]), name="Frais (CAD)"),
                lead,
                tag("regions", ",".join(split_codes(option["regions"])), name="Régions"),
                *declared,
            ],
            name="Modalités",
        )
    )
    document["tags"] = tags
    location = locations_by_id.get(option["location_id"] or "")
    if location is not None:
        document["stops"] = [{"type": "start", "location": location_document(location)}]
    return document


def payment_terms(provider: Row, wanted: str | None = None) -> PaymentTerms | None:
    """The provider's terms for ``wanted`` (its first accepted type when ``None``); ``None``
    when the provider does not accept that type."""
    accepted = split_codes(provider["payment_types"])
    chosen = wanted or (accepted[0] if accepted else None)
    if chosen is None or chosen not in accepted:
        return None
    kind = PaymentType(chosen)
    net = provider["net_days"] if kind is PaymentType.POST_FULFILLMENT else None
    return PaymentTerms(kind, net)


def payments_document(provider: Row) -> list[dict[str, Any]]:
    found = []
    for code in split_codes(provider["payment_types"]):
        terms = payment_terms(provider, code)
        if terms is not None:
            found.append({"id": f"paiement-{code.lower()}", **payment(terms)})
    return found


def provider_document(
    provider: Row,
    provider_locations: Iterable[Row],
    options: Iterable[Row],
    provider_items: Iterable[Row],
    results: ProviderResults | None = None,
) -> dict[str, Any]:
    provider_locations = list(provider_locations)
    options = list(options)
    provider_items = list(provider_items)
    locations_by_id = {row["id"]: row for row in provider_locations}
    location_ids = [row["id"] for row in provider_locations]
    categories = {row["category_id"]: row["category_name"] for row in provider_items}
    descriptor: dict[str, Any] = {"name": provider["name"]}
    if provider["short_desc"]:
        descriptor["short_desc"] = provider["short_desc"]
    tags = ProviderTags(
        legal_form=LegalForm(provider["legal_form"]),
        neq=provider["neq"],
        region=Region(provider["region"]),
        served=tuple(parse_region(code) for code in split_codes(provider["served_regions"]))
        or None,
    ).to_tags()
    if results is not None:
        tags.append(results.to_group())
    return {
        "id": provider["id"],
        "descriptor": descriptor,
        "locations": [location_document(row) for row in provider_locations],
        "categories": [
            {"id": cid, "descriptor": {"name": name}} for cid, name in sorted(categories.items())
        ],
        "fulfillments": [fulfillment_document(option, locations_by_id) for option in options],
        "payments": payments_document(provider),
        "items": [
            item_document(
                row,
                fulfillment_ids=[o["id"] for o in options if keeps(o, row["conservation"])],
                location_ids=location_ids,
            )
            for row in provider_items
        ],
        "tags": tags,
    }


# --- search pages as JSON text ----------------------------------------------------------------


def to_json(value: Any) -> str:
    """Compact JSON, as the network sends a dict (``network.client.body_bytes``)."""
    return wire(value).decode()


@dataclass(frozen=True, slots=True)
class _ProviderText:
    """A provider's document as JSON text around its categories and items."""

    head: str  # up to "categories":
    middle: str  # from "fulfillments" to "items":
    tail: str  # "tags" and the end
    location_ids: tuple[str, ...]
    options: tuple[Row, ...]
    kept: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def fulfillment_ids(self, conservation: str) -> tuple[str, ...]:
        """The options that keep goods of this class (:func:`keeps`), worked out once."""
        found = self.kept.get(conservation)
        if found is None:
            found = tuple(option["id"] for option in self.options if keeps(option, conservation))
            self.kept[conservation] = found
        return found


class CatalogDocuments:
    """The JSON text of search pages: :func:`provider_document` for rows read by a search,
    byte for byte, each item and provider rendered once per content.

    A document is a pure function of its rows, so the rows themselves (every column read,
    the stock as ``available``) are the cache key: a new price, stock count, name, pôle
    profile, location or fulfilment option is a new key, seen by the very next search, and
    no write path has to remember to invalidate anything. At most ``size`` items and
    ``size`` providers are kept (oldest first out). Thread-safe: searches run in worker
    threads.
    """

    SIZE: Final = 4096

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._items: dict[tuple[Any, ...], str] = {}
        self._providers: dict[tuple[Any, ...], _ProviderText] = {}
        self._lock = threading.Lock()

    def _keep(self, found: dict[Any, Any], key: Any, value: Any) -> None:
        with self._lock:
            while len(found) >= self.size:
                del found[next(iter(found))]
            found[key] = value

    def provider_json(
        self,
        provider: Row,
        provider_locations: Sequence[Row],
        options: Sequence[Row],
        provider_items: Sequence[Row],
        results: ProviderResults | None = None,
    ) -> str:
        """``to_json(provider_document(provider, provider_locations, options,
        provider_items, results))``, from cached parts (``results``, different for each
        search, is spliced in at the end of the tags)."""
        text = self._provider(provider, provider_locations, options)
        categories = {row["category_id"]: row["category_name"] for row in provider_items}
        return "".join(
            (
                text.head,
                to_json(
                    [
                        {"id": cid, "descriptor": {"name": name}}
                        for cid, name in sorted(categories.items())
                    ]
                ),
                text.middle,
                "[",
                ",".join(
                    self._item(row, text.fulfillment_ids(row["conservation"]), text.location_ids)
                    for row in provider_items
                ),
                "]",
                text.tail
                if results is None
                else text.tail[:-2]
                + ("" if text.tail.endswith("[]}") else ",")
                + to_json(results.to_group())
                + "]}",
            )
        )

    def _provider(
        self, provider: Row, provider_locations: Sequence[Row], options: Sequence[Row]
    ) -> _ProviderText:
        key = (
            tuple(provider.values()),
            tuple(tuple(row.values()) for row in provider_locations),
            tuple(tuple(row.values()) for row in options),
        )
        try:
            found = self._providers.get(key)
            hashable = True
        except TypeError:  # a value that cannot be a key (a JSON column): rendered each time
            found, hashable = None, False
        if found is None:
            document = provider_document(provider, provider_locations, options, [])
            found = _ProviderText(
                head='{"id":'
                + to_json(document["id"])
                + ',"descriptor":'
                + to_json(document["descriptor"])
                + ',"locations":'
                + to_json(document["locations"])
                + ',"categories":',
                middle=',"fulfillments":'
                + to_json(document["fulfillments"])
                + ',"payments":'
                + to_json(document["payments"])
                + ',"items":',
                tail=',"tags":' + to_json(document["tags"]) + "}",
                location_ids=tuple(row["id"] for row in provider_locations),
                options=tuple(options),
            )
            if hashable:
                self._keep(self._providers, key, found)
        return found

    def _item(
        self, row: Row, fulfillment_ids: tuple[str, ...], location_ids: tuple[str, ...]
    ) -> str:
        key = (tuple(row.values()), fulfillment_ids, location_ids)
        try:
            found = self._items.get(key)
            hashable = True
        except TypeError:  # a value that cannot be a key (a JSON column): rendered each time
            found, hashable = None, False
        if found is None:
            found = to_json(
                item_document(row, fulfillment_ids=fulfillment_ids, location_ids=location_ids)
            )
            if hashable:
                self._keep(self._items, key, found)
        return found
