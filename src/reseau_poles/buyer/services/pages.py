"""How much of each pôle's matches a search holds, and the follow-up pages that fetch the rest
(no I/O).

A seller node sends at most its ``on_search_max_items`` items per answer and says, per pôle,
how many matched (protocol profile, group ``resultats``: :mod:`reseau_poles.protocol.profile.
pagination`). The buyer keeps every answer; :func:`coverage` reads, per (seller, pôle) of the
merged results, what matched and what arrived. A pôle whose items did not all arrive is
*truncated*: ``GET /api/searches/{id}`` says so (``poles``, ``counts.truncated`` and a French
``notice``), and ``POST /api/searches/{id}/more`` asks that seller, in the same transaction,
with a new message id, for the pôle's next items (:class:`PageRequest`): a signed ``search``
for that pôle with the ``pagination`` group, ``debut`` = the items already held. Its answer
is stored and merged like any other; the counts follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.profile import parse_results

MAX_PAGES_AT_ONCE: Final = 25
"""Follow-up pages one ``POST /more`` sends at most (one per truncated pôle)."""


@dataclass(frozen=True, slots=True)
class Coverage:
    """One pôle of one seller node in a search: matched (as the seller counted), received."""

    bpp_id: str
    bpp_uri: str | None
    provider_id: str
    name: str | None
    matched: int
    at_least: bool
    """The seller stopped counting: ``matched`` items at least."""
    received: int

    @property
    def truncated(self) -> bool:
        return self.received < self.matched or (self.at_least and self.received >= self.matched)

    def summary(self, due: bool = False) -> dict[str, Any]:
        return {
            "bpp_id": self.bpp_id,
            "provider_id": self.provider_id,
            "provider_name": self.name,
            "matched": self.matched,
            "matched_at_least": self.at_least,
            "received": self.received,
            "truncated": self.truncated,
            "page_pending": due,
        }


def coverage(providers: Iterable[Mapping[str, Any]]) -> list[Coverage]:
    """Per merged provider (:func:`.intent.merge`), what matched and what arrived. A provider
    without the ``resultats`` group (a seller that does not page) matched what it sent."""
    found = []
    for provider in providers:
        try:
            results = parse_results(provider.get("tags"))
        except ProtocolError:
            results = None
        received = len(provider.get("items") or [])
        descriptor = provider.get("descriptor")
        name = descriptor.get("name") if isinstance(descriptor, Mapping) else None
        found.append(
            Coverage(
                bpp_id=str(provider.get("bpp_id")),
                bpp_uri=provider.get("bpp_uri"),
                provider_id=str(provider.get("id")),
                name=name if isinstance(name, str) else None,
                matched=max(results.total, received) if results else received,
                at_least=bool(results and results.more),
                received=received,
            )
        )
    return found


def due_pages(
    pages: Sequence[Mapping[str, Any]] | None, answers: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The follow-up pages a seller took (ACK) and has not answered yet."""
    answered = {(a["bpp_id"], a["message_id"]) for a in answers}
    return [
        page
        for page in pages or []
        if page.get("status") == "ACK" and (page["bpp_id"], page["message_id"]) not in answered
    ]


def wanted(
    poles: Sequence[Coverage],
    providers: Iterable[str] = (),
    due: Sequence[Mapping[str, Any]] = (),
    asked: Sequence[Mapping[str, Any]] | None = None,
    *,
    only_empty: bool = False,
) -> list[Coverage]:
    """The truncated pôles to ask for their next page: those named (provider or seller node
    id; all when none), not already waiting for one, nor asked already from where they stand
    (``asked``: every page taken; a seller whose page brought nothing new is not asked the
    same again), at most :data:`MAX_PAGES_AT_ONCE`; ``only_empty``: those none of whose
    items arrived yet."""
    named = frozenset(providers)
    waiting = {(page["bpp_id"], page["provider_id"]) for page in due}
    done = {
        (page["bpp_id"], page["provider_id"], page.get("start"))
        for page in asked or []
        if page.get("status") == "ACK"
    }
    return [
        pole
        for pole in poles
        if pole.truncated
        and pole.bpp_uri
        and (not named or pole.provider_id in named or pole.bpp_id in named)
        and (pole.bpp_id, pole.provider_id) not in waiting
        and (pole.bpp_id, pole.provider_id, pole.received) not in done
        and (pole.received == 0 or not only_empty)
    ][:MAX_PAGES_AT_ONCE]


def notice(poles: Sequence[Coverage], transaction_id: str) -> str | None:
    """The French sentence that says results were cut, or ``None`` when nothing is missing."""
    cut = [pole for pole in poles if pole.truncated]
    if not cut:
        return None
    matched = sum(pole.matched for pole in cut)
    received = sum(pole.received for pole in cut)
    at_least = "au moins " if any(pole.at_least for pole in cut) else ""
    return (
        f"Résultats partiels : {len(cut)} pôle(s) sur {len(poles)} ont d'autres articles "
        f"({at_least}{matched} trouvés, {received} reçus). La suite : "
        f"POST /api/searches/{transaction_id}/more (tous ces pôles, ou "
        '{"provider": "…"} pour un seul).'
    )
