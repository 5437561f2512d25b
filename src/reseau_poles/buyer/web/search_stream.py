"""The results of a search as a person sees them arrive: where the search stands (who answered,
of how many asked; which pôles have more than arrived), and the HTML events of its live stream
(``GET /portail/recherche/{id}/flux``, htmx's SSE extension).

The stream is the client API's (:func:`reseau_poles.buyer.services.sse.open_stream`: the same
change reading, waiters, limits per organisation and heartbeat); :class:`HtmlEvents` writes
its events as HTML instead of JSON:

* first, when the page drew only the first cards of its answers (``montrees``): a
  ``resultats`` event with the others (``id:`` the page's last answer);
* ``resultats`` (``id:`` the callback's number) — the new offers' cards, each run of them
  placed out of band where it belongs in the list (after the card it follows, or at the top:
  the list is always in the query's order across every pôle so far,
  :class:`~reseau_poles.buyer.services.offer_cards.Arrivals`), the cards pushed beyond the
  limit or replaced removed, and the search's status;
* ``fin`` — the status at the end (the list is already in order: nothing is drawn again).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request

from reseau_poles.storage import utcnow

from ..services.offer_cards import Arrivals
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
    pôle); ``arrivals``: the cards the page shows, in order, and every offer kept so far;
    ``progress``: the search as the page showed it; ``after``: the page's last answer.
    Each event adds its own, so the status always speaks of the whole search."""

    def __init__(
        self,
        request: Request,
        *,
        known: Mapping[tuple[str, str], Mapping[str, Any]],
        arrivals: Arrivals,
        context: Mapping[str, Any],
        progress: Mapping[str, Any],
        after: int = 0,
    ) -> None:
        self.request = request
        self.progress = progress  # the search's progress as the last event said it
        self.poles: dict[tuple[str, str], Mapping[str, Any]] = dict(known)
        self.arrivals = arrivals
        self.context = context
        self.after = after

    async def start(self) -> bytes | None:
        """The cards of the answers the page holds that it did not draw (it drew the first
        few, to be quick): at once, before any other answer. Its ``id:`` is the page's last
        answer, so a stream that reconnects knows they were received."""
        placement = self.arrivals.reveal(utcnow())
        if not placement.runs:
            return None
        html = fragment_html(
            self.request,
            ARRIVAL,
            {**self.context, "placement": placement, "status": self._status(None)},
        )
        return sse_event("resultats", html, self.after)

    def _status(
        self, progress: Mapping[str, Any] | None, reason: str | None = None
    ) -> dict[str, Any]:
        if progress is None:  # before any change: as the page left it
            progress = self.progress
        self.progress = progress
        return search_status(
            progress,
            self.poles.values(),
            total=self.arrivals.total,
            shown=len(self.arrivals.shown),
            reason=reason,
        )

    async def results(
        self,
        answer: tuple[int, str, Any, list[dict[str, Any]]],
        progress: Mapping[str, Any],
        text: str | None,
        brought: list[dict[str, Any]],
    ) -> bytes:
        callback_id, _bpp_id, _at, providers = answer
        placement = self.arrivals.add(brought, utcnow())
        for pole in coverage(providers):
            self.poles[(pole.bpp_id, pole.provider_id)] = pole.summary()
        html = fragment_html(
            self.request,
            ARRIVAL,
            {**self.context, "placement": placement, "status": self._status(progress)},
        )
        return sse_event("resultats", html, callback_id)

    async def end(self, progress: Mapping[str, Any], reason: str) -> bytes:
        html = fragment_html(
            self.request, END, {**self.context, "status": self._status(progress, reason)}
        )
        return sse_event("fin", html)


def known_poles(
    service: BuyerService,
    organisation_id: str,
    transaction_id: str,
    query: ResultQuery,
    after: int,
    drawn: int | None = None,
) -> tuple[dict[tuple[str, str], Mapping[str, Any]], Arrivals, Mapping[str, Any]]:
    """What a page showed before a stream resumes ``after`` a callback: its pôles, its cards
    in order with every offer kept (``drawn``: the page drew only that many), and the
    search's progress then (blocking: call it in a thread)."""
    document, _ = snapshot(service, organisation_id, transaction_id, NO_QUERY, until=max(after, 0))
    arrivals = Arrivals(query, (document["params"] or {}).get("text"))  # its words: relevance
    if document["providers"]:
        arrivals.add(document["providers"], utcnow())
    if drawn is not None:
        arrivals.hide_after(drawn)
    poles = {(p["bpp_id"], p["provider_id"]): p for p in document["poles"]}
    return poles, arrivals, document
