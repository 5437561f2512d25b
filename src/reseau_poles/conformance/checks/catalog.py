"""The check of an ``on_search`` catalog against the Québec profile: legal form and region of
each provider, prices in CAD as decimal strings, the ``taxes`` and ``conservation`` tags."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.profile import (
    parse_item_tags,
    parse_provider_tags,
    to_decimal,
)

from ..report import Finding


@dataclass(frozen=True)
class CatalogItem:
    provider_id: str
    item_id: str
    price: Decimal
    taxable: bool | None
    minimum: int
    available: int | None
    fulfillment_ids: tuple[str, ...]


def _decimal(value: Any) -> Decimal | None:
    try:
        return to_decimal(value) if isinstance(value, str) else None
    except ProtocolError:
        return None


def catalog_findings(payload: Any) -> tuple[list[Finding], list[CatalogItem]]:
    """The catalog of an ``on_search``: providers with their legal form and region, items
    with a price in CAD as a decimal string, and the ``taxes`` and ``conservation`` groups.
    Returns the findings and the items read (for the quote check)."""
    name = "on_search"
    try:
        providers = payload["message"]["catalog"]["providers"]
    except (KeyError, TypeError):
        return [
            Finding(
                "Catalogue absent.",
                "No catalog.",
                message=name,
                path="message.catalog.providers",
            )
        ], []
    if not isinstance(providers, list):
        return [
            Finding(
                "providers doit être une liste.",
                "providers must be a list.",
                message=name,
                path="message.catalog.providers",
            )
        ], []
    findings: list[Finding] = []
    items: list[CatalogItem] = []
    for p, provider in enumerate(providers):
        at = f"message.catalog.providers[{p}]"
        if not isinstance(provider, dict):
            continue
        try:
            tags = parse_provider_tags(provider.get("tags"), path=f"{at}.tags")
        except ProtocolError as exc:
            findings.append(_profile_error(exc, name))
        else:
            for attribute, group in (("legal_form", "forme_juridique"), ("region", "region")):
                if getattr(tags, attribute) is None:
                    findings.append(
                        Finding(
                            f"Groupe d'étiquettes « {group} » absent du pôle.",
                            f"Tag group “{group}” missing on the provider.",
                            message=name,
                            path=f"{at}.tags",
                            expected=group,
                            got=_codes(provider.get("tags")),
                        )
                    )
        for i, item in enumerate(provider.get("items") or []):
            where = f"{at}.items[{i}]"
            if not isinstance(item, dict):
                continue
            price = found if isinstance(found := item.get("price"), dict) else {}
            if price.get("currency") != "CAD":
                findings.append(
                    Finding(
                        "Prix attendu en CAD.",
                        "Price expected in CAD.",
                        message=name,
                        path=f"{where}.price.currency",
                        expected="CAD",
                        got=price.get("currency"),
                    )
                )
            value = _decimal(price.get("value"))
            if value is None:
                findings.append(
                    Finding(
                        "Prix attendu en chaîne décimale.",
                        "Price expected as a decimal string.",
                        message=name,
                        path=f"{where}.price.value",
                        expected='"12.50"',
                        got=price.get("value"),
                    )
                )
            taxable = None
            try:
                item_tags = parse_item_tags(item.get("tags"), path=f"{where}.tags")
            except ProtocolError as exc:
                findings.append(_profile_error(exc, name))
            else:
                taxable = item_tags.taxable
                for attribute, group in (("taxable", "taxes"), ("conservation", "conservation")):
                    if getattr(item_tags, attribute) is None:
                        findings.append(
                            Finding(
                                f"Groupe d'étiquettes « {group} » absent de l'article.",
                                f"Tag group “{group}” missing on the item.",
                                message=name,
                                path=f"{where}.tags",
                                expected=group,
                                got=_codes(item.get("tags")),
                            )
                        )
            if value is not None and isinstance(item.get("id"), str):
                quantity = found if isinstance(found := item.get("quantity"), dict) else {}
                items.append(
                    CatalogItem(
                        provider_id=str(provider.get("id")),
                        item_id=item["id"],
                        price=value,
                        taxable=taxable,
                        minimum=_count(quantity.get("minimum")) or 1,
                        available=_count(quantity.get("available")),
                        fulfillment_ids=tuple(
                            f for f in item.get("fulfillment_ids") or [] if isinstance(f, str)
                        ),
                    )
                )
    return findings, items


def _count(value: Any) -> int | None:
    if isinstance(value, dict) and isinstance(value.get("count"), int):
        return int(value["count"])
    return None


def _codes(tags: Any) -> list[Any]:
    if not isinstance(tags, list):
        return []
    return [
        (group.get("descriptor") or {}).get("code") for group in tags if isinstance(group, dict)
    ]


def _profile_error(exc: ProtocolError, name: str) -> Finding:
    return Finding(
        exc.message,
        f"Québec profile: {exc.message}",
        message=name,
        path=exc.path,
    )
