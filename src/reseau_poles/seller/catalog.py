"""Beckn documents built from the seller's rows: items, providers, fulfilments, payments.

Pure functions (rows in, JSON-ready dicts out) so that search, quotes and orders show a pôle
the same way everywhere. Tags come from the profile's builders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from reseau_poles.protocol.profile import (
    CURRENCY,
    Certification,
    Conservation,
    EnglishText,
    FulfillmentTags,
    ItemTags,
    LegalForm,
    Origin,
    PaymentTerms,
    PaymentType,
    ProviderTags,
    format_amount,
    payment,
    region_label,
    tag,
    tag_group,
)

from .repository import split_codes

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


def fulfillment_document(option: Row, locations_by_id: Mapping[str, Row]) -> dict[str, Any]:
    document: dict[str, Any] = {"id": option["id"], "type": option["type"]}
    tags = FulfillmentTags(cold_classes(option)).to_tags()
    tags.append(
        tag_group(
            "modalites",
            [
                tag("nom", option["name"], name="Nom"),
                tag("frais", format_amount(option["fee"]), name="Frais (CAD)"),
                tag("delai_heures", str(option["lead_time_hours"]), name="Délai (heures)"),
                tag("regions", ",".join(split_codes(option["regions"])), name="Régions"),
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
    *,
    shown: int | None = None,
    total: int | None = None,
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
        region=provider["region"],
        served=split_codes(provider["served_regions"]) or None,
    ).to_tags()
    if total is not None:
        tags.append(
            tag_group(
                "resultats",
                [
                    tag("affiches", str(shown if shown is not None else len(provider_items))),
                    tag("total", str(total)),
                ],
                name="Résultats",
            )
        )
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
