"""Catalog search behind one small interface, so the database's own full-text engine can
replace the portable one without the service noticing.

:class:`LikeSearch` works the same on SQLite and PostgreSQL: every query word, normalised
like the stored ``search_text`` (case, accents, elisions and plurals folded by the profile),
must begin some word of the item (``search_text LIKE '% erab%'``). Filters narrow by
provider, category, item id, region served, certifications and conservation class.

Still to come (issue 5): SQLite FTS5 and PostgreSQL full text with ``unaccent`` and French
stemming, behind the same :class:`SearchBackend`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import and_, func, or_, select

from reseau_poles.protocol.profile import WHOLE_PROVINCE, search_key, tokenize

from .tables import items, providers, stock


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


@dataclass(frozen=True, slots=True)
class SearchResult:
    item_ids: list[int]
    total: int

    @property
    def left_out(self) -> int:
        return self.total - len(self.item_ids)


class SearchBackend(Protocol):
    def search(self, session: Any, query: SearchQuery) -> SearchResult: ...


def query_words(text: str | None) -> list[str]:
    """The search keys of a query: stop words dropped, plurals folded, no duplicates."""
    if not text:
        return []
    return list(dict.fromkeys(search_key(w) for w in tokenize(text, drop_stopwords=True)))


class LikeSearch:
    """Portable search on the normalised ``search_text`` column."""

    def conditions(self, query: SearchQuery) -> list[Any]:
        found: list[Any] = [items.c.active.is_(True), providers.c.active.is_(True)]
        for word in query_words(query.text):
            # Words hold letters and digits only (tokenize): nothing to escape for LIKE.
            found.append(items.c.search_text.like(f"% {word}%"))
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
        if query.region and query.region != WHOLE_PROVINCE:
            found.append(
                or_(
                    providers.c.served_regions.like(f"%,{query.region},%"),
                    providers.c.served_regions.like(f"%,{WHOLE_PROVINCE},%"),
                )
            )
        for certification in sorted(query.certifications):
            found.append(items.c.certifications.like(f"%,{certification},%"))
        if query.conservation:
            found.append(items.c.conservation == query.conservation)
        return found

    def search(self, session: Any, query: SearchQuery) -> SearchResult:
        where = and_(*self.conditions(query))
        joined = items.join(providers, providers.c.id == items.c.provider_id).join(
            stock, stock.c.item_id == items.c.id
        )
        total = session.execute(select(func.count()).select_from(joined).where(where)).scalar_one()
        ids = session.execute(
            select(items.c.id)
            .select_from(joined)
            .where(where)
            .order_by(items.c.provider_id, items.c.name_normalized, items.c.id)
            .limit(query.limit)
        ).scalars()
        return SearchResult([int(i) for i in ids], int(total))


def make_search(_engine: Any = None) -> SearchBackend:
    """The search backend for this database (for now the portable one everywhere)."""
    return LikeSearch()
