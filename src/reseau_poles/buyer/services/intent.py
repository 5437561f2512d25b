"""From a client's plain search parameters to a Beckn ``search`` (no I/O), and from the
``on_search`` catalogs back to merged results.

    params = SearchParams.model_validate({"text": "érable", "region": "QC-03"})
    body = search_body(params, context)        # a checked SearchRequest, ready to sign
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.models import Context, SearchRequest
from reseau_poles.protocol.profile import (
    WHOLE_PROVINCE,
    Page,
    certifications_group,
    conservation_group,
)

from ..requests import SearchParams


def intent(params: SearchParams, page: Page | None = None) -> dict[str, Any]:
    """The Beckn ``Intent`` of the parameters, with the profile's tag groups (``pagination``
    for a follow-up page of one pôle)."""
    found: dict[str, Any] = {}
    if params.text:
        found["item"] = {"descriptor": {"name": params.text}}
    if params.category:
        found["category"] = {"id": params.category}
    if params.provider:
        found["provider"] = {"id": params.provider}
    if params.region != WHOLE_PROVINCE:
        # Where the goods must go: the seller serves this region (read from the end stop).
        location: dict[str, Any] = {"city": {"code": params.region}}
        if params.postal_code:
            location["area_code"] = params.postal_code
        if params.gps:
            location["gps"] = params.gps
        found["fulfillment"] = {"stops": [{"type": "end", "location": location}]}
    tags = []
    if params.certification:
        tags.append(certifications_group(params.certification))
    if params.conservation:
        tags.append(conservation_group(params.conservation))
    if page is not None:
        tags.append(page.to_group())
    if tags:
        found["tags"] = tags
    return found


def search_body(params: SearchParams, context: Context, page: Page | None = None) -> SearchRequest:
    """The ``search`` request, validated by its model before anything is signed."""
    return SearchRequest.model_validate(
        {
            "context": context.model_dump(mode="json", by_alias=True, exclude_unset=True),
            "message": {"intent": intent(params, page)},
        }
    )


# --- reading catalogs ------------------------------------------------------------------------


def catalog_providers(
    payload: Mapping[str, Any],
) -> list[tuple[str, dict[str, Any], list[Any]]]:
    """``(provider id, provider without items, items)`` of an ``on_search`` payload.

    Raises :class:`ProtocolError` (20000, invalid catalog) with the path at fault."""
    message = payload.get("message")
    catalog = message.get("catalog") if isinstance(message, Mapping) else None
    if not isinstance(catalog, Mapping):
        raise ProtocolError(
            "catalogue manquant", code=ErrorCode.BUYER_INVALID_CATALOG, path="message.catalog"
        )
    providers = catalog.get("providers") or []
    if not isinstance(providers, list):
        raise ProtocolError(
            "providers doit être une liste",
            code=ErrorCode.BUYER_INVALID_CATALOG,
            path="message.catalog.providers",
        )
    found = []
    for index, provider in enumerate(providers):
        path = f"message.catalog.providers[{index}]"
        if not isinstance(provider, Mapping) or not isinstance(provider.get("id"), str):
            raise ProtocolError(
                "pôle sans identifiant", code=ErrorCode.BUYER_INVALID_CATALOG, path=f"{path}.id"
            )
        items = provider.get("items") or []
        if not isinstance(items, list):
            raise ProtocolError(
                "items doit être une liste",
                code=ErrorCode.BUYER_INVALID_CATALOG,
                path=f"{path}.items",
            )
        # A pôle's identity on the network is its signer's, never what its body claims.
        rest = {k: v for k, v in provider.items() if k not in _NOT_FROM_THE_BODY}
        found.append((provider["id"], rest, list(items)))
    return found


# Keys of a catalogue's provider that the buyer fills itself (``bpp_*`` from the verified
# signer and the registry) or from elsewhere (``items``).
_NOT_FROM_THE_BODY = frozenset({"items", "bpp_id", "bpp_uri"})


def merge(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Results merged per (seller, provider) and item id, a later answer replacing an earlier
    one; providers in order of arrival, items in the seller's order."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["bpp_id"], row["provider_id"])
        identity = {"bpp_id": row["bpp_id"], "bpp_uri": row["bpp_uri"]}
        entry = merged.setdefault(key, dict(identity))
        # The provider's own fields, then who signed and where the registry says it is: the
        # identity always wins over the body (rows stored before bodies were cleaned too).
        entry.update({k: v for k, v in row["provider"].items() if k not in _NOT_FROM_THE_BODY})
        entry.update(identity)
        kept = items.setdefault(key, {})
        for item in row["items"]:
            item_id = item.get("id") if isinstance(item, Mapping) else None
            kept[item_id or f"#{len(kept)}"] = item
    return [{**entry, "items": list(items[key].values())} for key, entry in merged.items()]
