"""From a client's plain search parameters to a Beckn ``search`` (no I/O), and from the
``on_search`` catalogs back to merged results.

    params = SearchParams.model_validate({"text": "érable", "region": "QC-03"})
    body = search_body(params, context)        # a checked SearchRequest, ready to sign
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.models import Context, SearchRequest
from reseau_poles.protocol.profile import (
    WHOLE_PROVINCE,
    Page,
    certifications_group,
    conservation_group,
    parse_region_name,
)
from reseau_poles.protocol.profile.delivery_region import (
    parse_gps,
    parse_postal_code,
    region_for_gps,
    region_for_postal_code,
)
from reseau_poles.protocol.profile.vocabulary import Certification, Conservation


class SearchParams(BaseModel):
    """What a buyer app asks for; every field optional (nothing: the whole catalog).

    The region is where the goods must go: its code (``QC-06``) or its name (« Montréal »,
    "saguenay lac saint jean": accents and case do not matter), ``*`` or « Tout le Québec »
    for everywhere; it is stored and sent as its code. Without ``region``, a delivery address gives it:
    ``postal_code`` (urban Québec FSAs only) or ``gps`` (nearest region), see
    :mod:`reseau_poles.protocol.profile.delivery_region`. A given ``region`` always wins."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=64)
    region: str = WHOLE_PROVINCE
    certification: list[str] = Field(default_factory=list, max_length=10)
    conservation: str | None = None
    provider: str | None = Field(default=None, max_length=255)
    postal_code: str | None = Field(default=None, max_length=10)
    gps: str | None = Field(default=None, max_length=64)

    @field_validator("certification", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _checked(lambda: str(parse_region_name(value)))

    @field_validator("certification")
    @classmethod
    def _certifications(cls, values: list[str]) -> list[str]:
        return [_checked(lambda v=v: Certification.parse(v).value) for v in values]

    @field_validator("conservation")
    @classmethod
    def _conservation(cls, value: str | None) -> str | None:
        return None if value is None else _checked(lambda: Conservation.parse(value).value)

    @field_validator("postal_code")
    @classmethod
    def _postal_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("region", WHOLE_PROVINCE) == WHOLE_PROVINCE:
            # The region comes from the postal code: it must be one the profile can place.
            _checked(lambda: str(region_for_postal_code(value)))
        return _checked(lambda: parse_postal_code(value))

    @field_validator("gps")
    @classmethod
    def _gps(cls, value: str | None) -> str | None:
        if value is None:
            return None
        lat, lon = _checked_gps(value)
        return f"{lat},{lon}"

    @model_validator(mode="after")
    def _delivery_region(self) -> SearchParams:
        if self.region == WHOLE_PROVINCE and "region" not in self.model_fields_set:
            if self.postal_code:
                self.region = str(region_for_postal_code(self.postal_code))
            elif self.gps:
                self.region = str(region_for_gps(self.gps))
        return self


def _checked(read: Callable[[], str]) -> str:
    """The profile's vocabularies raise :class:`ProtocolError`; pydantic wants a ValueError
    (it adds the field's path itself)."""
    try:
        return read()
    except ProtocolError as exc:
        raise ValueError(exc.message) from None


def _checked_gps(value: str) -> tuple[float, float]:
    try:
        return parse_gps(value)
    except ProtocolError as exc:
        raise ValueError(exc.message) from None


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
