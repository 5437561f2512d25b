"""The demo's sample network: 25 fictional pôles in 10 Québec regions, about 2,000 products.

Deterministic (one seeded ``random.Random``), so two runs and two machines get the same pôles,
the same catalog and the same prices. Every name of an organisation, farm or producer is made
up; the towns, regions and postal-code areas are real-looking so that the data reads like the
real thing. The cohort follows the real one: 17 OBNL and 8 co-operatives (68 % / 32 %).

Everything is built with the seller node's input models (:mod:`reseau_poles.seller.requests`),
so a pôle here is exactly what a pôle gives its node, through the repository or the API.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from reseau_poles.seller.requests import FulfillmentOptionIn, ItemIn, LocationIn, ProviderIn

DEFAULT_SEED = 2026
ITEMS_PER_POLE = 80


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

# (region, legal form, id, name, index of the town of its main warehouse): all made up.
POLES: tuple[tuple[str, str, str, str, int], ...] = (
    ("QC-01", "obnl", "pole-bas-du-fleuve", "Carrefour alimentaire du Bas-du-Fleuve", 0),
    ("QC-01", "cooperative", "coop-recoltes-loup", "Coopérative des Récoltes du Loup", 1),
    ("QC-01", "obnl", "pole-matanie", "Pôle logistique de la Matanie", 2),
    ("QC-02", "obnl", "pole-fjord", "Pôle agroalimentaire du Fjord", 0),
    ("QC-02", "cooperative", "coop-bleuets-lac", "Coopérative Bleuets et Terroir du Lac", 1),
    ("QC-03", "obnl", "entrepot-limoilou", "Entrepôt solidaire de Limoilou", 0),
    ("QC-03", "obnl", "pole-saveurs-charlevoix", "Pôle des Saveurs de Charlevoix", 1),
    ("QC-03", "cooperative", "coop-marche-portneuf", "Coopérative du Marché de Portneuf", 2),
    ("QC-04", "obnl", "pole-chenaux", "Pôle alimentaire des Chenaux", 0),
    ("QC-04", "obnl", "carrefour-shawinigan", "Carrefour nourricier de Shawinigan", 1),
    ("QC-05", "obnl", "pole-cantons", "Pôle régional des Cantons", 0),
    ("QC-05", "cooperative", "coop-terres-coaticook", "Coopérative Terres de Coaticook", 1),
    ("QC-05", "obnl", "reseau-granit", "Réseau alimentaire du Granit", 2),
    ("QC-06", "obnl", "plateforme-est", "Plateforme alimentaire de l'Est", 0),
    ("QC-06", "obnl", "pole-saint-henri", "Pôle Saint-Henri Alimentation", 1),
    ("QC-06", "cooperative", "coop-circuit-villeray", "Coopérative Circuit Court Villeray", 2),
    ("QC-06", "obnl", "entrepot-centre-sud", "Entrepôt nourricier du Centre-Sud", 3),
    ("QC-11", "obnl", "pole-produits-baie", "Pôle des Produits de la Baie", 0),
    ("QC-11", "cooperative", "coop-mer-terre-gaspe", "Coopérative Mer et Terre de Gaspé", 1),
    ("QC-12", "obnl", "pole-beauce", "Pôle agroalimentaire de la Beauce", 0),
    ("QC-12", "obnl", "carrefour-levis", "Carrefour alimentaire de Lévis", 1),
    ("QC-16", "obnl", "pole-maraicher-richelieu", "Pôle maraîcher du Richelieu", 0),
    ("QC-16", "cooperative", "coop-jardins-maskoutains", "Coopérative des Jardins maskoutains", 1),
    ("QC-17", "obnl", "pole-bois-francs", "Pôle alimentaire des Bois-Francs", 0),
    ("QC-17", "cooperative", "coop-recolte-drummond", "Coopérative Récolte Drummond", 1),
)

CATEGORIES: dict[str, str] = {
    "fruits": "Fruits",
    "legumes": "Légumes",
    "produits-laitiers": "Produits laitiers",
    "oeufs": "Œufs",
    "viandes": "Viandes",
    "poissons": "Poissons et fruits de mer",
    "erable": "Produits de l'érable",
    "boulangerie": "Boulangerie",
    "mets-prepares": "Mets préparés",
    "epicerie": "Épicerie",
    "boissons": "Boissons",
}


@dataclass(frozen=True)
class Product:
    """A product type; each pôle lists it with its own producer, price and stock."""

    sku: str
    name: str
    name_en: str
    category: str
    unit: str
    pack_size: str
    price: str  # CAD, for the pack
    conservation: str = "ambiant"
    taxable: bool = False
    prepared: bool = False  # transformed here: « Aliments préparés au Québec »
    season: tuple[int, ...] | None = None
    minimum: int = 1


def _p(*args: object, **kwargs: object) -> Product:
    return Product(*args, **kwargs)  # type: ignore[arg-type]


_FALL = (8, 9, 10, 11, 12, 1, 2, 3, 4)
_SUMMER = (6, 7, 8, 9)
# fmt: off
PRODUCTS: tuple[Product, ...] = (
    # Fruits
    _p("pommes-mcintosh-18kg", "Pommes McIntosh, caisse", "McIntosh apples, case", "fruits", "kg", "18", "34.00", season=_FALL),
    _p("pommes-cortland-3lb", "Pommes Cortland, sac de 3 lb", "Cortland apples, 3 lb bag", "fruits", "kg", "1.36", "4.49", season=_FALL),
    _p("pommes-honeycrisp-1kg", "Pommes Honeycrisp", "Honeycrisp apples", "fruits", "kg", "1", "5.25", season=_FALL),
    _p("pommes-spartan-18kg", "Pommes Spartan, caisse", "Spartan apples, case", "fruits", "kg", "18", "36.00", season=_FALL),
    _p("fraises-4l", "Fraises d'été, panier de 4 L", "Summer strawberries, 4 L basket", "fruits", "l", "4", "19.50", "refrigere", season=(6, 7)),
    _p("fraises-congelees-2kg", "Fraises entières congelées", "Frozen whole strawberries", "fruits", "kg", "2", "16.75", "congele"),
    _p("bleuets-sauvages-2kg", "Bleuets sauvages congelés", "Frozen wild blueberries", "fruits", "kg", "2", "17.90", "congele"),
    _p("bleuets-frais-1l", "Bleuets frais, casseau de 1 L", "Fresh blueberries, 1 L", "fruits", "l", "1", "7.25", "refrigere", season=(7, 8, 9)),
    _p("framboises-casseau", "Framboises, casseau de 340 g", "Raspberries, 340 g", "fruits", "g", "340", "5.99", "refrigere", season=(7, 8, 9)),
    _p("poires-bartlett-1kg", "Poires Bartlett", "Bartlett pears", "fruits", "kg", "1", "4.75", season=(8, 9, 10)),
    _p("cerises-de-terre", "Cerises de terre, casseau", "Ground cherries", "fruits", "g", "250", "4.50", "refrigere", season=(8, 9, 10)),
    _p("canneberges-fraiches", "Canneberges fraîches", "Fresh cranberries", "fruits", "kg", "1", "6.50", "refrigere", season=(9, 10, 11, 12)),
    _p("melon-cantaloup", "Melon cantaloup du Québec", "Québec cantaloupe", "fruits", "unite", "1", "3.99", season=(8, 9)),
    _p("prunes-bleues", "Prunes bleues", "Blue plums", "fruits", "kg", "1", "5.50", season=(8, 9)),
    _p("rhubarbe-botte", "Rhubarbe", "Rhubarb", "fruits", "botte", "1", "3.75", "refrigere", season=(5, 6, 7)),
    # Légumes
    _p("carottes-10lb", "Carottes, sac de 10 lb", "Carrots, 10 lb bag", "legumes", "kg", "4.54", "7.99"),
    _p("carottes-botte", "Carottes nouvelles en botte", "Bunched new carrots", "legumes", "botte", "1", "3.49", "refrigere", season=(7, 8, 9)),
    _p("pommes-de-terre-jaunes-50lb", "Pommes de terre jaunes, sac de 50 lb", "Yellow potatoes, 50 lb", "legumes", "kg", "22.7", "24.50"),
    _p("pommes-de-terre-grelots", "Pommes de terre grelots", "Baby potatoes", "legumes", "kg", "1.5", "5.49"),
    _p("oignons-jaunes-10lb", "Oignons jaunes, sac de 10 lb", "Yellow onions, 10 lb", "legumes", "kg", "4.54", "6.75"),
    _p("oignons-verts", "Oignons verts", "Green onions", "legumes", "botte", "1", "1.49", "refrigere", season=_SUMMER),
    _p("ail-du-quebec", "Ail du Québec", "Québec garlic", "legumes", "g", "250", "6.99", season=(8, 9, 10, 11, 12)),
    _p("brocoli", "Brocoli", "Broccoli", "legumes", "unite", "1", "2.99", "refrigere", season=(7, 8, 9, 10)),
    _p("chou-vert", "Chou vert", "Green cabbage", "legumes", "unite", "1", "2.79", season=(7, 8, 9, 10, 11)),
    _p("chou-fleur", "Chou-fleur", "Cauliflower", "legumes", "unite", "1", "3.99", "refrigere", season=(7, 8, 9, 10)),
    _p("laitue-romaine", "Laitue romaine", "Romaine lettuce", "legumes", "unite", "1", "2.49", "refrigere", season=(6, 7, 8, 9, 10)),
    _p("laitue-serre", "Laitue Boston de serre", "Greenhouse Boston lettuce", "legumes", "unite", "1", "2.99", "refrigere"),
    _p("tomates-serre-1kg", "Tomates de serre", "Greenhouse tomatoes", "legumes", "kg", "1", "5.49", "refrigere"),
    _p("tomates-cerises", "Tomates cerises de serre", "Greenhouse cherry tomatoes", "legumes", "g", "283", "3.99", "refrigere"),
    _p("concombres-anglais", "Concombres anglais de serre", "English cucumbers", "legumes", "unite", "1", "1.79", "refrigere"),
    _p("poivrons-rouges", "Poivrons rouges de serre", "Greenhouse red peppers", "legumes", "kg", "1", "7.50", "refrigere"),
    _p("betteraves-5lb", "Betteraves rouges, sac de 5 lb", "Red beets, 5 lb", "legumes", "kg", "2.27", "4.99"),
    _p("courge-butternut", "Courge Butternut", "Butternut squash", "legumes", "kg", "1", "2.49", season=(9, 10, 11, 12, 1)),
    _p("mais-sucre-douzaine", "Maïs sucré", "Sweet corn", "legumes", "douzaine", "1", "7.99", season=(8, 9)),
    _p("haricots-verts", "Haricots verts", "Green beans", "legumes", "kg", "1", "6.25", "refrigere", season=(7, 8, 9)),
    _p("poireaux", "Poireaux", "Leeks", "legumes", "botte", "1", "3.99", "refrigere", season=(8, 9, 10, 11)),
    _p("celeri", "Céleri", "Celery", "legumes", "unite", "1", "2.99", "refrigere", season=(8, 9, 10)),
    _p("champignons-blancs", "Champignons blancs", "White mushrooms", "legumes", "g", "454", "3.79", "refrigere"),
    _p("pleurotes", "Pleurotes", "Oyster mushrooms", "legumes", "g", "200", "5.25", "refrigere"),
    _p("epinards", "Épinards en feuilles", "Leaf spinach", "legumes", "g", "312", "3.99", "refrigere"),
    _p("rutabaga", "Navet (rutabaga)", "Rutabaga", "legumes", "kg", "1", "1.99", season=(9, 10, 11, 12, 1, 2, 3)),
    _p("panais", "Panais", "Parsnips", "legumes", "kg", "1", "3.75", season=(9, 10, 11, 12, 1, 2)),
    _p("choux-bruxelles", "Choux de Bruxelles", "Brussels sprouts", "legumes", "kg", "1", "6.49", "refrigere", season=(9, 10, 11)),
    _p("asperges", "Asperges vertes", "Green asparagus", "legumes", "botte", "1", "5.99", "refrigere", season=(5, 6)),
    _p("micropousses", "Micropousses de tournesol", "Sunflower microgreens", "legumes", "g", "100", "4.25", "refrigere"),
    _p("legumes-soupe-congeles", "Macédoine de légumes congelée", "Frozen mixed vegetables", "legumes", "kg", "2", "9.49", "congele", prepared=True),
    # Produits laitiers
    _p("lait-2-4l", "Lait 2 %", "2 % milk", "produits-laitiers", "l", "4", "6.59", "refrigere"),
    _p("lait-325-2l", "Lait entier 3,25 %", "Whole milk 3.25 %", "produits-laitiers", "l", "2", "4.39", "refrigere"),
    _p("creme-35", "Crème à cuisson 35 %", "Whipping cream 35 %", "produits-laitiers", "ml", "473", "4.79", "refrigere"),
    _p("yogourt-nature-2kg", "Yogourt nature 3 %", "Plain yogurt 3 %", "produits-laitiers", "kg", "2", "8.99", "refrigere"),
    _p("beurre-sale-454g", "Beurre salé", "Salted butter", "produits-laitiers", "g", "454", "6.49", "refrigere"),
    _p("cheddar-fort-1kg", "Cheddar fort vieilli", "Aged old cheddar", "produits-laitiers", "kg", "1", "21.50", "refrigere"),
    _p("fromage-grains-1kg", "Fromage en grains frais du jour", "Fresh cheese curds", "produits-laitiers", "kg", "1", "16.99", "refrigere"),
    _p("fromage-pate-molle", "Fromage à pâte molle croûte fleurie", "Bloomy-rind soft cheese", "produits-laitiers", "g", "200", "9.75", "refrigere"),
    _p("fromage-chevre", "Fromage de chèvre frais", "Fresh goat cheese", "produits-laitiers", "g", "150", "5.99", "refrigere"),
    _p("fromage-raclette", "Fromage à raclette", "Raclette cheese", "produits-laitiers", "kg", "1", "24.90", "refrigere"),
    _p("kefir", "Kéfir nature", "Plain kefir", "produits-laitiers", "l", "1", "5.49", "refrigere"),
    _p("creme-sure", "Crème sure 14 %", "Sour cream 14 %", "produits-laitiers", "ml", "500", "3.49", "refrigere"),
    # Œufs
    _p("oeufs-gros-douzaine", "Œufs gros blancs", "Large white eggs", "oeufs", "douzaine", "1", "4.29", "refrigere"),
    _p("oeufs-plein-air", "Œufs de poules en liberté", "Free-run eggs", "oeufs", "douzaine", "1", "5.99", "refrigere"),
    _p("oeufs-caisse-15dz", "Œufs moyens, caisse de 15 douzaines", "Medium eggs, 15 dozen case", "oeufs", "douzaine", "15", "52.00", "refrigere"),
    # Viandes
    _p("poulet-entier", "Poulet entier de grain", "Grain-fed whole chicken", "viandes", "kg", "2", "17.50", "refrigere"),
    _p("poitrines-poulet-2kg", "Poitrines de poulet désossées", "Boneless chicken breasts", "viandes", "kg", "2", "27.90", "congele"),
    _p("boeuf-hache-mi-maigre", "Bœuf haché mi-maigre", "Medium ground beef", "viandes", "kg", "1", "11.99", "refrigere"),
    _p("boeuf-hache-5kg", "Bœuf haché maigre, format institutionnel", "Lean ground beef, bulk", "viandes", "kg", "5", "62.50", "congele"),
    _p("roti-porc", "Rôti de longe de porc", "Pork loin roast", "viandes", "kg", "1", "10.49", "refrigere"),
    _p("cotelettes-porc", "Côtelettes de porc", "Pork chops", "viandes", "kg", "1", "9.99", "refrigere"),
    _p("saucisses-erable", "Saucisses de porc à l'érable", "Maple pork sausages", "viandes", "g", "500", "7.49", "refrigere", prepared=True),
    _p("gigot-agneau", "Gigot d'agneau du Québec", "Québec leg of lamb", "viandes", "kg", "1", "24.99", "congele"),
    _p("bison-hache", "Bison haché", "Ground bison", "viandes", "g", "454", "12.99", "congele"),
    _p("magret-canard", "Magret de canard", "Duck breast", "viandes", "g", "400", "16.50", "congele"),
    _p("dinde-hachee", "Dinde hachée", "Ground turkey", "viandes", "g", "454", "7.99", "refrigere"),
    _p("jambon-fume", "Jambon fumé à l'os", "Smoked bone-in ham", "viandes", "kg", "3", "32.00", "refrigere", prepared=True),
    _p("cretons", "Cretons maison", "Homemade cretons (pork spread)", "viandes", "g", "400", "5.99", "refrigere", prepared=True),
    # Poissons et fruits de mer
    _p("truite-arc-en-ciel", "Filets de truite arc-en-ciel", "Rainbow trout fillets", "poissons", "kg", "1", "23.50", "congele"),
    _p("crevettes-nordiques", "Crevettes nordiques cuites", "Cooked northern shrimp", "poissons", "g", "454", "14.99", "congele"),
    _p("homard-cuit", "Homard cuit entier", "Whole cooked lobster", "poissons", "unite", "1", "19.99", "congele", season=(5, 6, 7)),
    _p("fletan-filets", "Filets de flétan du Groenland", "Greenland halibut fillets", "poissons", "kg", "1", "27.00", "congele"),
    _p("petoncles", "Pétoncles des Îles", "Island scallops", "poissons", "g", "454", "24.50", "congele"),
    _p("moules-bleues", "Moules bleues", "Blue mussels", "poissons", "kg", "2", "9.99", "refrigere"),
    _p("hareng-fume", "Hareng fumé", "Smoked herring", "poissons", "g", "300", "8.49", "refrigere", prepared=True),
    # Produits de l'érable
    _p("sirop-erable-540ml", "Sirop d'érable ambré, goût riche", "Amber maple syrup, rich taste", "erable", "ml", "540", "11.99"),
    _p("sirop-erable-1l", "Sirop d'érable doré, goût délicat", "Golden maple syrup, delicate", "erable", "l", "1", "19.50"),
    _p("sirop-erable-4l", "Sirop d'érable, gallon de 4 L", "Maple syrup, 4 L jug", "erable", "l", "4", "62.00"),
    _p("beurre-erable", "Beurre d'érable", "Maple butter", "erable", "g", "250", "8.99", prepared=True),
    _p("sucre-erable", "Sucre d'érable granulé", "Granulated maple sugar", "erable", "g", "500", "14.50", prepared=True),
    _p("tire-erable", "Tire d'érable", "Maple taffy", "erable", "g", "350", "9.25", prepared=True),
    _p("flocons-erable", "Flocons d'érable", "Maple flakes", "erable", "g", "150", "7.99", prepared=True),
    # Boulangerie
    _p("pain-campagne", "Pain de campagne au levain", "Sourdough country bread", "boulangerie", "g", "800", "6.50", prepared=True),
    _p("pain-ble-entier", "Pain de blé entier tranché", "Sliced whole wheat bread", "boulangerie", "g", "675", "4.49", prepared=True),
    _p("baguette", "Baguette tradition", "Traditional baguette", "boulangerie", "unite", "1", "3.25", prepared=True),
    _p("pain-sarrasin", "Pain au sarrasin", "Buckwheat bread", "boulangerie", "g", "700", "6.99", prepared=True),
    _p("croissants-6", "Croissants au beurre, paquet de 6", "Butter croissants, 6-pack", "boulangerie", "unite", "6", "8.50", prepared=True),
    _p("muffins-bleuets-6", "Muffins aux bleuets, paquet de 6", "Blueberry muffins, 6-pack", "boulangerie", "unite", "6", "7.99", prepared=True),
    _p("tarte-sucre", "Tarte au sucre", "Sugar pie", "boulangerie", "unite", "1", "9.99", "refrigere", True, True),
    _p("pains-hamburger-12", "Pains à hamburger, paquet de 12", "Hamburger buns, 12-pack", "boulangerie", "unite", "12", "5.49", prepared=True),
    # Mets préparés
    _p("tourtiere", "Tourtière du Lac", "Lac-Saint-Jean meat pie", "mets-prepares", "kg", "1.2", "18.99", "congele", True, True),
    _p("pate-chinois", "Pâté chinois familial", "Shepherd's pie, family size", "mets-prepares", "kg", "1.5", "15.99", "congele", True, True),
    _p("soupe-pois", "Soupe aux pois", "Split pea soup", "mets-prepares", "l", "1", "6.99", "refrigere", True, True),
    _p("feves-au-lard", "Fèves au lard à l'érable", "Maple baked beans", "mets-prepares", "ml", "900", "5.99", "ambiant", False, True),
    _p("sauce-spaghetti", "Sauce à spaghetti à la viande", "Meat spaghetti sauce", "mets-prepares", "l", "1", "9.49", "congele", True, True),
    _p("ragout-boulettes", "Ragoût de boulettes", "Meatball stew", "mets-prepares", "kg", "1", "13.99", "congele", True, True),
    _p("potage-courge", "Potage à la courge", "Squash soup", "mets-prepares", "l", "1", "6.49", "refrigere", True, True),
    # Épicerie
    _p("farine-ble-2kg", "Farine de blé tout usage", "All-purpose wheat flour", "epicerie", "kg", "2.5", "5.99", prepared=True),
    _p("farine-sarrasin", "Farine de sarrasin", "Buckwheat flour", "epicerie", "kg", "1", "6.49", prepared=True),
    _p("flocons-avoine", "Flocons d'avoine", "Rolled oats", "epicerie", "kg", "1", "4.99", prepared=True),
    _p("miel-trefle", "Miel de trèfle non pasteurisé", "Raw clover honey", "epicerie", "g", "500", "9.99"),
    _p("miel-sarrasin", "Miel de sarrasin", "Buckwheat honey", "epicerie", "g", "500", "10.99"),
    _p("moutarde-ancienne", "Moutarde à l'ancienne", "Whole-grain mustard", "epicerie", "ml", "250", "5.49", prepared=True),
    _p("confiture-fraises", "Confiture de fraises", "Strawberry jam", "epicerie", "ml", "250", "5.99", prepared=True),
    _p("ketchup-fruits", "Ketchup aux fruits", "Fruit ketchup", "epicerie", "ml", "500", "6.99", prepared=True),
    _p("huile-canola", "Huile de canola pressée à froid", "Cold-pressed canola oil", "epicerie", "l", "1", "8.99", prepared=True),
    _p("pois-jaunes", "Pois jaunes cassés", "Yellow split peas", "epicerie", "kg", "1", "3.49"),
    _p("gourganes", "Gourganes séchées", "Dried broad beans", "epicerie", "g", "500", "4.99"),
    _p("canneberges-sechees", "Canneberges séchées", "Dried cranberries", "epicerie", "g", "500", "7.49", prepared=True),
    _p("cornichons", "Cornichons à l'aneth", "Dill pickles", "epicerie", "ml", "750", "5.49", prepared=True),
    _p("chicoutai-gelee", "Gelée de chicoutai", "Cloudberry jelly", "epicerie", "ml", "125", "8.99", prepared=True),
    # Boissons
    _p("jus-pommes-2l", "Jus de pommes pur", "Pure apple juice", "boissons", "l", "2", "4.99", prepared=True),
    _p("jus-canneberge", "Cocktail de canneberges", "Cranberry cocktail", "boissons", "l", "1.89", "4.49", "ambiant", True, True),
    _p("eau-erable", "Eau d'érable pure", "Pure maple water", "boissons", "ml", "500", "2.99", "refrigere", False, True, (3, 4, 5)),
    _p("cidre-petillant", "Pétillant de pommes sans alcool", "Sparkling apple drink", "boissons", "ml", "750", "6.99", "ambiant", True, True),
    _p("kombucha", "Kombucha gingembre", "Ginger kombucha", "boissons", "ml", "355", "3.99", "refrigere", True, True),
    _p("tisane-boreale", "Tisane boréale", "Boreal herbal tea", "boissons", "g", "30", "7.50", prepared=True),
    _p("cafe-torrefie", "Café torréfié ici, grains", "Locally roasted coffee beans", "boissons", "g", "340", "13.99", prepared=True),
    _p("lait-chocolat", "Lait au chocolat", "Chocolate milk", "boissons", "l", "1", "3.29", "refrigere", True, True),
)
# fmt: on

# In every pôle's catalog: what institutions order every week, and what the tour searches for.
STAPLES = (
    "sirop-erable-540ml",
    "pommes-mcintosh-18kg",
    "carottes-10lb",
    "pommes-de-terre-jaunes-50lb",
    "lait-2-4l",
    "oeufs-gros-douzaine",
    "fromage-grains-1kg",
    "pain-campagne",
)

_FARM_KIND = {
    "fruits": ("Verger", "Ferme fruitière", "Bleuetière", "Ferme"),
    "legumes": ("Ferme maraîchère", "Jardins", "Serres", "Ferme"),
    "produits-laitiers": ("Fromagerie", "Laiterie", "Ferme laitière"),
    "oeufs": ("Ferme avicole", "Ferme"),
    "viandes": ("Ferme d'élevage", "Boucherie", "Élevages"),
    "poissons": ("Pêcheries", "Fumoir", "Poissonnerie"),
    "erable": ("Érablière", "Sucrerie"),
    "boulangerie": ("Boulangerie", "Fournil"),
    "mets-prepares": ("Cuisine", "Traiteur"),
    "epicerie": ("Moulin", "Rucher", "Conserverie", "Ferme"),
    "boissons": ("Cidrerie", "Torréfacteur", "Brasserie de jus", "Herboristerie"),
}
_NAME_PARTS = (
    "du Ruisseau Vert",
    "des Trois Collines",
    "du Rang Croche",
    "de la Butte aux Pins",
    "des Deux Clochers",
    "du Coteau Doré",
    "de l'Anse Tranquille",
    "du Vieux Moulin",
    "des Quatre Vents",
    "de la Rivière aux Saules",
    "du Petit Brûlé",
    "des Érables Rouges",
    "du Cap Fleuri",
    "de la Savane",
    "des Trembles",
    "du Lac Caché",
    "de la Côte à Baptiste",
    "du Bout du Rang",
    "des Prés Fleuris",
    "de la Montagne Ronde",
    "du Grand Héron",
    "des Pionniers",
    "de la Baie Claire",
    "du Sous-Bois",
)


@dataclass
class SamplePole:
    """One pôle as its seller node gets it."""

    provider: ProviderIn
    locations: list[LocationIn] = field(default_factory=list)
    fulfillment_options: list[FulfillmentOptionIn] = field(default_factory=list)
    items: list[ItemIn] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.provider.id

    @property
    def region(self) -> str:
        return self.provider.region


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _postal_code(rng: random.Random, prefix: str) -> str:
    letters = "ABCEGHJKLMNPRSTVWXYZ"  # the letters Canada Post uses
    return f"{prefix} {rng.randint(1, 9)}{rng.choice(letters)}{rng.randint(0, 9)}"


def _certifications(rng: random.Random, product: Product, region: str) -> list[str]:
    organic = rng.random() < 0.22
    if product.prepared:
        found = ["aliments_prepares_au_quebec_bio" if organic else "aliments_prepares_au_quebec"]
    elif product.category == "epicerie" and rng.random() < 0.3:
        found = []  # local, without the label (small producers often skip it)
    else:
        found = ["aliments_du_quebec_bio" if organic else "aliments_du_quebec"]
    if organic:
        found.append("biologique_canada" if rng.random() < 0.6 else "biologique_quebec")
    if product.category in ("fruits", "legumes") and rng.random() < 0.4:
        found.append("canadagap")
    if product.category == "viandes" and rng.random() < 0.08:
        found.append("halal")
    if product.sku.startswith("sirop-erable") and region == "QC-03" and rng.random() < 0.5:
        found.append("indication_geographique_protegee")
    return found


def _producers(rng: random.Random, count: int = 3) -> dict[str, list[str]]:
    """A few made-up producers per category for one pôle."""
    chosen: dict[str, list[str]] = {}
    for category, kinds in _FARM_KIND.items():
        parts = rng.sample(_NAME_PARTS, count)
        chosen[category] = [f"{rng.choice(kinds)} {part}" for part in parts]
    return chosen


def _pole(rng: random.Random, index: int, plan: tuple[str, str, str, str, int]) -> SamplePole:
    region_code, legal_form, pole_id, name, town_index = plan
    region = REGIONS[region_code]
    town = region.towns[town_index]
    second = region.towns[(town_index + 2) % len(region.towns)]
    kind = "coopérative" if legal_form == "cooperative" else "organisme sans but lucratif"
    served = [region_code, *region.neighbours[: 1 + index % 2]]
    provider = ProviderIn(
        id=pole_id,
        name=name,
        short_desc=(
            f"Pôle logistique fictif ({kind}) de {region.name} : produits de "
            f"{len(_FARM_KIND)} familles, livrés aux écoles, CPE, hôpitaux et restaurants."
        ),
        legal_form=legal_form,
        region=region_code,
        served_regions=served,
        email=f"commandes@{pole_id}.example",
        phone=f"{region.area_code} 555-01{index:02d}",
        opening_hours="lun-ven 07:00-16:00",
        payment_types=(
            ["POST-FULFILLMENT", "ON-FULFILLMENT", "PRE-ORDER"]
            if legal_form == "cooperative"
            else ["POST-FULFILLMENT", "ON-FULFILLMENT"]
        ),
        net_days=30,
        cancellation_fee_percentage=Decimal(rng.choice(("0", "5", "10"))),
    )
    number = rng.randint(100, 2999)
    locations = [
        LocationIn(
            id="entrepot",
            name=f"Entrepôt de {town.name}",
            gps=f"{town.gps[0] + rng.uniform(-0.01, 0.01):.5f},"
            f"{town.gps[1] + rng.uniform(-0.01, 0.01):.5f}",
            address=f"{number}, {town.street}, {town.name} (Québec)",
            city=town.name,
            region=region_code,
            postal_code=_postal_code(rng, town.postal_prefix),
        )
    ]
    drop_point = index % 3 == 0 and second.name != town.name
    if drop_point:
        locations.append(
            LocationIn(
                id="point-de-chute",
                name=f"Point de chute de {second.name}",
                gps=f"{second.gps[0]:.5f},{second.gps[1]:.5f}",
                address=f"{rng.randint(10, 999)}, {second.street}, {second.name} (Québec)",
                city=second.name,
                region=region_code,
                postal_code=_postal_code(rng, second.postal_prefix),
            )
        )
    cold = ["refrigere", "congele"]
    options = [
        FulfillmentOptionIn(
            id="livraison-refrigeree",
            type="livraison",
            name=f"Livraison en camion réfrigéré — {region.name} et environs",
            regions=served,
            fee=_money(Decimal(rng.randint(30, 60))),
            lead_time_hours=rng.choice((24, 48)),
            cold_chain=cold,
            delivery_days="lun-ven",
            delivery_hours="07:00-16:00",
        ),
        FulfillmentOptionIn(
            id="livraison-sec",
            type="livraison",
            name="Livraison de produits secs",
            regions=[region_code, *region.neighbours],
            fee=_money(Decimal(rng.randint(15, 35))),
            lead_time_hours=rng.choice((48, 72)),
        ),
        FulfillmentOptionIn(
            id="cueillette",
            type="cueillette",
            name=f"Cueillette à l'entrepôt de {town.name}",
            regions=[region_code],
            fee=Decimal("0"),
            lead_time_hours=rng.choice((12, 24)),
            cold_chain=cold,
            location_id="entrepot",
        ),
    ]
    if drop_point:
        options.append(
            FulfillmentOptionIn(
                id="point-de-chute",
                type="point_de_chute",
                name=f"Point de chute de {second.name} (réfrigéré)",
                regions=[region_code],
                fee=_money(Decimal(rng.randint(5, 12))),
                lead_time_hours=48,
                cold_chain=["refrigere"],
                location_id="point-de-chute",
            )
        )
    return SamplePole(provider, locations, options, _catalog(rng, region_code))


def _catalog(rng: random.Random, region_code: str) -> list[ItemIn]:
    region = REGIONS[region_code]
    producers = _producers(rng)
    by_sku = {p.sku: p for p in PRODUCTS}
    others = [p.sku for p in PRODUCTS if p.sku not in STAPLES]
    if region_code not in ("QC-11", "QC-01", "QC-09"):
        # Sea products mostly come from the Gulf: inland pôles list fewer of them.
        others = [sku for sku in others if by_sku[sku].category != "poissons" or rng.random() < 0.3]
    chosen = list(STAPLES) + rng.sample(others, ITEMS_PER_POLE - len(STAPLES))
    items: list[ItemIn] = []
    for sku in chosen:
        product = by_sku[sku]
        producer = rng.choice(producers[product.category])
        origin = region_code if rng.random() < 0.8 else rng.choice(region.neighbours)
        price = _money(Decimal(product.price) * Decimal(str(round(rng.uniform(0.88, 1.18), 2))))
        big = Decimal(product.price) >= 30 or (
            product.unit in ("kg", "l", "douzaine") and Decimal(product.pack_size) >= 15
        )
        items.append(
            ItemIn(
                sku=product.sku,
                name=product.name,
                short_desc=f"{producer} — {CATEGORIES[product.category].lower()} de la région",
                name_en=product.name_en,
                category_id=product.category,
                category_name=CATEGORIES[product.category],
                unit=product.unit,
                pack_size=Decimal(product.pack_size),
                price=price,
                minimum_quantity=product.minimum,
                taxable=product.taxable,
                certifications=_certifications(rng, product, region_code),
                conservation=product.conservation,
                producer=producer,
                origin_region=origin,
                season_months=list(product.season) if product.season else None,
                stock=rng.randint(10, 60) if big else rng.randint(40, 600),
            )
        )
    return items


def sample_poles(seed: int = DEFAULT_SEED) -> list[SamplePole]:
    """The 25 pôles with their catalogs; the same for the same seed."""
    rng = random.Random(seed)
    return [_pole(rng, index, plan) for index, plan in enumerate(POLES)]


def assign_to_nodes(poles: Sequence[SamplePole], nodes: int) -> list[list[SamplePole]]:
    """Spread the pôles over ``nodes`` seller nodes, round robin: like a software vendor's
    node, each hosts pôles of several regions."""
    if not 1 <= nodes <= len(poles):
        raise ValueError(f"entre 1 et {len(poles)} nœuds vendeurs")
    return [list(poles[start::nodes]) for start in range(nodes)]
