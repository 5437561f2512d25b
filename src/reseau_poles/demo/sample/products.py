"""What the sample pôles sell: the categories, about 125 Québec products with their unit,
pack, price, taxes, conservation and season, the staples every pôle carries, and the words
the made-up producers' names are built from."""

from __future__ import annotations

from dataclasses import dataclass

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

FARM_KIND = {
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
NAME_PARTS = (
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
