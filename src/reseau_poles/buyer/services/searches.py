"""The buyer node's logic: send a search out, keep the ``on_search`` callbacks, read the
merged results (waiting for the sellers when asked to).

The pipeline of a search (ARCHITECTURE.md, "a request is a pipeline of named steps"):

1. :meth:`BuyerService.start_search` – the parameters become a checked Beckn ``search``, the
   search is stored, the transaction id goes back to the client at once;
2. :meth:`BuyerService.dispatch` (in the background) – straight to every seller node the
   registry routes to (``type: BPP``, domain, region), or to the gateway when configured;
   who ACKed is recorded: those are the sellers we wait for;
3. :meth:`BuyerService.receive_on_search` – a verified callback for a known transaction is
   stored (callback and results in one transaction) *before* the ACK, once per
   (action, seller, message id);
4. :meth:`BuyerService.view` – the results merged per provider and item, with who answered;
   with a wait, returns as soon as every targeted seller answered; per pôle, how many items
   matched and arrived (:mod:`.pages`);
5. :meth:`BuyerService.more` – on demand, a truncated pôle's next page: a signed ``search``
   to its seller node for that pôle (profile group ``pagination``), waited for like the rest.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Engine

from reseau_poles.network import CallResult, NodeNetwork, RegistryError
from reseau_poles.network.inbound import InboundMessage
from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.models import Context, format_datetime, to_bytes
from reseau_poles.protocol.profile import COUNTRY, WHOLE_PROVINCE, Page
from reseau_poles.protocol.signing import AUTHORIZATION
from reseau_poles.storage import make_session_factory, read_session, utcnow, write_session

from ..repositories import searches as repo
from ..requests import SearchParams
from ..settings import BuyerSettings
from .intent import catalog_providers, merge, search_body
from .pages import Coverage, coverage, due_pages, notice, wanted
from .results import NO_QUERY, ResultQuery, apply
from .waiters import Waiters

log = logging.getLogger("reseau_poles.buyer")

T = TypeVar("T")


class SearchNotFound(LookupError):
    """No such search for this organisation."""


class RecentResults:
    """The catalogues of the latest ``on_search`` callbacks this process stored, by callback
    id, as :func:`repo.insert_results` wrote them: the event stream of a search sends each one
    as it lands without reading back and decoding the JSON it just wrote.

    Only a shortcut: a callback stored by another process of the node, or one pushed out by
    newer ones (at most ``max_items`` items are kept: a stream reads a catalogue the moment it
    lands, and every cached object is one more for the garbage collector to walk), is read
    from the database as before.
    Thread-safe (callbacks are stored on the protocol threads, streams read on others)."""

    def __init__(self, max_items: int = 5_000) -> None:
        self.max_items = max_items
        self._rows: OrderedDict[int, Sequence[Mapping[str, Any]]] = OrderedDict()
        self._items = 0
        self._lock = threading.Lock()

    def put(self, callback_id: int, rows: Sequence[Mapping[str, Any]]) -> None:
        size = sum(len(row["items"]) for row in rows) or 1
        with self._lock:
            self._rows[callback_id] = rows
            self._items += size
            while self._items > self.max_items and len(self._rows) > 1:
                _, dropped = self._rows.popitem(last=False)
                self._items -= sum(len(row["items"]) for row in dropped) or 1

    def get(self, callback_id: int) -> Sequence[Mapping[str, Any]] | None:
        with self._lock:
            return self._rows.get(callback_id)

    def __len__(self) -> int:
        return len(self._rows)


class BuyerService:
    def __init__(self, settings: BuyerSettings, engine: Engine, network: NodeNetwork) -> None:
        self.settings = settings
        self.engine = engine
        self.network = network
        self.factory = make_session_factory(engine)
        # One set of waiters for the node: searches, orders and carts share it (:mod:`.waiters`).
        self.waiters = Waiters()
        self._tasks: set[asyncio.Task[None]] = set()
        self.recent = RecentResults()

    # --- 1. a new search ----------------------------------------------------------------------

    async def start_search(self, organisation_id: str, params: SearchParams) -> dict[str, str]:
        context = Context.new(
            "search",
            domain=self.settings.domain,
            bap_id=self.settings.subscriber_id,
            bap_uri=self.settings.public_url,
            city_code=params.region,
            country_code=str(COUNTRY),
            ttl=f"PT{self.settings.search_ttl_seconds}S",
        )
        body = to_bytes(search_body(params, context))
        await asyncio.to_thread(self._insert_search, organisation_id, context, params)
        task = asyncio.create_task(self.dispatch(context.transaction_id, params.region, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {"transaction_id": context.transaction_id, "message_id": context.message_id}

    def _insert_search(self, organisation_id: str, context: Context, params: SearchParams) -> None:
        with write_session(self.factory) as session:
            repo.insert_search(
                session,
                transaction_id=context.transaction_id,
                message_id=context.message_id,
                organisation_id=organisation_id,
                params=params.model_dump(exclude_defaults=True),
            )

    # --- 2. sending it ------------------------------------------------------------------------

    async def dispatch(self, transaction_id: str, region: str, body: bytes) -> None:
        """Send the search; record who took it. Never raises: a failure is recorded."""
        targets: dict[str, Any] = {}
        via: str | None = None
        try:
            if self.settings.use_gateway:
                via, targets = await self._through_gateway(region, body)
                failed = via is None
            else:
                targets = await self._direct(region, body)
                failed = not any(t["status"] == "ACK" for t in targets.values())
        except RegistryError as exc:
            log.warning("recherche %s : registre indisponible : %s", transaction_id, exc)
            failed = True
        except Exception:  # a search must end in a recorded state, whatever happened
            log.exception("recherche %s : envoi impossible", transaction_id)
            failed = True
        await asyncio.to_thread(self._dispatched, transaction_id, targets, via, failed)
        self.notify(transaction_id)

    def _dispatched(
        self, transaction_id: str, targets: Mapping[str, Any], via: str | None, failed: bool
    ) -> None:
        with write_session(self.factory) as session:
            repo.mark_dispatched(session, transaction_id, targets, via_gateway=via, failed=failed)

    async def _sellers(self, region: str) -> dict[str, str]:
        """Seller nodes the registry routes a search for ``region`` to: ``{bpp_id: url}``."""
        records = await self.network.lookup.find(
            type="BPP",
            domain=self.settings.domain,
            city=None if region == WHOLE_PROVINCE else region,
            country=str(COUNTRY),
        )
        sellers: dict[str, str] = {}
        for record in records:
            if record.subscribed and record.url and record.subscriber_id not in sellers:
                sellers[record.subscriber_id] = record.url
        return sellers

    async def _direct(self, region: str, body: bytes) -> dict[str, Any]:
        sellers = await self._sellers(region)
        client = self.network.client
        # One signature for every seller: the same bytes (as the gateway multicasts them).
        signed = {AUTHORIZATION: client.sign(body)} if sellers else {}
        results = await asyncio.gather(
            *(
                client.send(
                    url,
                    "search",
                    body,
                    headers=signed,
                    signature_header=None,
                    timeout=self.settings.send_timeout,
                )
                for url in sellers.values()
            )
        )
        return {
            bpp_id: _target(url, result)
            for (bpp_id, url), result in zip(sellers.items(), results, strict=True)
        }

    async def _through_gateway(self, region: str, body: bytes) -> tuple[str | None, dict[str, Any]]:
        """To the gateway; the sellers we expect are those the registry routes to (the
        gateway does not tell us whom it reached)."""
        gateways = await self.network.lookup.find(
            type="BG", domain=self.settings.domain, country=str(COUNTRY)
        )
        gateway = next(
            (
                g
                for g in gateways
                if g.url and g.subscribed and self.settings.gateway_id in (None, g.subscriber_id)
            ),
            None,
        )
        if gateway is None or gateway.url is None:
            log.warning("aucune passerelle (BG) inscrite pour %s", self.settings.domain)
            return None, {}
        result = await self.network.client.send(
            gateway.url, "search", body, timeout=self.settings.send_timeout
        )
        if not result.ok:
            log.warning("passerelle %s : %s %s", gateway.subscriber_id, result.status, result.error)
            return None, {}
        sellers = await self._sellers(region)
        return gateway.subscriber_id, {
            bpp_id: {"url": url, "status": "ACK", "via": gateway.subscriber_id}
            for bpp_id, url in sellers.items()
        }

    # --- 3. callbacks -------------------------------------------------------------------------

    def receive_on_search(self, message: InboundMessage) -> bool:
        """Store a verified ``on_search``; ``False`` when it was already stored.

        Raises :class:`ProtocolError` (20006) for a transaction we never started, (20000)
        for a catalog we cannot read."""
        transaction_id = message.transaction_id
        received_at = utcnow()
        with write_session(self.factory) as session:
            if (
                not transaction_id
                or not repo.search_exists(session, transaction_id)
                or message.bap_id != self.settings.subscriber_id
            ):
                raise ProtocolError(
                    f"Transaction inconnue de ce nœud acheteur : « {str(transaction_id)[:64]} ».",
                    code=ErrorCode.BUYER_UNKNOWN_TRANSACTION,
                    path="context.transaction_id",
                )
            providers = catalog_providers(message.payload)
            # Who answered: the verified signer, and where it is: the registry's address for
            # it (never what the body says; the context's bpp_uri, when given, was checked
            # equal to it on the way in).
            bpp_id = message.signer.subscriber_id
            bpp_uri = message.signer_record.url or message.bpp_uri
            callback_id = repo.insert_callback(
                session,
                action=message.action,
                transaction_id=transaction_id,
                message_id=message.message_id,
                bpp_id=bpp_id,
                bpp_uri=bpp_uri,
                body=message.body,
                received_at=received_at,
            )
            if callback_id is None:
                return False
            rows = repo.insert_results(
                session,
                transaction_id=transaction_id,
                callback_id=callback_id,
                bpp_id=bpp_id,
                bpp_uri=bpp_uri,
                providers=providers,
                received_at=received_at,
            )
        self.recent.put(callback_id, rows)  # once committed: what a stream may now read
        return True

    def notify(self, transaction_id: str | None) -> None:
        """Wake whoever waits on this transaction (call from the event loop)."""
        self.waiters.notify(transaction_id)

    # --- 4. reading ---------------------------------------------------------------------------

    async def view(
        self,
        organisation_id: str,
        transaction_id: str,
        wait_ms: int = 0,
        query: ResultQuery = NO_QUERY,
    ) -> dict[str, Any]:
        """The search and its results so far (filtered and sorted by ``query``); with
        ``wait_ms``, once every targeted seller answered or the wait is over, whichever comes
        first. While waiting, only who answered is read, not the catalogs."""
        deadline = time.monotonic() + wait_ms / 1000
        pulled = not query.providers
        while True:
            if wait_ms > 0:
                await self.waiters.wait_for(
                    transaction_id,
                    lambda: self._progress(organisation_id, transaction_id),
                    lambda progress: progress["complete"],
                    max(int((deadline - time.monotonic()) * 1000), 0),
                )
            if pulled:
                break
            # A pôle asked for by name whose matches did not fit the seller's first answer:
            # its first page is fetched now (then waited for, within wait_ms).
            pulled = True
            sent = await self.more(
                organisation_id, transaction_id, query.providers, only_empty=True
            )
            if not sent["pages"]:
                break
        return await asyncio.to_thread(self._read, organisation_id, transaction_id, query)

    # --- 5. the rest of a pôle's matches, on demand -------------------------------------------

    async def more(
        self,
        organisation_id: str,
        transaction_id: str,
        providers: frozenset[str] | set[str] = frozenset(),
        size: int | None = None,
        *,
        only_empty: bool = False,
    ) -> dict[str, Any]:
        """Ask each truncated pôle (of ``providers``, provider or seller node ids; every one
        when empty) for its next page: a signed ``search`` to its seller node, in the same
        transaction, with a new message id (:mod:`.pages`). Raises :class:`SearchNotFound`."""
        search, poles, due = await asyncio.to_thread(
            self._coverage, organisation_id, transaction_id
        )
        chosen = wanted(poles, providers, due, search["pages"], only_empty=only_empty)
        params = SearchParams.model_validate(search["params"])
        sent = await asyncio.gather(
            *(self._page(transaction_id, params, pole, size) for pole in chosen)
        )
        if sent:
            await asyncio.to_thread(self._add_pages, transaction_id, sent)
            self.notify(transaction_id)
        return {
            "transaction_id": transaction_id,
            "pages": sent,
            "poles": [pole.summary() for pole in poles],
            "results_url": f"/api/searches/{transaction_id}",
        }

    def _coverage(
        self, organisation_id: str, transaction_id: str
    ) -> tuple[Mapping[str, Any], list[Coverage], list[Mapping[str, Any]]]:
        with read_session(self.factory) as session:
            search = repo.get_search(session, transaction_id)
            if search is None or search["organisation_id"] != organisation_id:
                raise SearchNotFound(transaction_id)
            answers = repo.callbacks_of(session, transaction_id, "on_search")
            rows = repo.results_of(session, transaction_id)
        return search, coverage(merge(rows)), due_pages(search["pages"], answers)

    async def _page(
        self, transaction_id: str, params: SearchParams, pole: Coverage, size: int | None
    ) -> dict[str, Any]:
        context = Context.new(
            "search",
            domain=self.settings.domain,
            bap_id=self.settings.subscriber_id,
            bap_uri=self.settings.public_url,
            bpp_id=pole.bpp_id,
            bpp_uri=pole.bpp_uri,
            transaction_id=transaction_id,
            city_code=params.region,
            country_code=str(COUNTRY),
        )
        page = Page(start=pole.received, size=size)
        body = to_bytes(
            search_body(params.model_copy(update={"provider": pole.provider_id}), context, page)
        )
        result = await self.network.client.send(
            str(pole.bpp_uri), "search", body, timeout=self.settings.send_timeout
        )
        found = {
            "bpp_id": pole.bpp_id,
            "provider_id": pole.provider_id,
            "message_id": context.message_id,
            "start": page.start,
            "status": result.status,
            "sent_at": format_datetime(utcnow()),
        }
        if result.error:
            found["error"] = dict(result.error)
        return found

    def _add_pages(self, transaction_id: str, pages: list[dict[str, Any]]) -> None:
        with write_session(self.factory) as session:
            repo.add_pages(session, transaction_id, pages)

    def _progress(self, organisation_id: str, transaction_id: str) -> dict[str, Any]:
        with read_session(self.factory) as session:
            search = repo.get_search(session, transaction_id)
            if search is None or search["organisation_id"] != organisation_id:
                raise SearchNotFound(transaction_id)
            answers = repo.callbacks_of(session, transaction_id, "on_search")
        return search_progress(search, answers)

    def _read(
        self, organisation_id: str, transaction_id: str, query: ResultQuery = NO_QUERY
    ) -> dict[str, Any]:
        with read_session(self.factory) as session:
            search = repo.get_search(session, transaction_id)
            if search is None or search["organisation_id"] != organisation_id:
                raise SearchNotFound(transaction_id)
            answers = repo.callbacks_of(session, transaction_id, "on_search")
            rows = repo.results_of(session, transaction_id)
        return search_document(search, answers, rows, query)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _target(url: str, result: CallResult) -> dict[str, Any]:
    target: dict[str, Any] = {"url": url, "status": result.status}
    if result.error:
        target["error"] = dict(result.error)
    return target


def search_progress(search: Mapping[str, Any], answers: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Where a search stands: its state, who was asked, who answered, who is still due."""
    targets: Mapping[str, Any] = search["targets"] or {}
    targeted = [bpp for bpp, t in targets.items() if t.get("status") == "ACK"]
    answered: dict[str, Any] = {}
    for answer in answers:
        answered.setdefault(answer["bpp_id"], format_datetime(answer["received_at"]))
    pending = [bpp for bpp in targeted if bpp not in answered]
    pages = due_pages(search.get("pages"), answers)
    dispatched = search["dispatch"] != "envoi"
    return {
        # envoi (going out), echec (nobody took it), en_attente (answers due), complete
        "state": (
            search["dispatch"]
            if search["dispatch"] != "envoyee"
            else ("en_attente" if pending or pages else "complete")
        ),
        "complete": dispatched and not pending and not pages,
        "via_gateway": search["via_gateway"],
        "sellers": {
            "targeted": targeted,
            "answered": [{"bpp_id": bpp, "received_at": at} for bpp, at in answered.items()],
            "pending": pending,
            "refused": [
                {"bpp_id": bpp, "status": t.get("status"), "error": t.get("error")}
                for bpp, t in targets.items()
                if t.get("status") != "ACK"
            ],
        },
        "pages_pending": [
            {k: page.get(k) for k in ("bpp_id", "provider_id", "start", "sent_at")}
            for page in pages
        ],
    }


def search_document(
    search: Mapping[str, Any],
    answers: list[Mapping[str, Any]],
    rows: list[Mapping[str, Any]],
    query: ResultQuery = NO_QUERY,
) -> dict[str, Any]:
    """What ``GET /api/searches/{id}`` returns: the progress, the merged providers with the
    items the query keeps, and the same items as one flat list of offers in the query's
    order (price per unit computed, see :mod:`.results`), and per pôle how many items
    matched and arrived (:mod:`.pages`): a cut is always said, never silent."""
    merged = merge(rows)
    providers, offers = apply(merged, query, text=(search["params"] or {}).get("text"))
    progress = search_progress(search, answers)
    waiting = {(page["bpp_id"], page["provider_id"]) for page in progress["pages_pending"]}
    poles = [
        pole
        for pole in coverage(merged)
        if not query.providers
        or pole.provider_id in query.providers
        or pole.bpp_id in query.providers
    ]
    return {
        "transaction_id": search["transaction_id"],
        "message_id": search["message_id"],
        "created_at": format_datetime(search["created_at"]),
        "params": search["params"],
        **progress,
        "filters": query.describe(),
        "counts": {
            "providers": len(providers),
            "items": sum(len(p["items"]) for p in providers),
            "matched": sum(pole.matched for pole in poles),
            "received": sum(pole.received for pole in poles),
            "truncated": any(pole.truncated for pole in poles),
        },
        "notice": notice(poles, search["transaction_id"]),
        "poles": [pole.summary((pole.bpp_id, pole.provider_id) in waiting) for pole in poles],
        "providers": providers,
        "offers": [offer.summary() for offer in offers],
    }
