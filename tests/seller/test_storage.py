"""The seller's tables: migrations equal to the models on both databases, the repository's
catalog writes, API keys kept hashed, and the guarded stock decrement."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from reseau_poles.seller.app import MIGRATIONS, VERSION_TABLE, migrate
from reseau_poles.seller.repositories import api_keys as key_repo
from reseau_poles.seller.repositories import products as product_repo
from reseau_poles.seller.repositories import stock as stock_repo
from reseau_poles.seller.repositories.search import FTS_TABLE, LikeSearch, SearchQuery
from reseau_poles.seller.requests import ItemIn
from reseau_poles.seller.tables import api_keys, metadata
from reseau_poles.storage import (
    head_revision,
    make_engine,
    make_session_factory,
    read_session,
    write_session,
)

from .support import APPLES, CAPITALE, CHIPS, CURDS, SYRUP, load_catalog

# The full-text objects of migration 0004, outside the models on purpose (dialect-specific):
# named one by one so that the comparison still sees any other drift, and checked present.
FULLTEXT = {
    "sqlite": {("table", FTS_TABLE)}
    | {("table", f"{FTS_TABLE}_{shadow}") for shadow in ("data", "idx", "docsize", "config")},
    "postgresql": {("column", "search_vector"), ("index", "ix_seller_items_search_vector")},
}


def test_migrations_match_the_tables(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    assert migrate(engine) == head_revision(MIGRATIONS) is not None
    assert migrate(empty_database_url) == head_revision(MIGRATIONS)  # again: nothing to do
    tables = set(inspect(engine).get_table_names())
    assert {"seller_items", "seller_stock", "seller_orders", VERSION_TABLE} <= tables
    fulltext = FULLTEXT[engine.dialect.name]
    skipped: set[tuple[str, str]] = set()

    def include(item: Any, name: str | None, kind: str, reflected: bool, _to: object) -> bool:
        table = item.table.name if kind in ("column", "index") else name
        if reflected and table.startswith("seller_items") and (kind, name) in fulltext:
            skipped.add((kind, str(name)))
            return False
        return True

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "version_table": VERSION_TABLE,
                "compare_type": True,
                "include_object": include,
            },
        )
        assert compare_metadata(context, metadata) == []
    assert skipped == fulltext
    engine.dispose()


def test_catalog_stock_and_keys(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    ids = load_catalog(engine)
    factory = make_session_factory(engine)
    with write_session(factory) as session:
        assert stock_repo.take_stock(session, ids[CHIPS], 50)
        assert not stock_repo.take_stock(session, ids[CHIPS], 1)
        assert stock_repo.available(session, ids[CHIPS]) == 0
        key = key_repo.create_api_key(session, CAPITALE, "logiciel de gestion")
    with read_session(factory) as session:
        assert key_repo.provider_for_api_key(session, key) == CAPITALE
        assert key_repo.provider_for_api_key(session, key + "x") is None
        stored = session.execute(select(api_keys.c.key_hash, api_keys.c.prefix)).one()
        assert key not in stored and stored.prefix == key[:12]
    with write_session(factory) as session:
        assert key_repo.revoke_api_key(session, CAPITALE, key[:12])
    with read_session(factory) as session:
        assert key_repo.provider_for_api_key(session, key) is None
    # The check constraint refuses a negative stock whatever the SQL.
    try:
        with write_session(factory) as session:
            session.execute(text("UPDATE seller_stock SET quantity = -1"))
        raise AssertionError("stock négatif accepté")
    except IntegrityError:
        pass
    # Re-importing a SKU updates it in place.
    with write_session(factory) as session:
        again = ItemIn(
            sku=CHIPS, name="Croustilles", category_id="c", category_name="C", price="3.99", stock=7
        )
        assert product_repo.upsert_item(session, CAPITALE, again) == ids[CHIPS]
        assert stock_repo.available(session, ids[CHIPS]) == 7
    engine.dispose()


def test_like_search_ignores_case_accents_and_plurals(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    ids = load_catalog(engine)
    factory = make_session_factory(engine)
    search = LikeSearch()

    def found(**query: object) -> set[int]:
        with read_session(factory) as session:
            return set(search.search(session, SearchQuery(**query)).item_ids)  # type: ignore[arg-type]

    assert found(text="erable") == {ids[SYRUP], ids[CHIPS]}
    assert found(text="SIROP d’Érable") == {ids[SYRUP]}
    assert found(text="maple") == {ids[SYRUP]}  # English name
    assert found(text="pomme") == {ids[APPLES]}  # plural folded
    assert found(text="erable", certifications=frozenset({"biologique_canada"})) == {ids[SYRUP]}
    assert found(conservation="refrigere") == {ids[CURDS]}
    assert found(region="QC-05") == {ids[APPLES]}
    assert found(region="QC-12", text="erable") == {ids[SYRUP], ids[CHIPS]}
    assert found(category="Produits laitiers") == {ids[CURDS]}
    assert found(provider_id=CAPITALE, text="pomme") == set()
    with read_session(factory) as session:
        capped = search.search(session, SearchQuery(limit=2))
    assert len(capped.item_ids) == 2 and capped.total == 4 and capped.left_out == 2
    engine.dispose()
