"""The results of a search as a person sees them arrive: where the search stands (who answered,
of how many asked; which pôles have more than arrived), and the HTML events of its live stream
(``GET /portail/recherche/{id}/flux``, htmx's SSE extension).

The stream is the client API's (:func:`reseau_poles.buyer.services.sse.open_stream`: the same
change reading, waiters, limits per organisation and heartbeat); :class:`HtmlEvents` writes
its events as HTML instead of JSON:

* ``resultats`` (``id:`` the callback's number) — the new offers' cards, appended to the list,
  and the search's status (swapped out of band);
* ``fin`` — the status at the end, and the whole list again in the query's order (results
  arrive pôle by pôle; the last word is sorted across all of them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request

from reseau_poles.storage import utcnow

from ..services.offer_cards import MAX_CARDS, offer_cards
from ..services.pages import coverage
from ..services.results import NO_QUERY, ResultQuery
from ..services.searches import BuyerService
from ..services.sse import snapshot
from .shared import fragment_html, sse_event

ARRIVAL = "portail/_recherche_arrivee.html"
END = "portail/_recherche_fin.html"


def search_status(
    progress: Mapping[str, Any],
    poles: Iterable[Mapping[str, Any]],
    *,
    total: int,
    shown: int,
    reason: str | None = None,
) -> dict[str, Any]:
    """What the status block says: the state, seller nodes asked and answered, the pôles with
    results, those whose results were cut, and how many offers are shown of how many kept."""
    sellers = progress["sellers"]
    poles = list(poles)
    cut = [pole for pole in poles if pole["truncated"]]
    return {
        "state": progress["state"],
        "complete": progress["complete"],
        "reason": reason,
        "targeted": len(sellers["targeted"]),
        "answered": len(sellers["answered"]),
        "pending": len(sellers["pending"]),
        "refused": len(sellers["refused"]),
        "poles": len(poles),
        "truncated": cut,
        "matched": sum(pole["matched"] for pole in cut),
        "received": sum(pole["received"] for pole in cut),
        "at_least": any(pole["matched_at_least"] for pole in cut),
        "total": total,
        "shown": shown,
        "capped": total > shown,
    }


class HtmlEvents:
    """The portal's events of one stream (:class:`reseau_poles.buyer.services.sse.EventWriter`).

    ``known``: the pôles already on the page (their coverage summaries, by seller node and
    pôle), ``shown`` and ``total``: the offers already shown and kept; each event adds its
    own, so the status always speaks of the whole search."""

    def __init__(
        self,
        request: Request,
        service: BuyerService,
        organisation_id: str,
        transaction_id: str,
        query: ResultQuery,
        *,
        known: Mapping[tuple[str, str], Mapping[str, Any]],
        shown: int,
        total: int,
        context: Mapping[str, Any],
    ) -> None:
        self.request = request
        self.service = service
        self.organisation_id = organisation_id
        self.transaction_id = transaction_id
        self.query = query
        self.poles: dict[tuple[str, str], Mapping[str, Any]] = dict(known)
        self.shown = shown
        self.total = total
        self.context = context

    async def results(
        self,
        answer: tuple[int, str, Any, list[dict[str, Any]]],
        progress: Mapping[str, Any],
        text: str | None,
        brought: list[dict[str, Any]],
    ) -> bytes:
        callback_id, _bpp_id, _at, providers = answer
        room = max(MAX_CARDS - self.shown, 0)
        cards, kept = offer_cards(brought, self.query, text=text, now=utcnow(), limit=room)
        self.shown += len(cards)
        self.total += kept
        for pole in coverage(providers):
            self.poles[(pole.bpp_id, pole.provider_id)] = pole.summary()
        status = search_status(progress, self.poles.values(), total=self.total, shown=self.shown)
        html = fragment_html(
            self.request,
            ARRIVAL,
            {**self.context, "cards": cards, "status": status},
        )
        return sse_event("resultats", html, callback_id)

    async def end(self, progress: Mapping[str, Any], reason: str) -> bytes:
        document, _ = await asyncio.to_thread(
            snapshot, self.service, self.organisation_id, self.transaction_id, NO_QUERY
        )
        text = (document["params"] or {}).get("text")
        cards, total = offer_cards(document["providers"], self.query, text=text, now=utcnow())
        status = search_status(
            document, document["poles"], total=total, shown=len(cards), reason=reason
        )
        html = fragment_html(
            self.request,
            END,
            {**self.context, "cards": cards, "status": status},
        )
        return sse_event("fin", html)


def known_poles(
    service: BuyerService, organisation_id: str, transaction_id: str, query: ResultQuery, after: int
) -> tuple[dict[tuple[str, str], Mapping[str, Any]], int, int]:
    """What a page showed before a stream resumes ``after`` a callback: its pôles, the offers
    shown and kept (blocking: call it in a thread)."""
    if after <= 0:
        return {}, 0, 0
    document, _ = snapshot(service, organisation_id, transaction_id, NO_QUERY, until=after)
    text = (document["params"] or {}).get("text")
    cards, total = offer_cards(document["providers"], query, text=text, now=utcnow())
    poles = {(p["bpp_id"], p["provider_id"]): p for p in document["poles"]}
    return poles, len(cards), total
