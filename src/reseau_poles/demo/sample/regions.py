"""The ten Québec regions of the sample network: their towns (real names, postal-code areas and
positions, made-up streets), telephone area code and neighbouring regions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Town:
    name: str
    postal_prefix: str  # forward sortation area (FSA) of the town
    gps: tuple[float, float]
    street: str


@dataclass(frozen=True)
class RegionSample:
    code: str
    name: str
    area_code: str
    neighbours: tuple[str, ...]
    towns: tuple[Town, ...]


def _t(name: str, fsa: str, lat: float, lon: float, street: str) -> Town:
    return Town(name, fsa, (lat, lon), street)


REGIONS: dict[str, RegionSample] = {
    r.code: r
    for r in (
        RegionSample(
            "QC-01",
            "Bas-Saint-Laurent",
            "418",
            ("QC-12", "QC-11", "QC-03"),
            (
                _t("Rimouski", "G5L", 48.4489, -68.5236, "rue de l'Évêché Ouest"),
                _t("Rivière-du-Loup", "G5R", 47.8353, -69.5363, "rue Lafontaine"),
                _t("Matane", "G4W", 48.8465, -67.5313, "avenue du Phare Est"),
                _t("Amqui", "G5J", 48.4633, -67.4314, "boulevard Saint-Benoît"),
            ),
        ),
        RegionSample(
            "QC-02",
            "Saguenay–Lac-Saint-Jean",
            "418",
            ("QC-03", "QC-04", "QC-09"),
            (
                _t("Saguenay", "G7H", 48.4279, -71.0685, "rue Racine Est"),
                _t("Alma", "G8B", 48.5501, -71.6496, "rue Sacré-Cœur Ouest"),
                _t("Roberval", "G8H", 48.5187, -72.2231, "boulevard Saint-Joseph"),
                _t("Dolbeau-Mistassini", "G8L", 48.8786, -72.2313, "boulevard Wallberg"),
            ),
        ),
        RegionSample(
            "QC-03",
            "Capitale-Nationale",
            "418",
            ("QC-12", "QC-04", "QC-02"),
            (
                _t("Québec", "G1K", 46.8139, -71.2080, "boulevard Charest Est"),
                _t("Baie-Saint-Paul", "G3Z", 47.4411, -70.4983, "rue Saint-Jean-Baptiste"),
                _t("Saint-Raymond", "G3L", 46.8993, -71.8343, "rue Saint-Joseph"),
                _t("La Malbaie", "G5A", 47.6540, -70.1530, "rue John-Nairne"),
            ),
        ),
        RegionSample(
            "QC-04",
            "Mauricie",
            "819",
            ("QC-03", "QC-17", "QC-14"),
            (
                _t("Trois-Rivières", "G9A", 46.3432, -72.5430, "rue des Forges"),
                _t("Shawinigan", "G9N", 46.5660, -72.7490, "avenue de la Station"),
                _t("Louiseville", "J5V", 46.2560, -72.9420, "avenue Saint-Laurent"),
                _t("La Tuque", "G9X", 47.4360, -72.7820, "rue Commerciale"),
            ),
        ),
        RegionSample(
            "QC-05",
            "Estrie",
            "819",
            ("QC-16", "QC-17", "QC-12"),
            (
                _t("Sherbrooke", "J1H", 45.4042, -71.8929, "rue King Ouest"),
                _t("Coaticook", "J1A", 45.1340, -71.8040, "rue Child"),
                _t("Lac-Mégantic", "G6B", 45.5770, -70.8840, "rue Frontenac"),
                _t("Magog", "J1X", 45.2660, -72.1480, "rue Principale Ouest"),
            ),
        ),
        RegionSample(
            "QC-06",
            "Montréal",
            "514",
            ("QC-13", "QC-16", "QC-15", "QC-14"),
            (
                _t("Montréal", "H1W", 45.5480, -73.5400, "rue Sainte-Catherine Est"),
                _t("Montréal", "H4C", 45.4770, -73.5870, "rue Notre-Dame Ouest"),
                _t("Montréal", "H2R", 45.5450, -73.6220, "rue Jarry Est"),
                _t("Montréal", "H2L", 45.5200, -73.5550, "rue Ontario Est"),
            ),
        ),
        RegionSample(
            "QC-11",
            "Gaspésie–Îles-de-la-Madeleine",
            "418",
            ("QC-01",),
            (
                _t("Carleton-sur-Mer", "G0C", 48.1040, -66.1280, "boulevard Perron"),
                _t("Gaspé", "G4X", 48.8310, -64.4870, "rue de la Reine"),
                _t("Sainte-Anne-des-Monts", "G4V", 49.1240, -66.4920, "1re Avenue Ouest"),
                _t("Cap-aux-Meules", "G4T", 47.3800, -61.8600, "chemin Principal"),
            ),
        ),
        RegionSample(
            "QC-12",
            "Chaudière-Appalaches",
            "418",
            ("QC-03", "QC-05", "QC-17", "QC-01"),
            (
                _t("Saint-Georges", "G5Y", 46.1180, -70.6690, "1re Avenue"),
                _t("Lévis", "G6V", 46.8030, -71.1770, "rue Saint-Laurent"),
                _t("Thetford Mines", "G6G", 46.0930, -71.3050, "boulevard Frontenac Ouest"),
                _t("Montmagny", "G5V", 46.9800, -70.5550, "chemin des Poirier"),
            ),
        ),
        RegionSample(
            "QC-16",
            "Montérégie",
            "450",
            ("QC-06", "QC-05", "QC-17", "QC-13"),
            (
                _t("Saint-Jean-sur-Richelieu", "J3B", 45.3070, -73.2620, "rue Richelieu"),
                _t("Saint-Hyacinthe", "J2S", 45.6300, -72.9560, "rue des Cascades"),
                _t("Granby", "J2G", 45.4000, -72.7330, "rue Principale"),
                _t("Longueuil", "J4K", 45.5310, -73.5180, "chemin de Chambly"),
            ),
        ),
        RegionSample(
            "QC-17",
            "Centre-du-Québec",
            "819",
            ("QC-04", "QC-05", "QC-16", "QC-12"),
            (
                _t("Victoriaville", "G6P", 46.0570, -71.9650, "rue Notre-Dame Est"),
                _t("Drummondville", "J2B", 45.8830, -72.4840, "rue Lindsay"),
                _t("Nicolet", "J3T", 46.2250, -72.6150, "rue Notre-Dame"),
                _t("Bécancour", "G9H", 46.3410, -72.4320, "boulevard Bécancour"),
            ),
        ),
    )
}
