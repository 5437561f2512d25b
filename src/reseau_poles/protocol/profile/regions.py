"""Québec's 17 administrative regions, the codes that travel in ``location.city.code``.

``QC-01`` … ``QC-17`` follow the official numbering of the Gouvernement du Québec; ``*`` stands
for the whole province (a subscriber or a search that covers every region). The country is
always ``CAN``.

Parsing is lenient on the form (``qc-6``, `` QC-06 ``) and strict on the substance (``QC-18``
is refused with the JSON path at fault); matching never raises, so a gateway can filter
registry records without a try block around every comparison.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Final, Literal

from ..errors import ErrorCode, ProtocolError
from ._plain import shown

COUNTRY: Final = "CAN"
CURRENCY: Final = "CAD"
WHOLE_PROVINCE: Final = "*"
WHOLE_PROVINCE_LABEL: Final = "Tout le Québec"


class Region(StrEnum):
    """An administrative region of Québec; the value is its code on the wire."""

    BAS_SAINT_LAURENT = "QC-01"
    SAGUENAY_LAC_SAINT_JEAN = "QC-02"
    CAPITALE_NATIONALE = "QC-03"
    MAURICIE = "QC-04"
    ESTRIE = "QC-05"
    MONTREAL = "QC-06"
    OUTAOUAIS = "QC-07"
    ABITIBI_TEMISCAMINGUE = "QC-08"
    COTE_NORD = "QC-09"
    NORD_DU_QUEBEC = "QC-10"
    GASPESIE_ILES_DE_LA_MADELEINE = "QC-11"
    CHAUDIERE_APPALACHES = "QC-12"
    LAVAL = "QC-13"
    LANAUDIERE = "QC-14"
    LAURENTIDES = "QC-15"
    MONTEREGIE = "QC-16"
    CENTRE_DU_QUEBEC = "QC-17"

    @property
    def number(self) -> int:
        """The official region number, 1 to 17."""
        return int(self.value[3:])

    @property
    def label(self) -> str:
        """The official French name (with its typographic en dashes)."""
        return _LABELS[self]


_LABELS: Final[dict[Region, str]] = {
    Region.BAS_SAINT_LAURENT: "Bas-Saint-Laurent",
    Region.SAGUENAY_LAC_SAINT_JEAN: "Saguenay–Lac-Saint-Jean",
    Region.CAPITALE_NATIONALE: "Capitale-Nationale",
    Region.MAURICIE: "Mauricie",
    Region.ESTRIE: "Estrie",
    Region.MONTREAL: "Montréal",
    Region.OUTAOUAIS: "Outaouais",
    Region.ABITIBI_TEMISCAMINGUE: "Abitibi-Témiscamingue",
    Region.COTE_NORD: "Côte-Nord",
    Region.NORD_DU_QUEBEC: "Nord-du-Québec",
    Region.GASPESIE_ILES_DE_LA_MADELEINE: "Gaspésie–Îles-de-la-Madeleine",
    Region.CHAUDIERE_APPALACHES: "Chaudière-Appalaches",
    Region.LAVAL: "Laval",
    Region.LANAUDIERE: "Lanaudière",
    Region.LAURENTIDES: "Laurentides",
    Region.MONTEREGIE: "Montérégie",
    Region.CENTRE_DU_QUEBEC: "Centre-du-Québec",
}

RegionCode = Region | Literal["*"]
"""A region, or ``"*"`` for the whole province."""

_CODE = re.compile(r"QC-?(\d{1,2})", re.IGNORECASE)


def _lookup(code: object) -> RegionCode | None:
    if isinstance(code, Region):
        return code
    if not isinstance(code, str):
        return None
    text = code.strip()
    if text == WHOLE_PROVINCE:
        return WHOLE_PROVINCE
    match = _CODE.fullmatch(text)
    if match is None:
        return None
    number = int(match.group(1))
    if not 1 <= number <= 17:
        return None
    return Region(f"QC-{number:02d}")


def parse_region(
    code: object,
    *,
    path: str | None = None,
    allow_whole_province: bool = True,
    error_code: ErrorCode = ErrorCode.INVALID_REQUEST,
) -> RegionCode:
    """The region named by ``code`` (``"QC-06"``, ``"qc-6"``, ``Region.MONTREAL``, ``"*"``).

    Raises :class:`ProtocolError` carrying ``error_code`` and ``path`` for anything else; the
    gateway passes ``ErrorCode.GATEWAY_INVALID_CITY``, a buyer node reading a catalog
    ``ErrorCode.BUYER_INVALID_CATALOG``. ``allow_whole_province=False`` refuses ``"*"`` where
    one place is meant (an item's origin, a pôle's home region).
    """
    region = _lookup(code)
    if region is None or (region == WHOLE_PROVINCE and not allow_whole_province):
        expected = "QC-01 … QC-17" + (" ou « * » (tout le Québec)" if allow_whole_province else "")
        raise ProtocolError(
            f"Région inconnue « {shown(code)} » : attendu {expected}.",
            code=error_code,
            path=path,
        )
    return region


def _name_key(text: str) -> str:
    """A region's name as compared: accents, case, dashes, apostrophes and spaces folded
    (« Saguenay–Lac-Saint-Jean », "saguenay lac saint jean", « MONTRÉAL »)."""
    from .text import normalize_text  # text imports nothing of this module; kept local

    return re.sub(r"[^a-z0-9]+", "-", normalize_text(text)).strip("-")


_BY_NAME: Final[dict[str, RegionCode]] = {
    **{_name_key(label): region for region, label in _LABELS.items()},
    _name_key(WHOLE_PROVINCE_LABEL): WHOLE_PROVINCE,
}


def parse_region_name(
    text: object,
    *,
    path: str | None = None,
    allow_whole_province: bool = True,
    error_code: ErrorCode = ErrorCode.INVALID_REQUEST,
) -> RegionCode:
    """:func:`parse_region`, and a region's name as well: « Montréal », "estrie",
    « Saguenay–Lac-Saint-Jean » (accents, case and dashes do not matter), « Tout le Québec »
    for ``*``. Where people type (a buyer's search, a CSV cell); codes stay the wire form."""
    if isinstance(text, str) and _lookup(text) is None:
        found = _BY_NAME.get(_name_key(text))
        if found is not None and (found != WHOLE_PROVINCE or allow_whole_province):
            return found
    try:
        return parse_region(
            text, path=path, allow_whole_province=allow_whole_province, error_code=error_code
        )
    except ProtocolError as exc:
        raise ProtocolError(
            exc.message.replace(" : attendu ", " : attendu son nom (« Estrie ») ou "),
            code=error_code,
            path=path,
        ) from None


def region_label(code: RegionCode) -> str:
    """French name of a region, or « Tout le Québec » for ``*``."""
    return WHOLE_PROVINCE_LABEL if code == WHOLE_PROVINCE else Region(code).label


def region_matches(served: object | Iterable[object], wanted: object) -> bool:
    """Whether a subscriber or provider serving ``served`` answers a request for ``wanted``.

    ``served`` is one code or a collection of codes. ``*`` on either side matches everything:
    a province-wide provider serves every region, and a province-wide search reaches every
    provider. Unknown codes match nothing (validate them at the edge with
    :func:`parse_region`); this predicate never raises.
    """
    want = _lookup(wanted)
    if want is None:
        return False
    candidates: Iterable[object] = (
        [served] if isinstance(served, str) or not isinstance(served, Iterable) else served
    )
    for candidate in candidates:
        have = _lookup(candidate)
        if have is None:
            continue
        if WHOLE_PROVINCE in (have, want) or have == want:
            return True
    return False
