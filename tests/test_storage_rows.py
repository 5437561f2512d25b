"""The shared row helpers on a real database (SQLite, and PostgreSQL when the CI names one):
rows read by column name, the count of a write, the dialect's INSERT … ON CONFLICT."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, select, update
from sqlalchemy.exc import MultipleResultsFound
from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.storage import (
    all_rows,
    first_row,
    insert_for,
    make_engine,
    make_session_factory,
    one_or_none_row,
    row_count,
    write_session,
)

metadata = MetaData()
produits = Table(
    "produits",
    metadata,
    Column("sku", String(20), primary_key=True),
    Column("nom", String(80), nullable=False),
    Column("stock", Integer, nullable=False),
)


@pytest.fixture
def factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def test_rows_are_read_by_column_name(factory: sessionmaker[Session]) -> None:
    with write_session(factory) as session:
        session.execute(
            produits.insert(),
            [
                {"sku": "POM-1", "nom": "Pommes Cortland", "stock": 12},
                {"sku": "CAR-2", "nom": "Carottes", "stock": 0},
            ],
        )
        ordered = select(produits).order_by(produits.c.sku)
        assert [dict(row) for row in all_rows(session.execute(ordered))] == [
            {"sku": "CAR-2", "nom": "Carottes", "stock": 0},
            {"sku": "POM-1", "nom": "Pommes Cortland", "stock": 12},
        ]
        first = first_row(session.execute(ordered))
        assert first is not None and first["sku"] == "CAR-2"
        one = one_or_none_row(session.execute(ordered.where(produits.c.sku == "POM-1")))
        assert one is not None and one["nom"] == "Pommes Cortland"
        assert one_or_none_row(session.execute(ordered.where(produits.c.sku == "X"))) is None
        assert first_row(session.execute(ordered.where(produits.c.sku == "X"))) is None
        with pytest.raises(MultipleResultsFound):
            one_or_none_row(session.execute(ordered))


def test_row_count_counts_the_rows_a_write_matched(factory: sessionmaker[Session]) -> None:
    with write_session(factory) as session:
        session.execute(
            produits.insert(),
            [{"sku": f"S-{n}", "nom": "Navets", "stock": n} for n in range(5)],
        )
        emptied = session.execute(update(produits).where(produits.c.stock < 3).values(stock=0))
        assert row_count(emptied) == 3
        assert row_count(session.execute(delete(produits).where(produits.c.sku == "X"))) == 0


def test_insert_for_speaks_the_dialect_of_the_session(factory: sessionmaker[Session]) -> None:
    with write_session(factory) as session:
        row = {"sku": "BET-1", "nom": "Betteraves", "stock": 4}
        session.execute(insert_for(session, produits).values(**row))
        # The same row again: nothing done, nothing raised.
        session.execute(
            insert_for(session, produits)
            .values(**{**row, "stock": 99})
            .on_conflict_do_nothing(index_elements=["sku"])
        )
        assert session.execute(select(produits.c.stock)).scalar_one() == 4
        replaced = insert_for(session, produits).values(**{**row, "stock": 7})
        session.execute(replaced.on_conflict_do_update(index_elements=["sku"], set_={"stock": 7}))
        assert session.execute(select(produits.c.stock)).scalar_one() == 7
