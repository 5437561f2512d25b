"""The tag groups of an item: certifications, conservation, origine, taxes, saison, langue_en.

Value conventions (codes and values in lower case, French, without accents):

================  =================  ====================================================
group             tag code           value
================  =================  ====================================================
certifications    a certification    ``oui`` (held) or ``non`` (explicitly not held)
                  code, one tag each
conservation      ``classe``         ``ambiant`` | ``refrigere`` | ``congele``
origine           ``producteur``     producer's name (free text)
                  ``region``         ``QC-01`` … ``QC-17`` (one place: ``*`` refused)
                  ``municipalite``   municipality (free text)
taxes             ``taxable``        ``oui`` (TPS and TVQ apply) | ``non`` (zero-rated)
saison            ``mois``           months available: ``7,8,9``; ranges ``6-9`` and
                                     ranges across the new year ``11-3`` are read too;
                                     ``*`` = all year. Builders write the plain list.
langue_en         ``name``,          English text of the matching descriptor field
                  ``short_desc``,
                  ``long_desc``
================  =================  ====================================================

A group that is absent leaves its field ``None`` (or empty): the reader does not guess. An
absent ``conservation`` means nothing about the cold chain; an absent ``taxes`` means the
seller did not say, and the quote must not be built before it does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final, cast

from ..errors import ErrorCode, ProtocolError
from ._plain import shown, yes_no
from .regions import Region, parse_region
from .tags import FoundGroup, TagValue, collect, flag_value, tag, tag_group, text_value
from .text import normalize_text
from .vocabulary import MONTHS, Certification, Conservation

CERTIFICATIONS: Final = "certifications"
CONSERVATION: Final = "conservation"
ORIGINE: Final = "origine"
TAXES: Final = "taxes"
SAISON: Final = "saison"
LANGUE_EN: Final = "langue_en"
ITEM_GROUPS: Final = (CERTIFICATIONS, CONSERVATION, ORIGINE, TAXES, SAISON, LANGUE_EN)
_ITEM_GROUP_SET: Final = frozenset(ITEM_GROUPS)

ALL_YEAR: Final = frozenset(range(1, 13))


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an item comes from."""

    producer: str | None = None
    region: Region | None = None
    municipality: str | None = None


@dataclass(frozen=True, slots=True)
class EnglishText:
    """English versions of an item's descriptor fields."""

    name: str | None = None
    short_desc: str | None = None
    long_desc: str | None = None


@dataclass(frozen=True, slots=True)
class ItemTags:
    """What the profile's tag groups say about an item."""

    certifications: frozenset[Certification] = field(default_factory=frozenset)
    conservation: Conservation | None = None
    origin: Origin | None = None
    taxable: bool | None = None
    months: frozenset[int] | None = None
    english: EnglishText | None = None

    @property
    def needs_cold_chain(self) -> bool:
        return self.conservation is not None and self.conservation.needs_cold_chain

    def available_in(self, month: int) -> bool:
        """Whether the item is in season in ``month`` (always, when no season is given)."""
        return self.months is None or month in self.months

    def to_tags(self) -> list[dict[str, Any]]:
        """The tag groups that say all this (the inverse of :func:`parse_item_tags`)."""
        groups: list[dict[str, Any]] = []
        if self.certifications:
            groups.append(certifications_group(self.certifications))
        if self.conservation is not None:
            groups.append(conservation_group(self.conservation))
        if self.origin is not None:
            groups.append(
                origin_group(
                    producer=self.origin.producer,
                    region=self.origin.region,
                    municipality=self.origin.municipality,
                )
            )
        if self.taxable is not None:
            groups.append(taxes_group(self.taxable))
        if self.months is not None:
            groups.append(season_group(self.months))
        if self.english is not None:
            groups.append(
                english_group(
                    name=self.english.name,
                    short_desc=self.english.short_desc,
                    long_desc=self.english.long_desc,
                )
            )
        return groups


# --- builders ----------------------------------------------------------------------------


def certifications_group(certifications: Iterable[Certification | str]) -> dict[str, Any]:
    """``certifications``: one ``oui`` tag per certification held, in a stable order."""
    held = {Certification.parse(value) for value in certifications}
    ordered = [member for member in Certification if member in held]
    return tag_group(
        CERTIFICATIONS,
        [tag(member.value, yes_no(True), name=member.label) for member in ordered],
        name="Certifications",
    )


def conservation_group(conservation: Conservation | str) -> dict[str, Any]:
    """``conservation``: the storage class."""
    value = Conservation.parse(conservation)
    return tag_group(CONSERVATION, [tag("classe", value.value, name="Classe")], name="Conservation")


def origin_group(
    *,
    producer: str | None = None,
    region: Region | str | None = None,
    municipality: str | None = None,
) -> dict[str, Any]:
    """``origine``: producer, region and municipality, each optional (at least one)."""
    tags = []
    if producer:
        tags.append(tag("producteur", producer, name="Producteur"))
    if region is not None:
        code = parse_region(region, allow_whole_province=False)
        tags.append(tag("region", code, name="Région"))
    if municipality:
        tags.append(tag("municipalite", municipality, name="Municipalité"))
    if not tags:
        raise ValueError("Une origine demande au moins un producteur, une région ou une ville.")
    return tag_group(ORIGINE, tags, name="Origine")


def taxes_group(taxable: bool) -> dict[str, Any]:
    """``taxes``: ``taxable`` = ``oui`` (TPS and TVQ apply) or ``non`` (zero-rated)."""
    return tag_group(TAXES, [tag("taxable", yes_no(taxable), name="Taxable")], name="Taxes")


def season_group(months: Iterable[int]) -> dict[str, Any]:
    """``saison``: the months the item is available, as ``mois`` = ``"6,7,8,9"``."""
    chosen = sorted(set(months))
    if not chosen or any(not isinstance(m, int) or not 1 <= m <= 12 for m in chosen):
        raise ValueError("Les mois d'une saison vont de 1 à 12 (au moins un).")
    return tag_group(
        SAISON,
        [tag("mois", ",".join(str(m) for m in chosen), name="Mois")],
        name="Saison : " + ", ".join(MONTHS[m - 1] for m in chosen),
    )


def english_group(
    *, name: str | None = None, short_desc: str | None = None, long_desc: str | None = None
) -> dict[str, Any]:
    """``langue_en``: English name and descriptions. Not for display in French interfaces."""
    fields = {"name": name, "short_desc": short_desc, "long_desc": long_desc}
    tags = [tag(code, text) for code, text in fields.items() if text]
    if not tags:
        raise ValueError("Le groupe langue_en demande au moins un texte.")
    return tag_group(LANGUE_EN, tags, name="In English", display=False)


# --- readers -----------------------------------------------------------------------------


def parse_item_tags(
    tags: Any,
    *,
    path: str = "tags",
    error_code: ErrorCode = ErrorCode.INVALID_REQUEST,
) -> ItemTags:
    """Read every profile group of an item's ``tags`` (at JSON path ``path``)."""
    found = collect(tags, _ITEM_GROUP_SET, path=path, error_code=error_code)
    return ItemTags(
        certifications=_certifications(found.get(CERTIFICATIONS), error_code),
        conservation=_conservation(found.get(CONSERVATION), error_code),
        origin=_origin(found.get(ORIGINE), error_code),
        taxable=_taxable(found.get(TAXES), error_code),
        months=_season(found.get(SAISON), error_code),
        english=_english(found.get(LANGUE_EN), error_code),
    )


def parse_certifications(
    tags: Any, *, path: str = "tags", error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> frozenset[Certification]:
    """Certifications held (empty when the group is absent)."""
    found = collect(tags, [CERTIFICATIONS], path=path, error_code=error_code)
    return _certifications(found.get(CERTIFICATIONS), error_code)


def parse_conservation(
    tags: Any, *, path: str = "tags", error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> Conservation | None:
    found = collect(tags, [CONSERVATION], path=path, error_code=error_code)
    return _conservation(found.get(CONSERVATION), error_code)


def parse_origin(
    tags: Any, *, path: str = "tags", error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> Origin | None:
    found = collect(tags, [ORIGINE], path=path, error_code=error_code)
    return _origin(found.get(ORIGINE), error_code)


def parse_taxable(
    tags: Any, *, path: str = "tags", error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> bool | None:
    """``True`` taxable, ``False`` zero-rated, ``None`` when the item does not say."""
    found = collect(tags, [TAXES], path=path, error_code=error_code)
    return _taxable(found.get(TAXES), error_code)


def parse_season(
    tags: Any, *, path: str = "tags", error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> frozenset[int] | None:
    """Months available (1–12), ``None`` when the item gives no season."""
    found = collect(tags, [SAISON], path=path, error_code=error_code)
    return _season(found.get(SAISON), error_code)


def parse_english(
    tags: Any, *, path: str = "tags", error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> EnglishText | None:
    found = collect(tags, [LANGUE_EN], path=path, error_code=error_code)
    return _english(found.get(LANGUE_EN), error_code)


# (member, code) in the vocabulary's order, read once: an enum's ``.value`` is a property.
_CERTIFICATION_CODES: tuple[tuple[Certification, str], ...] = tuple(
    (member, member.value) for member in Certification
)


def _certifications(group: FoundGroup | None, error_code: ErrorCode) -> frozenset[Certification]:
    if group is None:
        return frozenset()
    held: set[Certification] = set()
    codes = {value.code for value in group.tags}
    for member, code in _CERTIFICATION_CODES:  # unknown certification codes are skipped
        if code in codes:
            value = group.require(code, error_code=error_code)
            if flag_value(value, error_code=error_code):
                held.add(member)
    return frozenset(held)


def _conservation(group: FoundGroup | None, error_code: ErrorCode) -> Conservation | None:
    if group is None:
        return None
    value = group.require("classe", error_code=error_code)
    return Conservation.parse(value.value, path=value.path, error_code=error_code)


def _origin(group: FoundGroup | None, error_code: ErrorCode) -> Origin | None:
    if group is None:
        return None
    producer = group.single("producteur", error_code=error_code)
    region = group.single("region", error_code=error_code)
    municipality = group.single("municipalite", error_code=error_code)
    if producer is None and region is None and municipality is None:
        return None
    return Origin(
        producer=text_value(producer, error_code=error_code) if producer else None,
        region=one_region(region, error_code) if region else None,
        municipality=text_value(municipality, error_code=error_code) if municipality else None,
    )


def one_region(value: TagValue, error_code: ErrorCode = ErrorCode.INVALID_REQUEST) -> Region:
    """A tag value naming one region (``*`` refused: a place is meant)."""
    region = parse_region(
        value.value, path=value.path, allow_whole_province=False, error_code=error_code
    )
    return cast(Region, region)


def _taxable(group: FoundGroup | None, error_code: ErrorCode) -> bool | None:
    if group is None:
        return None
    return flag_value(group.require("taxable", error_code=error_code), error_code=error_code)


_MONTH_TOKEN: Final = re.compile(r"(?<!\d)(\d{1,2})(?:\s*-\s*(\d{1,2}))?(?!\d)|([^\s,;]+)")


def parse_months(text: str) -> frozenset[int] | None:
    """Months from ``"7,8,9"``, ``"6-9"``, ``"11-3"`` (across the new year) or ``"*"``;
    ``None`` when the text is none of these forms."""
    text = normalize_text(text)  # en dashes become hyphens
    if text == "*":
        return ALL_YEAR
    months: set[int] = set()
    for match in _MONTH_TOKEN.finditer(text):
        if match.group(3) is not None:
            return None
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if not (1 <= first <= 12 and 1 <= last <= 12):
            return None
        month = first
        months.add(month)
        while month != last:
            month = month % 12 + 1
            months.add(month)
    return frozenset(months) or None


def _season(group: FoundGroup | None, error_code: ErrorCode) -> frozenset[int] | None:
    if group is None:
        return None
    value = group.require("mois", error_code=error_code)
    months = parse_months(value.value) if isinstance(value.value, str) else None
    if months is None:
        raise ProtocolError(
            f"Saison illisible « {shown(value.value)} » : mois de 1 à 12, p. ex. « 7,8,9 » ou « 6-9 ».",
            code=error_code,
            path=value.path,
        )
    return months


def _english(group: FoundGroup | None, error_code: ErrorCode) -> EnglishText | None:
    if group is None:
        return None
    texts: dict[str, str | None] = {}
    for code in ("name", "short_desc", "long_desc"):
        value = group.single(code, error_code=error_code)
        texts[code] = text_value(value, error_code=error_code) if value else None
    if not any(texts.values()):
        return None
    return EnglishText(**texts)
