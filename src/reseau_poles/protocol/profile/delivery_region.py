"""The administrative region of a delivery address: from a postal code, or from GPS
coordinates. Approximate by design; read the limits below before relying on it.

Why approximate: Canada Post's forward sortation areas (FSA, the first three characters of a
postal code) do not follow the boundaries of Québec's administrative regions, and rural FSAs
(second character ``0``: ``G0A``, ``J0K``…) each cover villages in several regions. So:

* :func:`region_for_postal_code` knows only the FSAs of the main urban centres, listed in
  :data:`URBAN_FSA` (prefixes of two or three characters; the longest prefix wins). Their
  region is not in doubt. A rural FSA, or one not listed, is refused with a clear message:
  give the region (``QC-01`` … ``QC-17``) or the GPS coordinates instead. The table is short
  on purpose and is not meant to grow into a copy of Canada Post's data.
* :func:`region_for_gps` takes ``"lat,lon"`` and returns the region whose reference point
  (:data:`REFERENCE_POINTS`, a central town of each region, to about a kilometre) is the
  closest. Near a regional boundary this can name the neighbouring region; the buyer can
  always give the region itself, which always wins.

    >>> region_for_postal_code("h2x 1y4")
    <Region.MONTREAL: 'QC-06'>
    >>> region_for_gps("46.81,-71.21")
    <Region.CAPITALE_NATIONALE: 'QC-03'>
"""

from __future__ import annotations

import math
import re
from typing import Final

from ..errors import ErrorCode, ProtocolError
from ._plain import shown
from .regions import Region

# A Canadian postal code: letter digit letter, optional space, digit letter digit. The FSA
# alone (``G1R``) is accepted too: it is all this module reads.
_POSTAL = re.compile(r"([A-Z]\d[A-Z])(?:\s?(\d[A-Z]\d))?")
# Postal codes never use D, F, I, O, Q, U; Québec's begin with G, H or J.
_QUEBEC_FIRST = frozenset("GHJ")

URBAN_FSA: Final[dict[str, Region]] = {
    # Montréal island: every H FSA but Laval's H7.
    "H1": Region.MONTREAL,
    "H2": Region.MONTREAL,
    "H3": Region.MONTREAL,
    "H4": Region.MONTREAL,
    "H5": Region.MONTREAL,
    "H8": Region.MONTREAL,
    "H9": Region.MONTREAL,
    "H7": Region.LAVAL,
    # Ville de Québec.
    "G1": Region.CAPITALE_NATIONALE,
    "G2": Region.CAPITALE_NATIONALE,
    # Lévis.
    "G6V": Region.CHAUDIERE_APPALACHES,
    "G6W": Region.CHAUDIERE_APPALACHES,
    "G6X": Region.CHAUDIERE_APPALACHES,
    # Rimouski.
    "G5L": Region.BAS_SAINT_LAURENT,
    # Saguenay (Chicoutimi, Jonquière).
    "G7H": Region.SAGUENAY_LAC_SAINT_JEAN,
    "G7J": Region.SAGUENAY_LAC_SAINT_JEAN,
    "G7S": Region.SAGUENAY_LAC_SAINT_JEAN,
    "G7X": Region.SAGUENAY_LAC_SAINT_JEAN,
    # Trois-Rivières.
    "G8T": Region.MAURICIE,
    "G8Y": Region.MAURICIE,
    "G8Z": Region.MAURICIE,
    "G9A": Region.MAURICIE,
    "G9B": Region.MAURICIE,
    "G9C": Region.MAURICIE,
    # Sherbrooke.
    "J1E": Region.ESTRIE,
    "J1G": Region.ESTRIE,
    "J1H": Region.ESTRIE,
    "J1J": Region.ESTRIE,
    "J1K": Region.ESTRIE,
    "J1L": Region.ESTRIE,
    # Gatineau.
    "J8T": Region.OUTAOUAIS,
    "J8X": Region.OUTAOUAIS,
    "J8Y": Region.OUTAOUAIS,
    "J8Z": Region.OUTAOUAIS,
    "J9A": Region.OUTAOUAIS,
    # Rouyn-Noranda.
    "J9X": Region.ABITIBI_TEMISCAMINGUE,
    # Sept-Îles.
    "G4R": Region.COTE_NORD,
    # Gaspé.
    "G4X": Region.GASPESIE_ILES_DE_LA_MADELEINE,
    # Longueuil.
    "J4H": Region.MONTEREGIE,
    "J4J": Region.MONTEREGIE,
    "J4K": Region.MONTEREGIE,
    "J4L": Region.MONTEREGIE,
    "J4M": Region.MONTEREGIE,
    # Joliette.
    "J6E": Region.LANAUDIERE,
    # Saint-Jérôme.
    "J7Y": Region.LAURENTIDES,
    "J7Z": Region.LAURENTIDES,
    # Drummondville.
    "J2B": Region.CENTRE_DU_QUEBEC,
    "J2C": Region.CENTRE_DU_QUEBEC,
}

# A central town of each region (latitude, longitude), for the nearest-point approximation.
REFERENCE_POINTS: Final[dict[Region, tuple[float, float]]] = {
    Region.BAS_SAINT_LAURENT: (48.449, -68.524),  # Rimouski
    Region.SAGUENAY_LAC_SAINT_JEAN: (48.428, -71.068),  # Saguenay
    Region.CAPITALE_NATIONALE: (46.813, -71.208),  # Québec
    Region.MAURICIE: (46.343, -72.543),  # Trois-Rivières
    Region.ESTRIE: (45.404, -71.893),  # Sherbrooke
    Region.MONTREAL: (45.509, -73.588),  # Montréal
    Region.OUTAOUAIS: (45.477, -75.701),  # Gatineau
    Region.ABITIBI_TEMISCAMINGUE: (48.236, -79.023),  # Rouyn-Noranda
    Region.COTE_NORD: (49.217, -68.150),  # Baie-Comeau
    Region.NORD_DU_QUEBEC: (49.913, -74.379),  # Chibougamau
    Region.GASPESIE_ILES_DE_LA_MADELEINE: (48.832, -64.487),  # Gaspé
    Region.CHAUDIERE_APPALACHES: (46.441, -71.011),  # Sainte-Marie
    Region.LAVAL: (45.570, -73.692),  # Laval
    Region.LANAUDIERE: (46.021, -73.440),  # Joliette
    Region.LAURENTIDES: (45.780, -74.004),  # Saint-Jérôme
    Region.MONTEREGIE: (45.307, -73.262),  # Saint-Jean-sur-Richelieu
    Region.CENTRE_DU_QUEBEC: (45.883, -72.484),  # Drummondville
}

# Québec's extent, with a margin: coordinates outside are a mistake, not a far-away region.
_LATITUDES: Final = (44.9, 62.7)
_LONGITUDES: Final = (-79.8, -57.0)
_GPS = re.compile(r"\s*(-?\d{1,3}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*")


def parse_postal_code(
    code: object,
    *,
    path: str | None = None,
    error_code: ErrorCode = ErrorCode.INVALID_REQUEST,
) -> str:
    """A Québec postal code, upper case with its space (``"G1R 4P5"``), or its FSA alone.

    Raises :class:`ProtocolError` (``error_code``, ``path``) for a malformed code or a code
    outside Québec."""
    text = code.strip().upper() if isinstance(code, str) else ""
    match = _POSTAL.fullmatch(text)
    if match is None:
        raise ProtocolError(
            f"Code postal invalide « {shown(code)} » : attendu A1A 1A1.",
            code=error_code,
            path=path,
        )
    fsa, rest = match.group(1), match.group(2)
    if fsa[0] not in _QUEBEC_FIRST:
        raise ProtocolError(
            f"Code postal hors Québec « {fsa} » : les codes du Québec commencent par G, H ou J.",
            code=error_code,
            path=path,
        )
    return f"{fsa} {rest}" if rest else fsa


def region_for_postal_code(
    code: object,
    *,
    path: str | None = None,
    error_code: ErrorCode = ErrorCode.INVALID_REQUEST,
) -> Region:
    """The region of a Québec urban postal code (``"G1R 4P5"``, ``"h2x1y4"``, ``"J1H"``).

    Raises :class:`ProtocolError` (``error_code``, ``path``) for a malformed code, a code
    outside Québec, or an FSA this table does not place (rural or unlisted)."""
    fsa = parse_postal_code(code, path=path, error_code=error_code)[:3]
    region = URBAN_FSA.get(fsa) or URBAN_FSA.get(fsa[:2])
    if region is None:
        kind = "rural" if fsa[1] == "0" else "non répertorié"
        raise ProtocolError(
            f"Région introuvable pour le code postal {kind} « {fsa} » : indiquez la région "
            "(QC-01 … QC-17) ou les coordonnées GPS.",
            code=error_code,
            path=path,
        )
    return region


def parse_gps(
    value: object, *, path: str | None = None, error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> tuple[float, float]:
    """``(latitude, longitude)`` from ``"46.81,-71.21"``, within Québec."""
    match = _GPS.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ProtocolError(
            f"Coordonnées GPS invalides « {shown(value)} » : attendu « latitude,longitude ».",
            code=error_code,
            path=path,
        )
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (_LATITUDES[0] <= lat <= _LATITUDES[1] and _LONGITUDES[0] <= lon <= _LONGITUDES[1]):
        raise ProtocolError(
            f"Coordonnées GPS hors Québec « {lat},{lon} ».", code=error_code, path=path
        )
    return lat, lon


def region_for_gps(
    value: object, *, path: str | None = None, error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> Region:
    """The region whose reference point is the closest to ``"lat,lon"`` (an approximation
    near regional boundaries; see the module's note)."""
    lat, lon = parse_gps(value, path=path, error_code=error_code)
    return min(REFERENCE_POINTS, key=lambda region: _distance((lat, lon), REFERENCE_POINTS[region]))


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in kilometres (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))
