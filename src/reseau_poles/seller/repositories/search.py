"""Catalog search behind one small interface: the database's own full-text engine, the same
query semantics on SQLite and PostgreSQL, and the service never knows which one answers.

What matches
    Every word of the query (stop words dropped, at most :data:`MAX_QUERY_WORDS`) must start
    a word of the item: its name, descriptions (French and English), producer or category.
    Numbers and single characters match whole words (« lait 2 % » does not find « 250 g »).
    Case, accents, ligatures and typographic apostrophes never matter (« Pommes », "pomme",
    "POMMÉ"), and French inflections meet: plural and feminine forms of a query word find the
    others (« fraîches » finds « fraîche », « fermière » finds « fermier »). Filters narrow by
    provider, category, item id, region served, certifications and conservation.

How it ranks and counts
    Items whose *name* matches come first, then the others; within each, the engine's
    relevance (bm25 on SQLite, ``ts_rank`` with the name weighted A on PostgreSQL), then row
    id so that pages are stable. Counting stops at :data:`COUNT_LIMIT` (``SearchResult.more``:
    « plus de 1000 »). On SQLite a tier of more than :data:`RANK_LIMIT` matches (one common
    word in a 100,000-item catalog) is read in index order, newest first, instead of being
    scored: FTS5 hands those rows over sorted, so the query stops at the page's last item
    (bench/seller_search.py: p95 of the query itself about 10 ms of CPU at 100,000 items).

Pages
    ``SearchQuery.offset`` skips that many matches in the same order (a buyer's follow-up
    page of one pôle: protocol profile group ``pagination``); a page that does not hold every
    match also counts them per pôle (``SearchResult.per_provider``, one grouped count over
    the same capped matches), so that the answer names every pôle found, with its count.

The backends
    :class:`Fts5Search` (SQLite, the default): ``seller_items_fts``, an external-content FTS5
    index over the already folded ``name_normalized`` and ``search_text`` columns (migration
    0004), kept in step by triggers, ``unicode61 remove_diacritics 2``, prefix indexes. FTS5
    ships an English Porter stemmer only, so French stemming happens on the query:
    :func:`french_stem` removes inflectional endings (number and gender) and the stem is
    searched as a prefix. A suffix-stripping stem is a prefix of every form it came from, so
    one prefix query finds them all, without storing a second, stemmed copy of the text (the
    repository already folds plurals in ``search_text``). Pôle filters (active, region) are
    resolved first on the few pôles, so each match is checked on its item row alone.

    :class:`PostgresSearch`: the generated ``tsvector`` column ``search_vector`` (GIN index),
    built by the IMMUTABLE ``seller_search_document`` with the ``seller_fr`` configuration
    (``unaccent`` then PostgreSQL's French Snowball stemmer). Each query word matches either
    its Snowball prefix or its light stem as a prefix (:func:`tsquery_terms` says why). The
    Snowball stemmer also folds some derivations (« biologie » and « biologique » meet), and
    French stop words (« pour », « avec ») are not indexed: there the two databases may
    differ; for the words of a catalog they agree (tests/seller/test_search_properties.py).

    :class:`LikeSearch`: the portable fallback (``search_text LIKE '% word%'``, a table scan),
    used when SQLite was built without FTS5; also the baseline of ``bench/seller_search.py``.

Query text is never passed to an engine as syntax: :func:`query_words` keeps letters and
digits only, so quotes, ``*``, ``NEAR``, ``-``, parentheses, ``:`` or ``&`` in a user's text
are separators, never operators, and each word is then quoted for the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final, NamedTuple, Protocol

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from reseau_poles.protocol.profile import WHOLE_PROVINCE
from reseau_poles.storage import all_rows

from ..tables import items, providers, stock
from .products import PAGE_COLUMNS
from .search_text import french_stem, fts5_query, query_words, whole_word

COUNT_LIMIT: Final = 1000
"""Matches counted exactly; beyond, the count says « more than » (SearchResult.more)."""
RANK_LIMIT: Final = 1000
"""FTS5: a tier with more matches than this (one common word in a big catalog: « pommes »)
is not scored (bm25 costs about a microsecond a match); newest items come first in it."""

FTS_TABLE: Final = "seller_items_fts"
FTS_COLUMNS: Final = ("name_normalized", "search_text")
# bm25 column weights (name_normalized, search_text): a name match outranks any body match.
_FTS_WEIGHTS: Final = (20.0, 1.0)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    text: str | None = None
    provider_id: str | None = None
    category: str | None = None
    item_id: str | None = None
    region: str | None = None
    certifications: frozenset[str] = field(default_factory=frozenset)
    conservation: str | None = None
    limit: int = 100
    offset: int = 0
    """Matches skipped, best first (a follow-up page of one pôle: protocol profile
    ``pagination``)."""


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The page of item ids, best first, and how many items match in all.

    Counting stops at :data:`COUNT_LIMIT`: past it, ``total`` is that limit and ``more`` is
    true (« plus de 1 000 »). A buyer narrows such a search; counting 15,000 matches exactly
    would cost more than finding the page.
    """

    item_ids: list[int]
    total: int
    more: bool = False
    rows: list[Mapping[str, Any]] | None = field(default=None, compare=False, repr=False)
    """The page's item rows (:data:`~.products.PAGE_COLUMNS`, stock as ``available``) in
    the order of ``item_ids``, when the backend read them with the page (FTS5); ``None``:
    the caller reads them by id (:func:`~.products.get_items`)."""
    offset: int = 0
    per_provider: dict[str, int] | None = None
    """Matches per pôle (up to :data:`COUNT_LIMIT` in all) when the page does not hold every
    match; ``None``: the page is the whole result (count its rows)."""

    @property
    def left_out(self) -> int:
        return max(self.total - self.offset - len(self.item_ids), 0)

    @property
    def truncated(self) -> bool:
        return self.more or self.offset > 0 or self.left_out > 0


class SearchBackend(Protocol):
    name: str

    def search(self, session: Session | Connection, query: SearchQuery) -> SearchResult: ...


# --- filters common to every backend ---------------------------------------------------------


def item_filters(query: SearchQuery) -> list[ColumnElement[bool]]:
    """The filters on the item itself: active, provider, SKU, category, tags."""
    found: list[ColumnElement[bool]] = [items.c.active.is_(True)]
    if query.provider_id:
        found.append(items.c.provider_id == query.provider_id)
    if query.item_id:
        found.append(items.c.sku == query.item_id)
    if query.category:
        found.append(
            or_(
                items.c.category_id == query.category,
                func.lower(items.c.category_name) == query.category.lower(),
            )
        )
    for certification in sorted(query.certifications):
        found.append(items.c.certifications.like(f"%,{certification},%"))
    if query.conservation:
        found.append(items.c.conservation == query.conservation)
    return found


def provider_filters(query: SearchQuery) -> list[ColumnElement[bool]]:
    """The filters on the item's pôle: active, serving the region."""
    found: list[ColumnElement[bool]] = [providers.c.active.is_(True)]
    if query.region and query.region != WHOLE_PROVINCE:
        found.append(
            or_(
                providers.c.served_regions.like(f"%,{query.region},%"),
                providers.c.served_regions.like(f"%,{WHOLE_PROVINCE},%"),
            )
        )
    return found


def filters(query: SearchQuery) -> list[ColumnElement[bool]]:
    """Everything but the text (items joined to their providers)."""
    return item_filters(query) + provider_filters(query)


def _joined() -> Any:
    """Items with their pôle. No stock join: every item has its stock row (repository), read
    with the page (products.get_items)."""
    return items.join(providers, providers.c.id == items.c.provider_id)


def _count(session: Session | Connection, source: Any, where: list[Any]) -> tuple[int, bool]:
    """How many rows match, up to :data:`COUNT_LIMIT`, and whether there are more."""
    capped = select(literal_column("1", Integer)).select_from(source).where(*where)
    found = session.execute(
        select(func.count()).select_from(capped.limit(COUNT_LIMIT + 1).subquery())
    ).scalar_one()
    return min(int(found), COUNT_LIMIT), found > COUNT_LIMIT


def _grouped(matching: Any) -> Any:
    """``(provider_id, matches)`` of a capped subquery of matching items' ``provider_id``."""
    found = matching.subquery()
    return select(found.c.provider_id, func.count()).group_by(found.c.provider_id)


def _per_provider(
    session: Session | Connection,
    statement: Any,
    params: dict[str, Any],
    query: SearchQuery,
    total: int,
) -> dict[str, int]:
    """Matches per pôle, for a page that does not hold them all: one grouped count over the
    same capped matches as the total (``statement``: :func:`_grouped`)."""
    if query.provider_id:
        return {query.provider_id: total}
    return {str(p): int(n) for p, n in session.execute(statement, params)}


def _finish(
    session: Session | Connection,
    query: SearchQuery,
    result: SearchResult,
    statement: Any = None,
    params: dict[str, Any] | None = None,
    counts: dict[str, int] | None = None,
) -> SearchResult:
    """``result`` with its matches per pôle (``counts``, or counted by ``statement``) when
    it is only part of them."""
    if not result.truncated:
        return result
    if counts is None:
        counts = _per_provider(session, statement, params or {}, query, result.total)
    return SearchResult(
        result.item_ids, result.total, result.more, result.rows, result.offset, counts
    )


def _run(
    session: Session | Connection,
    source: Any,
    where: list[Any],
    order: list[Any],
    query: SearchQuery,
) -> SearchResult:
    total, more = _count(session, source, where)
    if not total:
        return SearchResult([], 0)
    ids = session.execute(
        select(items.c.id)
        .select_from(source)
        .where(*where)
        .order_by(*order)
        .limit(query.limit)
        .offset(query.offset)
    ).scalars()
    result = SearchResult([int(i) for i in ids], total, more, offset=query.offset)
    matching = select(items.c.provider_id).select_from(source).where(*where).limit(COUNT_LIMIT + 1)
    return _finish(session, query, result, _grouped(matching))


_LISTING_ORDER: Final = (items.c.provider_id, items.c.name_normalized, items.c.id)


# --- the backends ---------------------------------------------------------------------------


class LikeSearch:
    """Portable search on the normalised ``search_text`` column (a table scan)."""

    name = "like"

    def search(self, session: Session | Connection, query: SearchQuery) -> SearchResult:
        where: list[Any] = filters(query)
        for word in query_words(query.text):
            # Words hold letters and digits only: nothing to escape for LIKE.
            if whole_word(word):
                where.append((items.c.search_text + " ").like(f"% {word} %"))
            else:
                where.append(items.c.search_text.like(f"% {french_stem(word)}%"))
        return _run(session, _joined(), where, list(_LISTING_ORDER), query)


_fts = table(FTS_TABLE, column("rowid"))


class Fts5Search:
    """SQLite FTS5 (migration 0004); LIKE when this SQLite has no FTS5 index."""

    name = "fts5"

    def __init__(self) -> None:
        self._indexed: bool | None = None
        self._fallback = LikeSearch()

    def indexed(self, session: Session | Connection) -> bool:
        if self._indexed is None:
            self._indexed = (
                session.execute(
                    text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
                    {"name": FTS_TABLE},
                ).first()
                is not None
            )
        return self._indexed

    def search(self, session: Session | Connection, query: SearchQuery) -> SearchResult:
        words = query_words(query.text)
        if not words:
            return _run(session, _joined(), filters(query), list(_LISTING_ORDER), query)
        if not self.indexed(session):
            return self._fallback.search(session, query)
        anywhere = fts5_query(words)
        in_name = f"{{{FTS_COLUMNS[0]}}} : ({anywhere})"
        # Pôles are few: the ones a query may show are found first, so that matches are
        # checked against the item row alone (no join per match).
        shown = session.execute(
            _ELIGIBLE_IN_REGION if _in_region(query) else _ELIGIBLE,
            {"region": f"%,{query.region},%", "whole": f"%,{WHOLE_PROVINCE},%"},
        ).all()
        eligible = [row.id for row in shown if row.shown]
        if not eligible:
            return SearchResult([], 0)
        shape, params = _item_shape(query, eligible if len(eligible) < len(shown) else None)
        # Statements are built once per shape of query (functools.cache), values are bound:
        # SQLAlchemy reuses their cache keys and compiled SQL (bench/seller_search.py (d)).
        # The matches are counted per pôle in the same pass (the page may not hold them all).
        grouped = session.execute(
            _fts_counts(shape),
            {
                **params,
                "anywhere": anywhere,
                "in_name": in_name,
                "count_cap": COUNT_LIMIT + 1,
                "rank_cap": RANK_LIMIT + 1,
            },
        ).all()
        per_provider = {str(provider): int(count) for provider, count, _named in grouped}
        found = sum(per_provider.values())
        named = int(grouped[0][2]) if grouped else 0
        total, more = min(found, COUNT_LIMIT), found > COUNT_LIMIT
        if not total:
            return SearchResult([], 0)
        # Name matches first, then the others, each tier by bm25; the page's rows (with
        # their stock) come with it. A later page reads the ones before it and drops them
        # (pages past the first are asked for one pôle at a time, on demand).
        wanted = query.offset + query.limit
        rows = _fts_tier(session, shape, params, in_name, named, wanted)
        if len(rows) < wanted and (more or len(rows) < total):
            elsewhere = f"({anywhere}) NOT {in_name}"
            rows += _fts_tier(session, shape, params, elsewhere, None, wanted - len(rows))
        rows = rows[query.offset :]
        result = SearchResult([int(row["id"]) for row in rows], total, more, rows, query.offset)
        return _finish(session, query, result, counts=per_provider)


def _fts_match(name: str) -> Any:
    """``seller_items_fts MATCH :name``: the expression is always a bound value."""
    return text(f"{FTS_TABLE} MATCH :{name}")


def _in_region(query: SearchQuery) -> bool:
    return bool(query.region) and query.region != WHOLE_PROVINCE


_ELIGIBLE: Final = select(providers.c.id, providers.c.active.label("shown"))
"""Every pôle, and whether a query may show its items (:func:`provider_filters`)."""
_ELIGIBLE_IN_REGION: Final = select(
    providers.c.id,
    and_(
        providers.c.active.is_(True),
        or_(
            providers.c.served_regions.like(bindparam("region")),
            providers.c.served_regions.like(bindparam("whole")),
        ),
    ).label("shown"),
)


class _Shape(NamedTuple):
    """Which item filters a query uses: a statement is built once per shape."""

    provider: bool
    sku: bool
    category: bool
    certifications: int
    conservation: bool
    eligible: bool  # some pôles only (IN :eligible)


def _item_shape(query: SearchQuery, eligible: list[str] | None) -> tuple[_Shape, dict[str, Any]]:
    """The shape of :func:`item_filters` for ``query`` and the values to bind."""
    params: dict[str, Any] = {}
    if query.provider_id:
        params["provider_id"] = query.provider_id
    if query.item_id:
        params["sku"] = query.item_id
    if query.category:
        params["category"] = query.category
        params["category_lower"] = query.category.lower()
    for index, certification in enumerate(sorted(query.certifications)):
        params[f"certification_{index}"] = f"%,{certification},%"
    if query.conservation:
        params["conservation"] = query.conservation
    if eligible is not None:
        params["eligible"] = eligible
    shape = _Shape(
        bool(query.provider_id),
        bool(query.item_id),
        bool(query.category),
        len(query.certifications),
        bool(query.conservation),
        eligible is not None,
    )
    return shape, params


def _item_where(shape: _Shape) -> list[ColumnElement[bool]]:
    """:func:`item_filters` with bound parameters (:func:`_item_shape` gives their values)."""
    found: list[ColumnElement[bool]] = [items.c.active.is_(True)]
    if shape.provider:
        found.append(items.c.provider_id == bindparam("provider_id"))
    if shape.sku:
        found.append(items.c.sku == bindparam("sku"))
    if shape.category:
        found.append(
            or_(
                items.c.category_id == bindparam("category"),
                func.lower(items.c.category_name) == bindparam("category_lower"),
            )
        )
    for index in range(shape.certifications):
        found.append(items.c.certifications.like(bindparam(f"certification_{index}")))
    if shape.conservation:
        found.append(items.c.conservation == bindparam("conservation"))
    if shape.eligible:
        found.append(items.c.provider_id.in_(bindparam("eligible", expanding=True)))
    return found


def _capped_count(source: Any, where: list[Any], cap: str) -> Any:
    matching = select(literal_column("1", Integer)).select_from(source).where(*where)
    return (
        select(func.count())
        .select_from(matching.limit(bindparam(cap)).subquery())
        .scalar_subquery()
    )


_FTS_ITEMS: Final = _fts.join(items, items.c.id == _fts.c.rowid)
_FTS_TIER_MATCHES: Final = select(_capped_count(_fts, [_fts_match("tier")], "rank_cap"))


@cache
def _fts_counts(shape: _Shape) -> Any:
    """In one statement: per pôle, the matches that pass the filters (up to ``:count_cap``
    in all), each row with the name tier's matches (no filter), up to ``:rank_cap``. No
    row: no match."""
    matching = (
        select(items.c.provider_id)
        .select_from(_FTS_ITEMS)
        .where(_fts_match("anywhere"), *_item_where(shape))
        .limit(bindparam("count_cap"))
        .subquery()
    )
    return select(
        matching.c.provider_id,
        func.count(),
        _capped_count(_fts, [_fts_match("in_name")], "rank_cap"),
    ).group_by(matching.c.provider_id)


@cache
def _fts_page(shape: _Shape, scored: bool) -> Any:
    """The ``:page`` best matches of ``:tier`` that pass the filters, as page rows.

    The tier is ranked on the FTS index and the item alone; the page's few rows are then
    read whole, with their stock, in the same statement.
    """
    where = [_fts_match("tier"), *_item_where(shape)]
    if scored:
        rank = func.bm25(literal_column(FTS_TABLE), *_FTS_WEIGHTS)
        ranked = (
            select(items.c.id, rank.label("score"))
            .select_from(_FTS_ITEMS)
            .where(*where)
            .order_by(rank, _fts.c.rowid)
            .limit(bindparam("page"))
            .subquery()
        )
        order: list[ColumnElement[Any]] = [ranked.c.score, ranked.c.id]
    else:
        ranked = (
            select(items.c.id)
            .select_from(_FTS_ITEMS)
            .where(*where)
            .order_by(_fts.c.rowid.desc())
            .limit(bindparam("page"))
            .subquery()
        )
        order = [ranked.c.id.desc()]
    return _page_rows(ranked, order)


def _page_rows(ranked: Any, order: list[Any]) -> Any:
    """The rows of a ranked page of item ids (a subquery): :data:`PAGE_COLUMNS` and the
    stock, read for the page's few items only, in the page's ``order``."""
    return (
        select(*PAGE_COLUMNS, stock.c.quantity.label("available"))
        .select_from(
            ranked.join(items, items.c.id == ranked.c.id).join(
                stock, stock.c.item_id == ranked.c.id
            )
        )
        .order_by(*order)
    )


def _fts_tier(
    session: Session | Connection,
    shape: _Shape,
    params: dict[str, Any],
    expression: str,
    matches: int | None,
    limit: int,
) -> list[Any]:
    """The ``limit`` best matches of ``expression`` that pass the filters, as page rows.

    Up to :data:`RANK_LIMIT` matches (``matches``, counted here when ``None``), by bm25.
    Beyond, in index order (newest first): FTS5 hands the rows over already sorted, so the
    query stops at the ``limit``-th item that passes the filters instead of scoring and
    sorting thousands.
    """
    if matches is None:
        matches = session.execute(
            _FTS_TIER_MATCHES, {"tier": expression, "rank_cap": RANK_LIMIT + 1}
        ).scalar_one()
    statement = _fts_page(shape, matches <= RANK_LIMIT)
    return all_rows(session.execute(statement, {**params, "tier": expression, "page": limit}))


def make_search(engine: Any = None) -> SearchBackend:
    """The search backend for this database: FTS5 on SQLite, full text on PostgreSQL, LIKE
    for anything else."""
    dialect = getattr(getattr(engine, "dialect", None), "name", None)
    if dialect == "sqlite":
        return Fts5Search()
    if dialect == "postgresql":
        from .search_postgres import PostgresSearch

        return PostgresSearch()
    return LikeSearch()
