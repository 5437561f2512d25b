"""Rows read by column name, typed as the roles read them; the count of a write; the dialect's
``INSERT … ON CONFLICT``.

SQLAlchemy types a row read by name (``RowMapping``) as a ``Mapping`` whose keys are strings
*or column objects*, since ``row[table.c.id]`` works too. The roles read rows by column name
only, as ``Mapping[str, Any]``, and hand plain dicts to the same functions; ``Mapping`` being
invariant in its key, mypy takes neither for the other. The functions below are the one place
that says a row of a result is a ``Mapping[str, Any]``: its keys are its columns' names, always
strings, so the cast states a fact and narrows nothing at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, TableClause
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from typing import TypeAlias

    from sqlalchemy import Result
    from sqlalchemy.dialects import postgresql, sqlite

    # A result of any number of columns of any types (``Result`` is generic over them).
    AnyResult: TypeAlias = Result[*tuple[Any, ...]]


def all_rows(result: AnyResult) -> list[Mapping[str, Any]]:
    """Every row of ``result``, read by column name."""
    # ``MappingResult.all()`` builds a list (typed ``Sequence``).
    return cast("list[Mapping[str, Any]]", result.mappings().all())


def first_row(result: AnyResult) -> Mapping[str, Any] | None:
    """The first row of ``result`` (the rest discarded), or ``None``."""
    return cast("Mapping[str, Any] | None", result.mappings().first())


def one_or_none_row(result: AnyResult) -> Mapping[str, Any] | None:
    """The only row of ``result`` or ``None``; more than one raises ``MultipleResultsFound``."""
    return cast("Mapping[str, Any] | None", result.mappings().one_or_none())


def row_count(result: AnyResult) -> int:
    """How many rows an ``UPDATE`` or ``DELETE`` matched. ``Session.execute`` answers a
    ``CursorResult`` for those (typed as the ``Result`` of any statement)."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"pas le résultat d'une écriture : {type(result).__name__}")
    return result.rowcount


def insert_for(session: Session, table: TableClause) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` into ``table`` in the dialect of ``session``'s database, the one that has
    ``on_conflict_do_nothing`` and ``on_conflict_do_update`` (PostgreSQL and SQLite, the two
    databases the project runs on; any other raises). The dialect's module is imported here,
    when first needed, not with the role."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise RuntimeError(f"base non prise en charge : {dialect}")
