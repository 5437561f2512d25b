"""PostgreSQL full text for the catalog search (:mod:`.search` says what matches, how it
ranks and counts): ``seller_items.search_vector``, the ``seller_fr`` configuration."""

from __future__ import annotations

from functools import cache
from typing import Any, Final, NamedTuple

from sqlalchemy import String, bindparam, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import REGCONFIG, TSVECTOR
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from reseau_poles.protocol.profile import WHOLE_PROVINCE
from reseau_poles.storage import all_rows

from ..tables import items, providers
from . import search
from .search import (
    _LISTING_ORDER,
    SearchQuery,
    SearchResult,
    _capped_count,
    _finish,
    _grouped,
    _in_region,
    _item_shape,
    _item_where,
    _joined,
    _page_rows,
    _run,
    _Shape,
    filters,
)
from .search_text import query_words, tsquery_terms

PG_CONFIG: Final = "seller_fr"
# ts_rank weights {D, C, B, A}: names are A, everything else D.
_PG_WEIGHTS: Final = "{0.02, 0.05, 0.1, 1.0}"
_PG_CONFIG = literal_column(f"'{PG_CONFIG}'::regconfig", REGCONFIG)
_PG_SIMPLE = literal_column("'simple'::regconfig", REGCONFIG)


class PostgresSearch:
    """PostgreSQL full text on ``seller_items.search_vector`` (migration 0004).

    The same tiers as FTS5: words found in the name (lexemes of weight A) first, then the
    others; each tier by ``ts_rank``, or newest first when the search matches more than
    :data:`COUNT_LIMIT` items (no score computed for thousands of rows). Statements are
    built once per shape of query (filters used, region or not, number of words), every
    value bound; a tier's page comes with its item rows and stock.
    """

    name = "postgresql"

    def search(self, session: Session | Connection, query: SearchQuery) -> SearchResult:
        words = query_words(query.text)
        if not words:
            return _run(session, _joined(), filters(query), list(_LISTING_ORDER), query)
        shape, params = _item_shape(query, None)
        in_region = _in_region(query)
        if in_region:
            params.update(region=f"%,{query.region},%", whole=f"%,{WHOLE_PROVINCE},%")
        for prefix, weight in (("any", ""), ("name", "A")):
            for index, (stemmed, light) in enumerate(tsquery_terms(words, weight)):
                params[f"{prefix}_{index}"] = stemmed
                params[f"{prefix}_light_{index}"] = light
        key = _PgShape(shape, in_region, len(words))
        found = session.execute(_pg_count(key), {**params, "count_cap": search.COUNT_LIMIT + 1})
        counted = int(found.scalar_one())
        total, more = min(counted, search.COUNT_LIMIT), counted > search.COUNT_LIMIT
        if not total:
            return SearchResult([], 0)
        wanted = query.offset + query.limit
        rows = all_rows(
            session.execute(
                _pg_page(key, elsewhere=False, scored=not more), {**params, "page": wanted}
            )
        )
        if len(rows) < wanted and (more or len(rows) < total):
            rows += all_rows(
                session.execute(
                    _pg_page(key, elsewhere=True, scored=not more),
                    {**params, "page": wanted - len(rows)},
                )
            )
        rows = rows[query.offset :]
        result = SearchResult([int(row["id"]) for row in rows], total, more, rows, query.offset)
        return _finish(
            session,
            query,
            result,
            _pg_per_provider(key),
            {**params, "count_cap": search.COUNT_LIMIT + 1},
        )


class _PgShape(NamedTuple):
    items: _Shape
    in_region: bool
    words: int


_PG_VECTOR: Final = literal_column(f"{items.name}.search_vector", TSVECTOR)


def _pg_tsquery(prefix: str, words: int) -> Any:
    """Every word required, each as its Snowball prefix or its light stem
    (:func:`tsquery_terms`, bound as ``:{prefix}_{i}`` and ``:{prefix}_light_{i}``)."""
    wanted = None
    for index in range(words):
        either = func.to_tsquery(_PG_CONFIG, bindparam(f"{prefix}_{index}", type_=String())).op(
            "||"
        )(func.to_tsquery(_PG_SIMPLE, bindparam(f"{prefix}_light_{index}", type_=String())))
        wanted = either if wanted is None else wanted.op("&&")(either)
    return wanted


def _pg_where(key: _PgShape, wanted: Any) -> list[Any]:
    found = [_PG_VECTOR.op("@@")(wanted), *_item_where(key.items), providers.c.active.is_(True)]
    if key.in_region:
        found.append(
            or_(
                providers.c.served_regions.like(bindparam("region")),
                providers.c.served_regions.like(bindparam("whole")),
            )
        )
    return found


@cache
def _pg_count(key: _PgShape) -> Any:
    """The matches that pass the filters, up to ``:count_cap``."""
    return select(
        _capped_count(_joined(), _pg_where(key, _pg_tsquery("any", key.words)), "count_cap")
    )


@cache
def _pg_per_provider(key: _PgShape) -> Any:
    """Matches per pôle (:func:`_grouped`), up to ``:count_cap`` in all."""
    return _grouped(
        select(items.c.provider_id)
        .select_from(_joined())
        .where(*_pg_where(key, _pg_tsquery("any", key.words)))
        .limit(bindparam("count_cap"))
    )


@cache
def _pg_page(key: _PgShape, *, elsewhere: bool, scored: bool) -> Any:
    """A tier's ``:page`` best matches as page rows: words in the name, or (``elsewhere``)
    not all in the name; by ``ts_rank`` (``scored``) or newest first."""
    in_name = _pg_tsquery("name", key.words)
    wanted = (
        _pg_tsquery("any", key.words).op("&&")(func.tsquery_not(in_name)) if elsewhere else in_name
    )
    where = _pg_where(key, wanted)
    if scored:
        rank = func.ts_rank(literal_column(f"'{_PG_WEIGHTS}'::float4[]"), _PG_VECTOR, wanted)
        ranked = (
            select(items.c.id, rank.label("score"))
            .select_from(_joined())
            .where(*where)
            .order_by(rank.desc(), items.c.id)
            .limit(bindparam("page"))
            .subquery()
        )
        order = [ranked.c.score.desc(), ranked.c.id]
    else:
        ranked = (
            select(items.c.id)
            .select_from(_joined())
            .where(*where)
            .order_by(items.c.id.desc())
            .limit(bindparam("page"))
            .subquery()
        )
        order = [ranked.c.id.desc()]
    return _page_rows(ranked, order)
