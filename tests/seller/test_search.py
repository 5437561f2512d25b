"""Catalog search on both databases: FTS5 on SQLite, tsvector + unaccent on PostgreSQL.

What a buyer types finds what a pôle wrote, whatever the case, accents, plural or gender;
names rank first; filters narrow; the index follows every insert, update and delete; user
text is never engine syntax; the HTTP search answers on_search with the same results.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, text, update

from reseau_poles.seller.app import migrate
from reseau_poles.seller.repositories import products as product_repo
from reseau_poles.seller.repositories import providers as provider_repo
from reseau_poles.seller.repositories.search import (
    Fts5Search,
    LikeSearch,
    SearchBackend,
    SearchQuery,
    make_search,
)
from reseau_poles.seller.repositories.search_postgres import PostgresSearch
from reseau_poles.seller.repositories.search_text import (
    french_stem,
    fts5_query,
    query_words,
    tsquery_terms,
)
from reseau_poles.seller.requests import ItemIn, ProviderIn
from reseau_poles.seller.tables import items, stock, stock_movements
from reseau_poles.storage import make_engine, make_session_factory, read_session, write_session
from tests.conftest import POSTGRES_URL, REQUIRE_SERVICES, _backends, _postgres_admin_url

from .support import APPLES, CAPITALE, CHIPS, CURDS, ESTRIE, SYRUP, load_catalog

MAURICIE = "pole-mauricie"
# sku: (name, short description, category, certifications, conservation)
EXTRA: dict[str, tuple[str, str | None, str, list[str], str]] = {
    "creme-fraiche": ("Crème fraîche 35 %", "Épaisse et onctueuse", "Produits laitiers", [], "refrigere"),
    "chevre-frais": ("Fromage de chèvre frais", "Affiné 3 jours", "Produits laitiers", ["biologique_canada"], "refrigere"),
    "fraises": ("Fraises d'été", "Cueillies à la main", "Fruits", ["aliments_du_quebec"], "refrigere"),
    "oeufs": ("Œufs de poules en liberté", "Douzaine, calibre gros", "Œufs", ["aliments_du_quebec"], "refrigere"),
    "gouda": ("Gouda fermier vieilli", "Lait cru de la ferme", "Produits laitiers", [], "refrigere"),
    "cidre": ("Cidre de glace de la fermière", "Pommes gelées sur l'arbre", "Boissons", [], "ambiant"),
    "tire": ("Tire sur la neige", "Tire d'érable coulée sur la neige", "Confiseries", [], "congele"),
    "miel": ("Miel naturel de trèfle", "Miel cru non pasteurisé", "Miel", ["biologique_canada"], "ambiant"),
    "farine": ("Farine de sarrasin biologique", "Moulue sur pierre", "Farines", ["biologique_canada"], "ambiant"),
    "tomates": ("Tomates cerises", "Serre chauffée, savoureuses", "Légumes", [], "refrigere"),
    "bleuets": ("Bleuets sauvages surgelés", "Du Lac-Saint-Jean", "Fruits", [], "congele"),
    "laitue": ("Laitue frisée", "Hydroponique", "Légumes", [], "refrigere"),
}  # fmt: skip


def load_search_catalog(engine: Engine) -> dict[str, int]:
    """The seller test catalog (two pôles) and a third pôle with a dozen more products."""
    ids = load_catalog(engine)
    with write_session(make_session_factory(engine)) as session:
        provider_repo.upsert_provider(
            session,
            ProviderIn(
                id=MAURICIE,
                name="Pôle agroalimentaire de la Mauricie",
                legal_form="cooperative",
                region="QC-04",
                served_regions=["QC-04", "QC-17"],
            ),
        )
        for sku, (name, desc, category, certifications, conservation) in EXTRA.items():
            ids[sku] = product_repo.upsert_item(
                session,
                MAURICIE,
                ItemIn(
                    sku=sku,
                    name=name,
                    short_desc=desc,
                    category_id=category.lower().replace(" ", "-"),
                    category_name=category,
                    price=Decimal("5.00"),
                    certifications=certifications,
                    conservation=conservation,
                    stock=10,
                ),
            )
    return ids


@contextlib.contextmanager
def fresh_database(kind: str, directory: Path) -> Iterator[str]:
    """Like the ``database_url`` fixture, for fixtures wider than one test."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'search.sqlite'}"
        return
    import psycopg

    name = f"rp_search_{uuid.uuid4().hex[:12]}"
    admin = _postgres_admin_url()
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if REQUIRE_SERVICES:
            raise
        pytest.skip(f"PostgreSQL indisponible : {exc}")
    base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=_backends())
def catalog(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, dict[str, int]]]:
    """The search catalog, loaded once per module and database: tests that only read it."""
    with fresh_database(request.param, tmp_path_factory.mktemp("search")) as url:
        engine = make_engine(url)
        migrate(engine)
        yield engine, load_search_catalog(engine)
        engine.dispose()


@pytest.fixture
def own_catalog(database_url: str) -> Iterator[tuple[Engine, dict[str, int]]]:
    """The search catalog in a database of its own: tests that change it."""
    engine = make_engine(database_url)
    migrate(engine)
    yield engine, load_search_catalog(engine)
    engine.dispose()


def run(engine: Engine, backend: SearchBackend, **query: Any) -> list[int]:
    with read_session(make_session_factory(engine)) as session:
        return backend.search(session, SearchQuery(**query)).item_ids


def test_make_search_uses_the_database_engine(catalog: tuple[Engine, dict[str, int]]) -> None:
    engine, _ids = catalog
    backend = make_search(engine)
    expected = {"sqlite": Fts5Search, "postgresql": PostgresSearch}[engine.dialect.name]
    assert isinstance(backend, expected)
    assert isinstance(make_search(None), LikeSearch)


def test_case_accents_plurals_and_gender(catalog: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = catalog
    search = make_search(engine)

    def found(words: str, **query: Any) -> set[int]:
        return set(run(engine, search, text=words, **query))

    # « Pommes », "pomme", "POMMÉ": the apples (in the name) and the ice cider (description).
    assert found("Pommes") == found("pomme") == found("POMMÉ") == {ids[APPLES], ids["cidre"]}
    assert found("erable") == found("ÉRABLE") == {ids[SYRUP], ids[CHIPS], ids["tire"]}
    assert found("oeufs") == found("œuf") == found("OEUF") == {ids["oeufs"]}
    assert found("d’érable sirop") == {ids[SYRUP]}  # typographic apostrophe, any order
    assert found("maple") == {ids[SYRUP]}  # the English name is searched too
    # Gender and number: one form finds the others.
    assert found("fraîches") == found("fraiche") == {ids["creme-fraiche"]}
    assert found("fermière") == found("fermier") == {ids["gouda"], ids["cidre"]}
    assert found("naturelle") == {ids["miel"]}
    assert found("savoureuse") == {ids["tomates"]}
    assert found("biologiques") >= {ids[SYRUP], ids["farine"]}
    # Prefixes: what a person types while the list updates.
    assert found("bleu") == {ids["bleuets"]}
    assert found("fromag") == {ids[CURDS], ids["chevre-frais"]}
    # Stop words alone do not empty the query; an unknown word finds nothing.
    assert found("de la") == found("")
    assert found("kiwi") == set()
    assert found("pomme kiwi") == set()  # every word is required


def test_names_rank_first(catalog: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = catalog
    search = make_search(engine)
    ranked = run(engine, search, text="érable")
    # The tire only says « érable » in its description: after both names.
    assert set(ranked[:2]) == {ids[SYRUP], ids[CHIPS]} and ranked[2] == ids["tire"]
    ranked = run(engine, search, text="pommes")
    assert ranked == [ids[APPLES], ids["cidre"]]
    ranked = run(engine, search, text="lait")  # « Laitue » by name, the rest by description
    assert ranked[0] == ids["laitue"] and ids["gouda"] in ranked[1:]


def test_filters_with_and_without_text(catalog: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = catalog
    search = make_search(engine)

    def found(**query: Any) -> set[int]:
        return set(run(engine, search, **query))

    organic = frozenset({"biologique_canada"})
    assert found(text="fromage", certifications=organic) == {ids["chevre-frais"]}
    assert found(text="miel", conservation="refrigere") == set()
    assert found(conservation="congele") == {ids["tire"], ids["bleuets"]}
    assert found(text="fromage", provider_id=CAPITALE) == {ids[CURDS]}
    assert found(text="pomme", provider_id=ESTRIE) == {ids[APPLES]}
    assert found(text="pomme", region="QC-17") == {ids["cidre"]}  # served by Mauricie only
    assert found(text="pomme", region="QC-05") == {ids[APPLES]}
    assert found(text="frais", category="produits laitiers") == {
        ids[CURDS],  # « Frais du jour »
        ids["chevre-frais"],
        ids["creme-fraiche"],  # frais → frai… (plural folded) also begins « fraîche »
    }
    assert found(text="fraise", category="fruits") == {ids["fraises"]}
    assert found(item_id="gouda", text="gouda") == {ids["gouda"]}
    assert found(text="erable", region="*") == {ids[SYRUP], ids[CHIPS], ids["tire"]}
    with read_session(make_session_factory(engine)) as session:
        capped = search.search(session, SearchQuery(text="erable", limit=2))
        everything = search.search(session, SearchQuery(limit=5))
    assert len(capped.item_ids) == 2 and capped.total == 3 and capped.left_out == 1
    assert everything.total == 4 + len(EXTRA) and len(everything.item_ids) == 5


def test_index_follows_inserts_updates_and_deletes(
    own_catalog: tuple[Engine, dict[str, int]],
) -> None:
    engine, ids = own_catalog
    search = make_search(engine)
    factory = make_session_factory(engine)
    with write_session(factory) as session:
        renamed = ItemIn(
            sku="laitue", name="Roquette", category_id="legumes", category_name="Légumes",
            price="4.00", stock=3,
        )  # fmt: skip
        assert product_repo.upsert_item(session, MAURICIE, renamed) == ids["laitue"]
        added = ItemIn(
            sku="kiwis", name="Kiwis nordiques", category_id="fruits", category_name="Fruits",
            price="6.00", stock=3,
        )  # fmt: skip
        kiwi = product_repo.upsert_item(session, MAURICIE, added)
        # A price change leaves the indexed text alone (the update trigger watches the text).
        session.execute(update(items).where(items.c.id == ids[SYRUP]).values(price=13))
    assert run(engine, search, text="laitue") == []
    assert run(engine, search, text="roquette") == [ids["laitue"]]
    assert run(engine, search, text="kiwi") == [kiwi]
    assert ids[SYRUP] in run(engine, search, text="sirop")
    with write_session(factory) as session:
        session.execute(update(items).where(items.c.id == kiwi).values(active=False))
    assert run(engine, search, text="kiwi") == []
    with write_session(factory) as session:
        session.execute(delete(stock).where(stock.c.item_id == ids["bleuets"]))
        session.execute(delete(stock_movements).where(stock_movements.c.item_id == ids["bleuets"]))
        session.execute(delete(items).where(items.c.id == ids["bleuets"]))
    assert run(engine, search, text="bleuets") == []
    if engine.dialect.name == "sqlite":
        # The index itself holds no trace of the deleted row and agrees with its content.
        with engine.connect() as connection:
            left = connection.execute(
                text("SELECT rowid FROM seller_items_fts WHERE seller_items_fts MATCH 'bleuet*'")
            ).all()
            assert left == []
            connection.execute(
                text("INSERT INTO seller_items_fts(seller_items_fts, rank) VALUES ('integrity-check', 1)")
            )  # fmt: skip


HOSTILE = [
    '"',
    '""*',
    "pomme*",
    "* OR *",
    "NEAR(pomme fromage, 2)",
    "pomme NOT fromage",
    "-pomme",
    "pomme)",
    "((",
    "sirop:* & !erable",
    "'; DROP TABLE seller_items; --",
    "col:pomme",
    "^pomme",
    "pomme\x00fromage",
    "🍎🍏 pommes 🍎",
    "\u202e\u200b",
    "a" * 5000,
    " ".join(["pomme"] * 1000),
]


def test_user_text_is_never_engine_syntax(catalog: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = catalog
    search = make_search(engine)
    for hostile in HOSTILE:
        found = set(run(engine, search, text=hostile))
        words = query_words(hostile)
        # Only letters and digits reach the engines, each quoted.
        assert all(word.isalnum() for word in words), hostile
        assert fts5_query(words).count('"') == 2 * len(words)
        assert all(a.count("'") == b.count("'") == 2 for a, b in tsquery_terms(words))
        if words == ["pomme"]:
            assert found == {ids[APPLES], ids["cidre"]}, hostile
        if not words:
            assert found == set(ids.values()), hostile


def test_like_fallback_agrees_on_the_fixed_catalog(catalog: tuple[Engine, dict[str, int]]) -> None:
    """LIKE (no FTS5) is a table scan with the same folding and stems: same sets."""
    engine, _ids = catalog
    search, like = make_search(engine), LikeSearch()
    for words in ("pommes", "fraîches", "fermière", "oeuf", "bleu", "sirop érable", "lait"):
        assert set(run(engine, search, text=words)) == set(run(engine, like, text=words)), words


def test_french_stem_is_a_prefix_of_both_genders() -> None:
    pairs = [
        ("fraiche", "fraichement"),
        ("fermiere", "fermier"),
        ("naturelle", "naturel"),
        ("savoureuse", "savoureux"),
        ("italienne", "italien"),
        ("sportive", "sportif"),
        ("fumee", "fume"),
    ]
    for feminine, masculine in pairs:
        stem = french_stem(feminine)
        assert feminine.startswith(stem), feminine
        assert masculine.startswith(stem), (feminine, stem, masculine)
    assert french_stem("540") == "540" and french_stem("mure") == "mure"
    assert french_stem("lait") == "lait" and french_stem("sirop") == "sirop"


def test_counting_and_scoring_stop_at_their_limits(
    catalog: tuple[Engine, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past COUNT_LIMIT the total is a floor (``more``) and tiers are read newest first
    instead of scored (SQLite: past RANK_LIMIT in the tier); names still come first."""
    from reseau_poles.seller.repositories import search as module

    engine, ids = catalog
    backend = make_search(engine)
    with read_session(make_session_factory(engine)) as session:
        exact = backend.search(session, SearchQuery(text="erable", limit=2))
        monkeypatch.setattr(module, "COUNT_LIMIT", 2)
        capped = backend.search(session, SearchQuery(text="erable", limit=2))
        listing = backend.search(session, SearchQuery(limit=1))
        monkeypatch.setattr(module, "RANK_LIMIT", 1)
        unscored = backend.search(session, SearchQuery(text="erable", limit=3))
    assert (exact.total, exact.more) == (3, False)
    assert (capped.total, capped.more, capped.left_out) == (2, True, 0)
    assert set(capped.item_ids) == set(exact.item_ids)  # the two names, newest first now
    assert capped.item_ids == [ids[CHIPS], ids[SYRUP]]
    assert (listing.total, listing.more) == (2, True)
    # The two names first, newest first; the description match last.
    assert unscored.item_ids == [ids[CHIPS], ids[SYRUP], ids["tire"]]


def test_postgresql_without_unaccent_falls_back() -> None:
    """A role that may not create extensions still gets its full-text search: the migration
    indexes the node's own accent-free texts instead (and says so)."""
    if not (POSTGRES_URL or REQUIRE_SERVICES):
        pytest.skip("PostgreSQL non configuré (RESEAU_POLES_TEST_POSTGRES_URL)")
    import psycopg
    from sqlalchemy.engine import make_url

    suffix = uuid.uuid4().hex[:10]
    role, name = f"rp_noext_{suffix}", f"rp_search_{suffix}"
    admin = _postgres_admin_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'CREATE DATABASE "{name}"')  # owned by the admin: no CREATE for the role
    with psycopg.connect(admin.rsplit("/", 1)[0] + f"/{name}", autocommit=True) as conn:
        conn.execute(f'GRANT USAGE, CREATE ON SCHEMA public TO "{role}"')
    url = make_url(admin).set(drivername="postgresql+psycopg", username=role, database=name)
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        migrate(engine)
        ids = load_search_catalog(engine)
        with engine.connect() as connection:
            installed = connection.execute(
                text("SELECT count(*) FROM pg_extension WHERE extname = 'unaccent'")
            ).scalar_one()
        assert installed == 0
        search = make_search(engine)

        def found(words: str) -> set[int]:
            return set(run(engine, search, text=words))

        assert found("POMMÉ") == found("pommes") == {ids[APPLES], ids["cidre"]}
        assert found("fermière") == found("fermier") == {ids["gouda"], ids["cidre"]}
        assert found("œufs") == found("OEUF") == {ids["oeufs"]}
        assert found("ÉRABLE") == {ids[SYRUP], ids[CHIPS], ids["tire"]}
    finally:
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_migration_0004_downgrades_and_reindexes_existing_items(
    own_catalog: tuple[Engine, dict[str, int]],
) -> None:
    from alembic import command

    from reseau_poles.seller.app import MIGRATIONS, VERSION_TABLE
    from reseau_poles.storage.migrations import _config

    engine, ids = own_catalog
    config = _config(MIGRATIONS, VERSION_TABLE)
    with engine.connect() as connection, connection.begin():
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            left = connection.execute(
                text("SELECT name FROM sqlite_master WHERE name LIKE 'seller_items_fts%'")
            ).all()
        else:
            left = connection.execute(
                text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'seller_items' AND column_name = 'search_vector' "
                    "UNION ALL SELECT cfgname FROM pg_ts_config WHERE cfgname = 'seller_fr'"
                )
            ).all()
    assert left == []
    if engine.dialect.name == "sqlite":  # no index: the same answers by LIKE
        assert set(run(engine, make_search(engine), text="pommes")) == {ids[APPLES], ids["cidre"]}
    migrate(engine)  # the items already there are indexed again
    assert set(run(engine, make_search(engine), text="pommes")) == {ids[APPLES], ids["cidre"]}
