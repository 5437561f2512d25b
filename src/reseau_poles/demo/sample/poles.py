"""The 25 sample pôles, built from one seeded ``random.Random``: each with its provider record,
its places, its fulfilment options and its catalog, as its seller node gets them; and their
spread over seller nodes."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from reseau_poles.seller.requests import FulfillmentOptionIn, ItemIn, LocationIn, ProviderIn

from .products import CATEGORIES, FARM_KIND, NAME_PARTS, PRODUCTS, STAPLES, Product
from .regions import REGIONS

DEFAULT_SEED = 2026
ITEMS_PER_POLE = 80

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
    for category, kinds in FARM_KIND.items():
        parts = rng.sample(NAME_PARTS, count)
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
            f"{len(FARM_KIND)} familles, livrés aux écoles, CPE, hôpitaux et restaurants."
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
