"""The demo's sample network: 25 fictional pôles in 10 Québec regions, about 2,000 products.

Deterministic (one seeded ``random.Random``), so two runs and two machines get the same pôles,
the same catalog and the same prices. Every name of an organisation, farm or producer is made
up; the towns, regions and postal-code areas are real-looking so that the data reads like the
real thing. The cohort follows the real one: 17 OBNL and 8 co-operatives (68 % / 32 %).

Everything is built with the seller node's input models (:mod:`reseau_poles.seller.requests`),
so a pôle here is exactly what a pôle gives its node, through the repository or the API.

The data in :mod:`.regions` and :mod:`.products`, the pôles built from them in :mod:`.poles`;
this package gives the names the demo uses.
"""

from .poles import DEFAULT_SEED, ITEMS_PER_POLE, POLES, SamplePole, assign_to_nodes, sample_poles
from .products import CATEGORIES, PRODUCTS, STAPLES, Product
from .regions import REGIONS, RegionSample, Town

__all__ = [
    "CATEGORIES",
    "DEFAULT_SEED",
    "ITEMS_PER_POLE",
    "POLES",
    "PRODUCTS",
    "REGIONS",
    "STAPLES",
    "Product",
    "RegionSample",
    "SamplePole",
    "Town",
    "assign_to_nodes",
    "sample_poles",
]
