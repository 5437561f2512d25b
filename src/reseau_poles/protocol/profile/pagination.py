"""Pages of a search: how a buyer asks for the next items of a pôle, and how a seller says,
per pôle, how many items matched and which of them it sent.

Beckn core 1.1 has no pagination (beckn/protocol-specifications issue 329, still open): a
seller answers a ``search`` with one ``on_search``, and a big catalog is cut somewhere. The
profile says where, with two tag groups that generic Beckn apps show as name–value pairs and
skip when they do not know them:

* in the ``on_search``, each provider carries ``resultats``::

      {"descriptor": {"code": "resultats", "name": "Résultats"},
       "list": [{"descriptor": {"code": "total"}, "value": "412"},
                {"descriptor": {"code": "debut"}, "value": "0"},
                {"descriptor": {"code": "affiches"}, "value": "37"},
                {"descriptor": {"code": "plus"}, "value": "non"}]}

  ``total`` items of this pôle match the search (the seller counts up to a limit; ``plus:
  oui`` says « at least that many »), ``affiches`` of them are in this answer, from position
  ``debut`` (0 for a first answer) of the pôle's matches, best first. A pôle with matches but
  none sent comes with ``items: []``, so that nothing is silently missing;

* in a ``search``, the buyer asks for one pôle's next page with ``pagination`` in
  ``message.intent.tags`` (and ``provider.id`` in the intent)::

      {"descriptor": {"code": "pagination"},
       "list": [{"descriptor": {"code": "debut"}, "value": "37"},
                {"descriptor": {"code": "taille"}, "value": "100"}]}

  ``debut``: how many of the pôle's matches to skip (those it already holds); ``taille``: at
  most how many to send (the seller may send fewer: its own ``on_search_max_items``). The
  follow-up is a new ``search`` in the same transaction, with a new message id, signed and
  sent straight to that seller node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ..errors import ErrorCode, ProtocolError
from ._plain import NO, YES, parse_yes_no, shown
from .tags import TagValue, collect, tag, tag_group

RESULTATS: Final = "resultats"
PAGINATION: Final = "pagination"
MAX_START: Final = 100_000
"""Largest ``debut`` a seller reads: past it, narrow the search."""
MAX_SIZE: Final = 5_000


@dataclass(frozen=True, slots=True)
class ProviderResults:
    """What a seller says of one pôle's matches in one answer (group ``resultats``)."""

    total: int
    shown: int
    start: int = 0
    more: bool = False

    @property
    def end(self) -> int:
        """Position after the last item of this answer: the next page's ``debut``."""
        return self.start + self.shown

    def to_group(self) -> dict[str, Any]:
        return tag_group(
            RESULTATS,
            [
                tag("total", str(self.total), name="Articles trouvés"),
                tag("debut", str(self.start), name="À partir de"),
                tag("affiches", str(self.shown), name="Articles envoyés"),
                tag("plus", YES if self.more else NO, name="Compte plafonné"),
            ],
            name="Résultats",
        )


@dataclass(frozen=True, slots=True)
class Page:
    """The page a ``search`` asks for (group ``pagination``)."""

    start: int = 0
    size: int | None = None

    def to_group(self) -> dict[str, Any]:
        tags = [tag("debut", str(self.start), name="À partir de")]
        if self.size is not None:
            tags.append(tag("taille", str(self.size), name="Articles au plus"))
        return tag_group(PAGINATION, tags, name="Pagination")


def _count(value: TagValue, highest: int, error_code: ErrorCode) -> int:
    text = value.value.strip() if isinstance(value.value, str) else None
    if text is None or not text.isdigit() or len(text) > 9 or int(text) > highest:
        raise ProtocolError(
            f"Étiquette « {value.code} » : entier de 0 à {highest} attendu, "
            f"reçu « {shown(value.value)} ».",
            code=error_code,
            path=value.path,
        )
    return int(text)


def parse_page(
    tags: Any, *, path: str = "tags", error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> Page | None:
    """The ``pagination`` group of a search intent's ``tags``; ``None`` when absent."""
    group = collect(tags, [PAGINATION], path=path, error_code=error_code).get(PAGINATION)
    if group is None:
        return None
    start = group.single("debut", error_code=error_code)
    size = group.single("taille", error_code=error_code)
    parsed_size = None if size is None else _count(size, MAX_SIZE, error_code)
    if parsed_size == 0 and size is not None:
        raise ProtocolError("Étiquette « taille » : au moins 1.", code=error_code, path=size.path)
    return Page(
        start=0 if start is None else _count(start, MAX_START, error_code), size=parsed_size
    )


def parse_results(
    tags: Any, *, path: str = "tags", error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> ProviderResults | None:
    """The ``resultats`` group of a provider's ``tags``; ``None`` when absent (a seller that
    does not page: what it sent is all there is)."""
    group = collect(tags, [RESULTATS], path=path, error_code=error_code).get(RESULTATS)
    if group is None:
        return None
    total = group.require("total", error_code=error_code)
    start = group.single("debut", error_code=error_code)
    sent = group.single("affiches", error_code=error_code)
    more = group.single("plus", error_code=error_code)
    flag = parse_yes_no(more.value) if more is not None and isinstance(more.value, str) else None
    if more is not None and flag is None:
        raise ProtocolError(
            "Étiquette « plus » : « oui » ou « non » attendu.", code=error_code, path=more.path
        )
    return ProviderResults(
        total=_count(total, 10**9, error_code),
        shown=0 if sent is None else _count(sent, 10**9, error_code),
        start=0 if start is None else _count(start, 10**9, error_code),
        more=bool(flag),
    )
