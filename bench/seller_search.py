"""Seller node search on a large catalog, in one run, with real servers on loopback:

(a) the search query itself, in-process (``SearchBackend.search``: count and first page,
    with the page's item rows since FTS5 reads them with the ranking), p50/p95 over a set
    of realistic buyer queries, next to two baselines measured on the same database in the
    same run: a primary-key lookup (the floor) and the LIKE scan the node used before full
    text (ids only);
(b) the HTTP path: a signed ``search`` to a real seller node (``reseau-poles seller serve``
    in a child process), ACK, the node's search, ``on_search`` through its outbox to a buyer
    receiver that verifies the signature through the registry; p50/p95 from the send to the
    verified receipt, and the size of the ``on_search`` bodies; ``GET /health`` on the same
    node as the HTTP floor;
(c) the order round trip: select → on_select → init → on_init → confirm → on_confirm, p95;
(d) the seller's CPU per answered search in the shape of bench/discovery.py (one pôle of
    2,000 items, « sirop d'érable » in every region, about 20 items an answer): in process,
    the thread CPU of ``SellerService.handle_search`` (search, documents, outbox row); over
    HTTP, the node process's CPU per search (its /proc times over the round). Each next to
    the same path for a search that finds nothing, measured in the same run: the fixed cost
    of an answer (verification, outbox, signing, delivery), so the difference is what the
    catalog itself costs.

    python bench/seller_search.py [--items 100000] [--providers 25] [--rounds 3]
                                  [--searches 40] [--orders 30] [--postgres URL]
                                  [--parts a,b,c,d]

The catalog (``--items`` products over ``--providers`` pôles, French names made from a
vocabulary of Québec products, varieties, qualifiers, formats and producers) is written
straight into the tables, through the repository's own text folding: the import path is not
what is measured. ``--postgres`` also runs (a) on that (empty) PostgreSQL database.
Figures are medians over ``--rounds`` rounds. Targets (issue 5): p95 < 10 ms for the query
itself on SQLite; select → confirm p95 < 100 ms on loopback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request  # module level, for FastAPI

from support import ServerThread, free_port, percentile

DOMAIN = "PLA:ALIMENTS"
BUYER_REGION = "QC-03"

# --- the catalog ------------------------------------------------------------------------------

# product, feminine, plural name, category, unit, conservation, varieties, English
PRODUCTS: list[tuple[str, bool, bool, str, str, str, list[str], str]] = [
    ("Pommes", True, True, "Fruits", "kg", "refrigere", ["Cortland", "McIntosh", "Honeycrisp", "Spartan", "Empire"], "Apples"),
    ("Fraises", True, True, "Fruits", "kg", "refrigere", ["d'été", "d'automne", "Seascape", "Jewel"], "Strawberries"),
    ("Bleuets", False, True, "Fruits", "kg", "congele", ["sauvages", "nains", "en corymbe"], "Blueberries"),
    ("Framboises", True, True, "Fruits", "kg", "refrigere", ["rouges", "jaunes", "d'automne"], "Raspberries"),
    ("Canneberges", True, True, "Fruits", "kg", "refrigere", ["fraîches", "séchées", "sucrées"], "Cranberries"),
    ("Poires", True, True, "Fruits", "kg", "refrigere", ["Bartlett", "Bosc", "d'Anjou"], "Pears"),
    ("Carottes", True, True, "Légumes", "kg", "refrigere", ["nantaises", "multicolores", "en botte"], "Carrots"),
    ("Pommes de terre", True, True, "Légumes", "kg", "ambiant", ["Russet", "grelots", "jaunes", "Yukon Gold"], "Potatoes"),
    ("Oignons", False, True, "Légumes", "kg", "ambiant", ["jaunes", "rouges", "espagnols", "verts"], "Onions"),
    ("Tomates", True, True, "Légumes", "kg", "refrigere", ["cerises", "de serre", "ancestrales", "italiennes"], "Tomatoes"),
    ("Laitue", True, False, "Légumes", "unite", "refrigere", ["frisée", "romaine", "Boston", "feuille de chêne"], "Lettuce"),
    ("Chou", False, False, "Légumes", "unite", "refrigere", ["vert", "rouge", "de Savoie", "nappa"], "Cabbage"),
    ("Courge", True, False, "Légumes", "kg", "ambiant", ["musquée", "spaghetti", "poivrée", "Hubbard"], "Squash"),
    ("Maïs sucré", False, False, "Légumes", "unite", "refrigere", ["bicolore", "jaune", "blanc"], "Sweet corn"),
    ("Brocoli", False, False, "Légumes", "kg", "refrigere", ["en couronne", "en botte"], "Broccoli"),
    ("Concombres", False, True, "Légumes", "kg", "refrigere", ["anglais", "libanais", "marinés"], "Cucumbers"),
    ("Poivrons", False, True, "Légumes", "kg", "refrigere", ["rouges", "verts", "jaunes", "orange"], "Peppers"),
    ("Ail", False, False, "Légumes", "kg", "ambiant", ["du Québec", "violet", "à tige dure"], "Garlic"),
    ("Champignons", False, True, "Légumes", "kg", "refrigere", ["pleurotes", "shiitakés", "de Paris"], "Mushrooms"),
    ("Fromage", False, False, "Produits laitiers", "kg", "refrigere", ["cheddar", "en grains", "de chèvre", "suisse", "à pâte molle", "bleu", "à raclette"], "Cheese"),
    ("Yogourt", False, False, "Produits laitiers", "l", "refrigere", ["nature", "grec", "à l'érable", "aux fraises", "à la vanille"], "Yogurt"),
    ("Lait", False, False, "Produits laitiers", "l", "refrigere", ["2 %", "entier", "au chocolat", "de chèvre"], "Milk"),
    ("Beurre", False, False, "Produits laitiers", "kg", "refrigere", ["salé", "doux", "de baratte", "à l'ail"], "Butter"),
    ("Crème", True, False, "Produits laitiers", "l", "refrigere", ["fraîche", "sure", "35 %", "15 % à cuisson"], "Cream"),
    ("Œufs", False, True, "Œufs", "douzaine", "refrigere", ["de poules en liberté", "de poules en parquet", "de caille", "extra gros"], "Eggs"),
    ("Sirop d'érable", False, False, "Produits de l'érable", "ml", "ambiant", ["ambré", "foncé", "très foncé", "doré"], "Maple syrup"),
    ("Beurre d'érable", False, False, "Produits de l'érable", "g", "refrigere", ["crémeux", "pur", "à tartiner"], "Maple butter"),
    ("Sucre d'érable", False, False, "Produits de l'érable", "g", "ambiant", ["granulé", "en pain", "mou"], "Maple sugar"),
    ("Miel", False, False, "Miel", "g", "ambiant", ["de trèfle", "de sarrasin", "crémeux", "de fleurs sauvages"], "Honey"),
    ("Farine", True, False, "Farines et céréales", "kg", "ambiant", ["de blé", "de sarrasin", "d'épeautre", "tout usage", "de seigle"], "Flour"),
    ("Flocons d'avoine", False, True, "Farines et céréales", "kg", "ambiant", ["à cuisson rapide", "épais", "sans gluten"], "Rolled oats"),
    ("Pain", False, False, "Boulangerie", "unite", "ambiant", ["au levain", "de seigle", "aux raisins", "multigrain", "aux noix"], "Bread"),
    ("Saucisses", True, True, "Viandes", "kg", "congele", ["de porc", "italiennes", "à l'érable", "de bison", "merguez"], "Sausages"),
    ("Bœuf haché", False, False, "Viandes", "kg", "congele", ["mi-maigre", "maigre", "extra-maigre"], "Ground beef"),
    ("Poulet", False, False, "Viandes", "kg", "congele", ["entier", "de grain", "en morceaux"], "Chicken"),
    ("Truite", True, False, "Poissons", "kg", "congele", ["fumée", "arc-en-ciel", "en filets"], "Trout"),
    ("Cidre", False, False, "Boissons", "ml", "ambiant", ["de glace", "pétillant", "rosé", "de feu"], "Cider"),
    ("Jus de pomme", False, False, "Boissons", "l", "refrigere", ["non filtré", "pétillant", "à la canneberge"], "Apple juice"),
    ("Confiture", True, False, "Tartinades", "ml", "ambiant", ["de fraises", "de bleuets", "de framboises", "d'argousier"], "Jam"),
    ("Tofu", False, False, "Protéines végétales", "g", "refrigere", ["ferme", "soyeux", "fumé"], "Tofu"),
]  # fmt: skip
QUALIFIERS = [
    ("biologique", "biologique", "biologiques"),
    ("fermier", "fermière", "fermiers"),
    ("artisanal", "artisanale", "artisanaux"),
    ("local", "locale", "locaux"),
    ("frais", "fraîche", "frais"),
    ("de saison", "de saison", "de saison"),
    ("équitable", "équitable", "équitables"),
]
FORMATS = {
    "kg": ["500 g", "1 kg", "2 kg", "5 lb", "10 kg", "caisse de 20 lb"],
    "l": ["1 L", "2 L", "4 L", "500 ml"],
    "ml": ["250 ml", "540 ml", "1 L", "375 ml", "750 ml"],
    "g": ["250 g", "500 g", "1 kg", "125 g"],
    "unite": ["l'unité", "caisse de 12", "caisse de 24"],
    "douzaine": ["la douzaine", "caisse de 15 douzaines"],
}
PRODUCERS = [
    "Ferme",
    "Érablière",
    "Fromagerie",
    "Verger",
    "Boulangerie",
    "Rucher",
    "Jardins",
    "Coop",
]
FAMILIES = ["Beauchemin", "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin",
            "Lavoie", "Fortin", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron",
            "Paquette", "Girard", "Simard", "des Appalaches", "du Rang 4", "de l'Île", "du Lac",
            "des Trois-Rivières", "Saint-Onge", "Nadeau"]  # fmt: skip
PHRASES = ["Cueilli à maturité.", "Récolte de la semaine.", "Sans agent de conservation.",
           "Produit à la ferme, en petits lots.", "Affiné sur place.", "Cultivé sans pesticides.",
           "Emballé le jour de l'expédition.", "Prix de gros pour les institutions.",
           "Idéal pour les cafétérias scolaires.", "Transformé dans notre cuisine."]  # fmt: skip
REGION_NAMES = {f"QC-{n:02d}": name for n, name in enumerate(
    ["Bas-Saint-Laurent", "Saguenay–Lac-Saint-Jean", "Capitale-Nationale", "Mauricie", "Estrie",
     "Montréal", "Outaouais", "Abitibi-Témiscamingue", "Côte-Nord", "Nord-du-Québec",
     "Gaspésie–Îles-de-la-Madeleine", "Chaudière-Appalaches", "Laval", "Lanaudière",
     "Laurentides", "Montérégie", "Centre-du-Québec"], start=1)}  # fmt: skip
CERTIFICATIONS = ["aliments_du_quebec", "aliments_prepares_au_quebec", "canadagap", "halal"]

# What buyers type (the first words of a cafeteria's shopping list), and filtered searches.
QUERIES: list[dict[str, Any]] = [
    {"text": t}
    for t in [
        "fromage",
        "sirop d'érable",
        "pommes",
        "POMMES CORTLAND",
        "carottes nantaises",
        "fromage de chèvre",
        "œufs",
        "oeufs de caille",
        "bio",
        "biologique",
        "fermière",
        "yogourt grec",
        "miel de sarrasin",
        "farine",
        "pain au levain",
        "fraises",
        "bleuets sauvages",
        "tomates cerises",
        "beurre d'érable",
        "saucisses érable",
        "truite fumée",
        "cidre de glace",
        "fro",
        "lait 2 %",
        "crème fraîche 35",
        "confiture de framboises",
        "tofu",
        "pommes de terre grelots",
        "Beauchemin",
        "maple",
        "kiwi",
        "courge musquée biologique 1 kg",
    ]
] + [
    {"text": "fromage", "conservation": "refrigere"},
    {"text": "sirop", "certifications": frozenset({"aliments_du_quebec"})},
    {"text": "pommes", "region": "QC-03"},
    {"text": "carottes", "category": "Légumes"},
]


@dataclass(frozen=True)
class Catalog:
    providers: list[dict[str, Any]]
    orderable: list[tuple[str, str, int]]  # provider id, SKU, minimum quantity (QC-03 pickup)


def provider_rows(count: int, rng: random.Random) -> list[dict[str, Any]]:
    regions = list(REGION_NAMES)
    rows = []
    for index in range(count):
        region = regions[index % len(regions)]
        served = sorted({region, *rng.sample(regions, rng.randint(0, 3))})
        if index % 5 == 0:
            served = sorted({*served, BUYER_REGION})
        rows.append(
            {
                "id": f"pole-{index + 1:02d}",
                "name": f"Pôle agroalimentaire {REGION_NAMES[region]} {index + 1}",
                "legal_form": "cooperative" if index % 2 else "obnl",
                "region": region,
                "served_regions": served,
            }
        )
    return rows


def item_row(provider: dict[str, Any], number: int, rng: random.Random) -> dict[str, Any]:
    from reseau_poles.protocol.profile import normalize_text
    from reseau_poles.seller.repositories import columns as column_repo

    product, feminine, plural, category, unit, conservation, varieties, english = rng.choice(
        PRODUCTS
    )
    parts = [product, rng.choice(varieties)]
    organic = False
    if rng.random() < 0.35:
        masculine, female, plurals = rng.choice(QUALIFIERS)
        parts.append(plurals if plural else female if feminine else masculine)
        organic = masculine == "biologique"
    parts.append(rng.choice(FORMATS[unit]))
    name = " ".join(parts)
    producer = f"{rng.choice(PRODUCERS)} {rng.choice(FAMILIES)}"
    short_desc = f"{producer}, {REGION_NAMES[provider['region']]}. {rng.choice(PHRASES)}"
    certifications = [c for c in CERTIFICATIONS if rng.random() < 0.3]
    if organic:
        certifications.append("biologique_canada")
    name_en = f"{english} {parts[1]}" if rng.random() < 0.3 else None
    now = datetime.now(UTC)
    return {
        "provider_id": provider["id"],
        "sku": f"{provider['id']}-{number:06d}",
        "name": name[:255],
        "short_desc": short_desc,
        "long_desc": None,
        "name_en": name_en,
        "short_desc_en": None,
        "category_id": normalize_text(category).replace(" ", "-").replace("'", "-"),
        "category_name": category,
        "unit": unit,
        "pack_size": Decimal(1),
        "price": Decimal(rng.randint(150, 9000)) / 100,
        "minimum_quantity": rng.choice([1, 1, 1, 2, 6, 12]),
        "maximum_quantity": None,
        "taxable": rng.random() < 0.1,
        "certifications": column_repo.codes(sorted(certifications)),
        "conservation": conservation,
        "producer": producer,
        "origin_region": provider["region"],
        "season_months": None,
        "image_url": None,
        "search_text": column_repo.search_text(
            name, short_desc, None, name_en, None, producer, category
        ),
        "name_normalized": normalize_text(name)[:255],
        "active": True,
        "created_at": now,
        "updated_at": now,
    }


def build_catalog(engine: Any, items_count: int, providers_count: int, seed: int = 5) -> Catalog:
    """Providers (with a pickup and a delivery option) through the repository; items and
    stock in bulk, with the repository's own text folding."""
    from sqlalchemy import insert, select

    from reseau_poles.seller.repositories import places as place_repo
    from reseau_poles.seller.repositories import providers as provider_repo
    from reseau_poles.seller.requests import FulfillmentOptionIn, LocationIn, ProviderIn
    from reseau_poles.seller.tables import items, stock
    from reseau_poles.storage import make_session_factory, write_session

    rng = random.Random(seed)
    providers = provider_rows(providers_count, rng)
    factory = make_session_factory(engine)
    with write_session(factory) as session:
        for row in providers:
            provider_repo.upsert_provider(session, ProviderIn(**row))
            place_repo.add_location(
                session,
                row["id"],
                LocationIn(id="entrepot", name="Entrepôt du pôle", region=row["region"]),
            )
            place_repo.add_fulfillment_option(
                session,
                row["id"],
                FulfillmentOptionIn(
                    id="cueillette",
                    type="cueillette",
                    name="Cueillette à l'entrepôt",
                    regions=[row["region"]],
                    cold_chain=["refrigere", "congele"],
                    location_id="entrepot",
                ),
            )
            place_repo.add_fulfillment_option(
                session,
                row["id"],
                FulfillmentOptionIn(
                    id="livraison",
                    type="livraison",
                    name="Livraison réfrigérée",
                    regions=row["served_regions"],
                    fee=Decimal("25.00"),
                    cold_chain=["refrigere", "congele"],
                ),
            )
    per_provider = items_count // providers_count
    chunk = 5000
    rows: list[dict[str, Any]] = []

    def flush() -> None:
        with write_session(factory) as session:
            session.execute(insert(items), rows)
            ids = session.execute(
                select(items.c.id).where(items.c.sku.in_([r["sku"] for r in rows]))
            ).scalars()
            now = datetime.now(UTC)
            session.execute(
                insert(stock),
                [{"item_id": i, "quantity": 1_000_000, "updated_at": now} for i in ids],
            )
        rows.clear()

    for number in range(items_count):
        rows.append(item_row(providers[number // per_provider % providers_count], number, rng))
        if len(rows) == chunk:
            flush()
    if rows:
        flush()
    with engine.begin() as connection:  # fresh statistics, as a running node would have
        connection.exec_driver_sql("ANALYZE")
    with write_session(factory) as session:
        orderable = [
            (row["provider_id"], row["sku"], row["minimum_quantity"])
            for row in session.execute(
                select(items.c.provider_id, items.c.sku, items.c.minimum_quantity)
                .where(items.c.provider_id.in_([p["id"] for p in providers[:5]]))
                .limit(200)
            ).mappings()
        ]
    return Catalog(providers, orderable)


# --- figures ----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def median_of(rounds: list[list[float]], fraction: float) -> float:
    return statistics.median(percentile(values, fraction) for values in rounds)


def show(label: str, rounds: list[list[float]], floor: float | None = None) -> float:
    p50, p95 = median_of(rounds, 0.50), median_of(rounds, 0.95)
    ratio = f"   ratio p95 {p95 / floor:7.1f}" if floor else ""
    print(f"  {label:<34} p50 {ms(p50)}   p95 {ms(p95)}{ratio}", flush=True)
    return p95


# --- (a) in-process --------------------------------------------------------------------------


def in_process(engine: Any, rounds: int, repeats: int) -> None:
    from sqlalchemy import func, select

    from reseau_poles.seller.repositories.search import LikeSearch, SearchQuery, make_search
    from reseau_poles.seller.tables import items
    from reseau_poles.storage import make_session_factory, read_session

    backend = make_search(engine)
    like = LikeSearch()
    factory = make_session_factory(engine)
    queries = [SearchQuery(limit=100, **q) for q in QUERIES]
    rng = random.Random(1)
    with read_session(factory) as session:
        top = session.execute(select(func.max(items.c.id))).scalar_one()
        found = {q.text: backend.search(session, q) for q in queries[:6]}
        print(
            "  correspondances : "
            + ", ".join(f"« {t} » {r.total}{'+' if r.more else ''}" for t, r in found.items())
        )
        for query in queries:  # warm the page cache: the catalog was just written
            backend.search(session, query)
        # Wall clock, and the thread's CPU time: on a shared machine the first includes the
        # wait for a core, the second is what the query costs.
        names = ("floor", "fts", "like")
        wall: dict[str, list[list[float]]] = {name: [] for name in names}
        cpu: dict[str, list[list[float]]] = {name: [] for name in names}

        def timed(name: str, run: Any) -> None:
            wall_start, cpu_start = time.perf_counter(), time.thread_time()
            run()
            cpu[name][-1].append(time.thread_time() - cpu_start)
            wall[name][-1].append(time.perf_counter() - wall_start)

        for _ in range(rounds):
            for name in names:
                wall[name].append([])
                cpu[name].append([])
            for _ in range(repeats):
                for query in queries:
                    wanted = rng.randint(1, top)
                    timed(
                        "floor",
                        lambda wanted=wanted: session.execute(
                            select(items.c.id, items.c.name).where(items.c.id == wanted)
                        ).first(),
                    )
                    timed("fts", lambda query=query: backend.search(session, query))
            for query in queries:  # the scan is slow: once per round
                timed("like", lambda query=query: like.search(session, query))
    cpu_label = "temps CPU"
    if engine.dialect.name != "sqlite":
        cpu_label += " de ce processus seulement (le serveur PostgreSQL travaille à part)"
    for label, figures in (("horloge", wall), (cpu_label, cpu)):
        print(f"  — {label} :")
        base = median_of(figures["floor"], 0.95)
        show("clé primaire (plancher)", figures["floor"])
        fts_p95 = show(f"recherche {backend.name}", figures["fts"], base)
        like_p95 = show("balayage LIKE (avant)", figures["like"], base)
        print(f"  {backend.name} contre LIKE : p95 {like_p95 / fts_p95:.0f}× plus rapide")


# --- (b) and (c): the node on loopback --------------------------------------------------------


class Receiver:
    """The buyer's side: verifies every callback's signature (registry lookup) and records
    when it arrived and how big it was."""

    def __init__(self, keys: Any, registry_url: str, registry_id: str) -> None:
        from reseau_poles.network import InboundMessage, NetworkSettings, NodeNetwork
        from reseau_poles.protocol.keys import open_challenge
        from reseau_poles.protocol.signing import Signer

        self.keys = keys
        self.signer = Signer(keys.subscriber_id, keys.key_id, keys.signing)
        self.arrived: dict[str, tuple[float, int, dict[str, Any]]] = {}
        self.condition = threading.Condition()
        network = NodeNetwork(
            subscriber_id=keys.subscriber_id,
            role="BAP",
            signer=self.signer,
            settings=NetworkSettings(registry_url=registry_url, registry_subscriber_id=registry_id),
        )

        @contextlib.asynccontextmanager
        async def lifespan(_app: FastAPI) -> Any:
            async with network:
                yield

        app = FastAPI(lifespan=lifespan)
        network.install(app)

        @app.post("/on_subscribe")
        async def on_subscribe(request: Request) -> dict[str, str]:
            challenge = json.loads(await request.body())["challenge"]
            return {"answer": open_challenge(keys.encryption, challenge)}

        async def receive(message: InboundMessage) -> None:
            now = time.perf_counter()
            with self.condition:
                self.arrived[message.message_id] = (now, len(message.body), message.payload)
                self.condition.notify_all()

        network.serve_protocol(app, receive)

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = ServerThread(app, self.port)

    def wait(self, message_id: str, timeout: float = 30) -> tuple[float, int, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self.condition:
            while message_id not in self.arrived:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"aucun rappel pour {message_id}")
                self.condition.wait(left)
            return self.arrived.pop(message_id)


@dataclass
class Node:
    url: str
    seller_id: str
    buyer: Receiver
    http: httpx.Client
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the seller node's process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def send(
        self,
        action: str,
        message: Any,
        transaction_id: str | None = None,
        city: str = BUYER_REGION,
    ) -> tuple[str, float]:
        from reseau_poles.protocol.models import format_datetime

        context = {
            "domain": DOMAIN,
            "location": {"city": {"code": city}, "country": {"code": "CAN"}},
            "action": action,
            "version": "1.1.0",
            "bap_id": self.buyer.keys.subscriber_id,
            "bap_uri": self.buyer.url,
            "bpp_id": self.seller_id,
            "bpp_uri": self.url,
            "transaction_id": transaction_id or str(uuid.uuid4()),
            "message_id": str(uuid.uuid4()),
            "timestamp": format_datetime(datetime.now(UTC)),
            "ttl": "PT30S",
        }
        raw = json.dumps({"context": context, "message": message}, ensure_ascii=False).encode()
        started = time.perf_counter()
        response = self.http.post(
            f"{self.url}/{action}",
            content=raw,
            headers={
                "Authorization": self.buyer.signer.sign(raw),
                "Content-Type": "application/json",
            },
        )
        if response.status_code != 200:
            raise RuntimeError(f"{action} refusé : {response.text[:300]}")
        return context["message_id"], started

    def call(
        self,
        action: str,
        message: Any,
        transaction_id: str | None = None,
        city: str = BUYER_REGION,
    ) -> tuple[float, int, dict[str, Any]]:
        message_id, started = self.send(action, message, transaction_id, city)
        arrived, size, payload = self.buyer.wait(message_id)
        if payload["message"] is None or "error" in payload:
            raise RuntimeError(f"on_{action} en erreur : {json.dumps(payload)[:300]}")
        return arrived - started, size, payload


def intent(query: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"item": {"descriptor": {"name": query["text"]}}}
    tags = []
    if query.get("certifications"):
        tags.append({"descriptor": {"code": "certifications"},
                     "list": [{"descriptor": {"code": c}, "value": "oui"} for c in sorted(query["certifications"])]})  # fmt: skip
    if query.get("conservation"):
        tags.append({"descriptor": {"code": "conservation"},
                     "list": [{"descriptor": {"code": "classe"}, "value": query["conservation"]}]})  # fmt: skip
    if tags:
        body["tags"] = tags
    if query.get("category"):
        body["category"] = {"id": query["category"]}
    return body


@contextlib.contextmanager
def running_node(database_url: str, tmp: Path) -> Iterator[Node]:
    from reseau_poles.keystore import KeyFiles
    from reseau_poles.network.registry_client import build_record, post_signed
    from reseau_poles.protocol.keys import SubscriberKeys
    from reseau_poles.protocol.signing import Signer
    from reseau_poles.registry.app import create_app as registry_app
    from reseau_poles.registry.settings import RegistrySettings

    registry_id = "registre.bench.example"
    registry_port = free_port()
    registry = ServerThread(
        registry_app(
            RegistrySettings(
                database_url=f"sqlite:///{tmp / 'registry.sqlite'}",
                key_dir=tmp / "registry-keys",
                subscriber_id=registry_id,
                snapshot_refresh_seconds=0.5,
                port=registry_port,
            )
        ),
        registry_port,
    ).start()
    registry_url = f"http://127.0.0.1:{registry_port}"
    seller_keys = SubscriberKeys.generate("vendeur.bench.example", "k1")
    KeyFiles(tmp / "seller-keys").write(seller_keys)
    seller_port = free_port()
    seller_url = f"http://127.0.0.1:{seller_port}"
    env = dict(os.environ) | {
        "RESEAU_POLES_DATABASE_URL": database_url,
        "RESEAU_POLES_SUBSCRIBER_ID": seller_keys.subscriber_id,
        "RESEAU_POLES_KEY_DIR": str(tmp / "seller-keys"),
        "RESEAU_POLES_PUBLIC_URL": seller_url,
        "RESEAU_POLES_PORT": str(seller_port),
        "RESEAU_POLES_HOST": "127.0.0.1",
        "RESEAU_POLES_REGISTRY_URL": registry_url,
        "RESEAU_POLES_REGISTRY_SUBSCRIBER_ID": registry_id,
    }
    seller = subprocess.Popen(
        [sys.executable, "-m", "reseau_poles.cli", "seller", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    buyer = Receiver(
        SubscriberKeys.generate("acheteur.bench.example", "k1"), registry_url, registry_id
    )
    buyer.server.start()
    http = httpx.Client(timeout=30)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if http.get(f"{seller_url}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if seller.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("le nœud vendeur n'a pas démarré")
            time.sleep(0.1)
        for keys, url, kind in ((seller_keys, seller_url, "BPP"), (buyer.keys, buyer.url, "BAP")):
            record = build_record(
                keys, url=url, type=kind, domains=[DOMAIN], regions=[BUYER_REGION]
            )
            signer = Signer(keys.subscriber_id, keys.key_id, keys.signing)
            post_signed(http, f"{registry_url}/subscribe", record, signer).raise_for_status()
        yield Node(seller_url, seller_keys.subscriber_id, buyer, http, seller.pid)
    finally:
        http.close()
        seller.terminate()
        seller.wait(10)
        buyer.server.stop()
        registry.stop()


def over_http(node: Node, catalog: Catalog, rounds: int, searches: int, orders: int) -> None:
    node.call("search", {"intent": intent({"text": "fromage"})})  # warm: registry lookups, caches
    health_rounds, search_rounds, sizes, counts = [], [], [], []
    cpu_start = node.cpu_seconds()
    for _ in range(rounds):
        health, timings = [], []
        for index in range(searches):
            started = time.perf_counter()
            node.http.get(f"{node.url}/health")
            health.append(time.perf_counter() - started)
            query = QUERIES[index % len(QUERIES)]
            elapsed, size, payload = node.call("search", {"intent": intent(query)})
            timings.append(elapsed)
            sizes.append(size)
            code = payload["message"]["catalog"]["descriptor"]["code"]
            counts.append(int(code.split(":")[1].split("/")[0]))
        health_rounds.append(health)
        search_rounds.append(timings)
    searched = (node.cpu_seconds() - cpu_start) / (rounds * searches)
    floor = median_of(health_rounds, 0.95)
    show("GET /health (plancher HTTP)", health_rounds)
    show("search → on_search vérifié", search_rounds, floor)
    print(f"  temps CPU du nœud vendeur par recherche (avec /health) : {searched * 1000:.1f} ms")
    full = [s for s, c in zip(sizes, counts, strict=True) if c >= 100]
    print(
        f"  taille des on_search : médiane {statistics.median(sizes) / 1024:.1f} Kio, "
        f"max {max(sizes) / 1024:.1f} Kio ; pleins (100 articles) : médiane "
        f"{statistics.median(full) / 1024 if full else 0:.1f} Kio ; articles par réponse : "
        f"médiane {statistics.median(counts):.0f}",
        flush=True,
    )
    if not orders:
        return
    billing = {
        "name": "Centre de services scolaire de la Capitale",
        "address": "1900, rue Côté, Québec (Québec) G1N 3Y5",
        "email": "comptes@cscapitale.example",
        "phone": "+1-418-555-0100",
    }
    order_rounds = []
    rng = random.Random(7)
    cpu_start = node.cpu_seconds()
    for _ in range(rounds):
        timings = []
        for _ in range(orders):
            provider_id, sku, minimum = rng.choice(catalog.orderable)
            order = {
                "provider": {"id": provider_id},
                "items": [{"id": sku, "quantity": {"selected": {"count": minimum}}}],
                "fulfillments": [{"id": "livraison", "stops": [{"type": "end", "location": {
                    "address": "1100, boul. de la Cafétéria, Québec", "city": {"code": BUYER_REGION},
                    "country": {"code": "CAN"}}}]}],
            }  # fmt: skip
            transaction = str(uuid.uuid4())
            started = time.perf_counter()
            node.call("select", {"order": order}, transaction)
            initialized = {**order, "billing": billing, "payments": [{"type": "POST-FULFILLMENT"}]}
            node.call("init", {"order": initialized}, transaction)
            node.call("confirm", {"order": initialized}, transaction)
            timings.append(time.perf_counter() - started)
        order_rounds.append(timings)
    ordered = (node.cpu_seconds() - cpu_start) / (rounds * orders)
    show("select → confirm (3 allers-retours)", order_rounds, floor)
    print(
        f"  temps CPU du nœud vendeur par commande (select, init, confirm) : {ordered * 1000:.1f} ms"
    )


# --- (d) CPU per answered search, in the shape of bench/discovery.py ---------------------------

DISCOVERY_QUERY = "sirop d'érable"
NOTHING_QUERY = "introuvable"


def discovery_catalog(url: str) -> None:
    """One pôle and bench/discovery.py's 2,000 items of seller 3, through the repository."""
    from discovery import catalog  # bench/discovery.py: the same generated items
    from reseau_poles.seller.app import migrate
    from reseau_poles.seller.repositories import products as product_repo
    from reseau_poles.seller.repositories import providers as provider_repo
    from reseau_poles.seller.requests import ProviderIn
    from reseau_poles.storage import make_engine, make_session_factory, write_session

    engine = make_engine(url)
    migrate(engine)
    with write_session(make_session_factory(engine)) as session:
        provider_repo.upsert_provider(
            session,
            ProviderIn(
                id="pole-03",
                name="Pôle bench 03",
                legal_form="obnl",
                region="QC-04",
                served_regions=["QC-04"],
                payment_types=["POST-FULFILLMENT"],
                net_days=30,
            ),
        )
        for item in catalog(3, 2000):
            product_repo.upsert_item(session, "pole-03", item)
    engine.dispose()


def search_payload(text: str) -> dict[str, Any]:
    from reseau_poles.protocol.models import format_datetime

    return {
        "context": {
            "domain": DOMAIN,
            "location": {"city": {"code": "*"}, "country": {"code": "CAN"}},
            "action": "search",
            "version": "1.1.0",
            "bap_id": "acheteur.bench.example",
            "bap_uri": "http://127.0.0.1:9",
            "bpp_id": "vendeur.bench.example",
            "bpp_uri": "http://127.0.0.1:9",
            "transaction_id": str(uuid.uuid4()),
            "message_id": str(uuid.uuid4()),
            "timestamp": format_datetime(datetime.now(UTC)),
            "ttl": "PT30S",
        },
        "message": {"intent": intent({"text": text})},
    }


def cpu_per_search_in_process(url: str, tmp: Path, rounds: int, searches: int) -> None:
    """``handle_search`` in this thread, on a service of its own (its outbox rows are never
    sent): thread CPU per search, median over the rounds."""
    from reseau_poles.keystore import KeyFiles
    from reseau_poles.network import migrate as migrate_network
    from reseau_poles.protocol.keys import SubscriberKeys
    from reseau_poles.seller.app import create_app
    from reseau_poles.seller.settings import SellerSettings

    keys = SubscriberKeys.generate("vendeur.bench.example", "k1")
    KeyFiles(tmp / "process-keys").write(keys)
    settings = SellerSettings(
        database_url=url,
        subscriber_id=keys.subscriber_id,
        key_dir=tmp / "process-keys",
        public_url="http://127.0.0.1:9",
        registry_url="http://127.0.0.1:9",
        registry_subscriber_id="registre.bench.example",
        log_level="WARNING",
    )
    service = create_app(settings, network_settings=settings.network_settings()).state.service
    migrate_network(service.engine)
    figures: dict[str, list[float]] = {NOTHING_QUERY: [], DISCOVERY_QUERY: []}
    for text in figures:
        for _ in range(searches):  # warm: statements compiled, documents rendered
            service.handle_search(search_payload(text))
    for _ in range(rounds):
        for text, found in figures.items():
            payloads = [search_payload(text) for _ in range(searches)]
            started = time.thread_time()
            for payload in payloads:
                service.handle_search(payload)
            found.append((time.thread_time() - started) / searches)
    service.engine.dispose()
    nothing = statistics.median(figures[NOTHING_QUERY])
    syrup = statistics.median(figures[DISCOVERY_QUERY])
    print(f"  — en processus, temps CPU de handle_search (médiane de {rounds} tours) :")
    print(f"  {'aucun résultat (plancher)':<34} {ms(nothing)}")
    print(
        f"  {'« ' + DISCOVERY_QUERY + ' »':<34} {ms(syrup)}   dont catalogue {ms(syrup - nothing)}"
    )


def cpu_per_search_over_http(node: Node, rounds: int, searches: int) -> None:
    """The node process's CPU per search (HTTP, verification, search, outbox, signing,
    delivery), median over the rounds."""
    figures: dict[str, list[float]] = {NOTHING_QUERY: [], DISCOVERY_QUERY: []}
    items: list[int] = []
    for text in figures:
        for _ in range(5):  # warm: registry lookups, statements, documents
            node.call("search", {"intent": intent({"text": text})}, city="*")
    for _ in range(rounds):
        for text, found in figures.items():
            started = node.cpu_seconds()
            for _ in range(searches):
                _, _, payload = node.call("search", {"intent": intent({"text": text})}, city="*")
                code = payload["message"]["catalog"]["descriptor"]["code"]
                if text == DISCOVERY_QUERY:
                    items.append(int(code.split(":")[1].split("/")[0]))
            found.append((node.cpu_seconds() - started) / searches)
    nothing = statistics.median(figures[NOTHING_QUERY])
    syrup = statistics.median(figures[DISCOVERY_QUERY])
    print(f"  — HTTP, temps CPU du processus vendeur par recherche (médiane de {rounds} tours) :")
    print(f"  {'aucun résultat (plancher)':<34} {ms(nothing)}")
    print(
        f"  {'« ' + DISCOVERY_QUERY + ' »':<34} {ms(syrup)}   dont catalogue "
        f"{ms(syrup - nothing)}   ({statistics.median(items):.0f} articles par réponse)",
        flush=True,
    )


def discovery_shape(tmp: Path, rounds: int, searches: int) -> None:
    folder = tmp / "decouverte"
    folder.mkdir()
    url = f"sqlite:///{folder / 'seller.sqlite'}"
    discovery_catalog(url)
    # A copy for the in-process service: its outbox rows (never sent) must not become the
    # node's work.
    copy = folder / "process.sqlite"
    shutil.copyfile(folder / "seller.sqlite", copy)
    cpu_per_search_in_process(f"sqlite:///{copy}", folder, rounds, searches)
    with running_node(url, folder) as node:
        cpu_per_search_over_http(node, rounds, searches)


def main(arguments: argparse.Namespace) -> None:
    from reseau_poles.seller.app import migrate
    from reseau_poles.storage import make_engine

    parts = set(arguments.parts.split(","))
    load = os.getloadavg()[0]
    print(f"Machine : {os.cpu_count()} cœurs, charge moyenne (1 min) {load:.1f} au départ")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if parts & {"a", "b", "c"}:
            url = f"sqlite:///{tmp / 'seller.sqlite'}"
            engine = make_engine(url)
            migrate(engine)
            print(
                f"Catalogue : {arguments.items} produits, {arguments.providers} pôles (SQLite)…",
                flush=True,
            )
            started = time.perf_counter()
            catalog = build_catalog(engine, arguments.items, arguments.providers)
            print(f"  écrit et indexé en {time.perf_counter() - started:.1f} s", flush=True)
        if "a" in parts:
            print(f"(a) Requête seule, en processus, {len(QUERIES)} recherches types, SQLite :")
            in_process(engine, arguments.rounds, arguments.repeats)
        if parts & {"a", "b", "c"}:
            engine.dispose()
        if "a" in parts and arguments.postgres:
            engine = make_engine(arguments.postgres)
            migrate(engine)
            print("    PostgreSQL : écriture du même catalogue…", flush=True)
            build_catalog(engine, arguments.items, arguments.providers)
            print("(a') Requête seule, en processus, PostgreSQL :")
            in_process(engine, arguments.rounds, arguments.repeats)
            engine.dispose()
        if parts & {"b", "c"}:
            print(
                "(b) HTTP : nœud vendeur réel (processus enfant), acheteur qui vérifie :",
                flush=True,
            )
            with running_node(url, tmp) as node:
                orders = arguments.orders if "c" in parts else 0
                over_http(node, catalog, arguments.rounds, arguments.searches, orders)
        if "d" in parts:
            print(
                f"(d) Temps CPU par recherche répondue, forme de discovery.py : 1 pôle de "
                f"2000 articles, « {DISCOVERY_QUERY} » dans toutes les régions, "
                f"{arguments.searches} recherches par tour :",
                flush=True,
            )
            discovery_shape(tmp, arguments.rounds, arguments.searches)
    print(f"Charge moyenne (1 min) à la fin : {os.getloadavg()[0]:.1f}")
    print("Cibles (issue 5) : requête p95 < 10 ms (SQLite) ; select → confirm p95 < 100 ms.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--providers", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5, help="passes over the queries (a)")
    parser.add_argument("--searches", type=int, default=40, help="HTTP searches per round (b)")
    parser.add_argument("--orders", type=int, default=30, help="select → confirm per round (c)")
    parser.add_argument("--postgres", help="an empty PostgreSQL database for (a) as well")
    parser.add_argument("--parts", default="a,b,c,d", help="which parts to run: a,b,c,d")
    main(parser.parse_args())
