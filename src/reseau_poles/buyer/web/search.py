"""Search across all pôles (``/portail/recherche``).

GET  /portail/recherche                 the form (GET); submitted, the search goes out through
                                        :class:`BuyerService` and the browser is sent (303) to
                                        its results
GET  /portail/recherche/{id}            the results received so far (without JavaScript, after a
                                        short wait for the first answers), sorted and filtered;
                                        live with htmx (the form is boosted: no wait, the
                                        stream brings every answer)
GET  /portail/recherche/{id}/flux       the same, as they arrive: Server-Sent Events of HTML
                                        (:mod:`.search_stream`), resumed after ``last_event_id``
POST /portail/recherche/{id}/suite      ask the pôles whose results were cut for their next page

The search's own parameters (text, delivery region or site, category, certification,
conservation) go to the sellers; the result filters (certification, conservation, unit and
price per unit at most, sort) are the client API's query string
(:func:`reseau_poles.buyer.services.results.parse_result_query`), kept in the results' address.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from reseau_poles.participant.api import ApiError
from reseau_poles.portal.auth import CurrentUser, PageError, audit, see_other
from reseau_poles.portal.forms import MAX_FIELD_LENGTH, Form, read_form
from reseau_poles.portal.templating import render, text
from reseau_poles.protocol.profile import WHOLE_PROVINCE, Region
from reseau_poles.storage import utcnow

from ..requests import SearchParams
from ..services import sse
from ..services.offer_cards import MAX_CARDS, offer_cards
from ..services.results import NO_QUERY, QueryError, ResultQuery, parse_result_query
from ..services.searches import SearchNotFound
from .portal import PREFIX
from .search_stream import HtmlEvents, known_poles, search_status
from .shared import Carts, Searches, Settings, Sites, Streams, current_cart_id, stream_response

router = APIRouter(prefix=PREFIX, include_in_schema=False)

# The choices the form offers (the profile's codes; words from the catalogue).
CATEGORIES: Final = (
    "erable",
    "fruits",
    "legumes",
    "produits-laitiers",
    "viandes",
    "poissons",
    "oeufs",
    "boulangerie",
    "epicerie",
    "mets-prepares",
    "boissons",
)
CERTIFICATIONS: Final = (
    "aliments_du_quebec",
    "aliments_prepares_au_quebec",
    "aliments_du_quebec_bio",
    "aliments_prepares_au_quebec_bio",
    "biologique_canada",
    "biologique_quebec",
)
CONSERVATIONS: Final = ("ambiant", "refrigere", "congele")
UNITS: Final = ("kg", "l", "unite")
SORTS: Final = ("relevance", "unit_price")
# The result filters of the results' address (the client API's names).
RESULT_FIELDS: Final = ("certification", "conservation", "unit", "max_unit_price", "sort")
# How long the results page waits for the first answers (a browser without JavaScript gets
# them in the page; with it, the stream brings the rest).
FIRST_ANSWERS_MS: Final = 1500
# With htmx: how long the page waits for the first answer, and how many of its cards it
# draws (a screenful; making a card is most of the page's time, and a pôle may bring 200).
FIRST_CARD_WAIT_MS: Final = 400
FIRST_CARDS: Final = 24
# The stream's parameter saying how many cards of its answers the page drew.
DRAWN: Final = "montrees"


def _query_form(request: Request) -> Form:
    form = Form()
    for key, value in request.query_params.multi_items():
        form.values.setdefault(key, value[:MAX_FIELD_LENGTH])
        form.lists.setdefault(key, []).append(value[:MAX_FIELD_LENGTH])
    return form


def _choices(request: Request, sites: list[dict[str, Any]]) -> dict[str, Any]:
    """The form's options, ``(value, label)`` in the page's language."""

    def options(codes: tuple[str, ...], key: Any, first: str | None) -> list[tuple[str, str]]:
        found = [("", text(request, first))] if first else []
        return found + [(code, text(request, key(code))) for code in codes]

    return {
        "regions": [(region.value, region.label) for region in Region],
        "sites": [(f"site:{site['id']}", site["name"]) for site in sites],
        "category_options": options(CATEGORIES, lambda c: f"search.categorie.{c}", "search.toutes"),
        "certification_options": options(
            CERTIFICATIONS, lambda c: f"search.certification.{c}", "search.toutes"
        ),
        "conservation_options": options(
            CONSERVATIONS, lambda c: f"search.conservation.{c}", "search.toutes"
        ),
        "unit_options": options(UNITS, lambda c: f"search.par_unite.{c}", "search.aucune_unite"),
        "sort_options": options(SORTS, lambda c: f"search.tri.{c}", None),
    }


def _read_search_form(
    form: Form, sites: list[dict[str, Any]]
) -> tuple[SearchParams | None, dict[str, str], str | None]:
    """The search's parameters, the result filters for the results' address, and the site
    chosen; ``None`` with the form's errors set."""
    text = form.optional("text", max_length=200)
    where = form.get("region").strip() or WHOLE_PROVINCE
    by_id = {f"site:{site['id']}": site for site in sites}
    site = by_id.get(where)
    if site is None and where != WHOLE_PROVINCE and where not in {r.value for r in Region}:
        form.error("region", "champ.choix_invalide")
    category = form.choice("category", CATEGORIES, required=False)
    certification = form.choice("certification", CERTIFICATIONS, required=False)
    conservation = form.choice("conservation", CONSERVATIONS, required=False)
    unit = form.choice("unit", UNITS, required=False)
    price = form.decimal("max_unit_price", required=False, minimum=None)
    if price is not None and not 0 <= price <= 1_000_000:
        form.error("max_unit_price", "champ.hors_limites")
    if price is not None and unit is None:
        form.error("unit", "search.erreur.unite_requise")
    sort = form.choice("sort", SORTS, required=False)
    if sort == "unit_price" and unit is None:
        form.error("unit", "search.erreur.unite_tri")
    if not form.ok:
        return None, {}, None
    values: dict[str, Any] = {"text": text, "category": category}
    if site is not None:
        values["region"] = site["region"]
        if site.get("postal_code"):
            values["postal_code"] = site["postal_code"]
    else:
        values["region"] = where
    if certification:
        values["certification"] = [certification]
    if conservation:
        values["conservation"] = conservation
    try:
        params = SearchParams.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError:
        form.error("text", "search.erreur.parametres")
        return None, {}, None
    filters = {
        "certification": certification,
        "conservation": conservation,
        "unit": unit,
        "max_unit_price": format(price, "f") if price is not None else None,
        "sort": sort,
    }
    return params, {k: v for k, v in filters.items() if v}, site["id"] if site else None


@router.get("/recherche", name="portail_search")
async def search_page(
    request: Request, user: CurrentUser, service: Searches, sites: Sites
) -> Response:
    organisation_id = user.organisation_id
    known_sites = await sites.list(organisation_id)
    form = _query_form(request)
    if "text" not in request.query_params:  # not submitted: the empty form
        return render(
            request,
            "portail/recherche.html",
            {"form": form, "sse": True, **_choices(request, known_sites)},
        )
    params, filters, site_id = _read_search_form(form, known_sites)
    if params is None:
        return render(
            request,
            "portail/recherche.html",
            {"form": form, "sse": True, **_choices(request, known_sites)},
            status=400,
        )
    started = await service.start_search(organisation_id, params)
    transaction_id = started["transaction_id"]
    await audit(
        request,
        user,
        "recherche.lancee",
        transaction_id,
        {"texte": params.text, "region": params.region},
    )
    query = dict(filters)
    if site_id:
        query["site"] = site_id
    target = f"{PREFIX}/recherche/{transaction_id}" + (f"?{urlencode(query)}" if query else "")
    return RedirectResponse(target, status_code=303)


def _result_query(request: Request, *ignore: str) -> ResultQuery:
    try:
        return parse_result_query(
            request.query_params.multi_items(), ignore=("site", "last_event_id", "lang", *ignore)
        )
    except QueryError:
        raise PageError(400, "search.erreur.filtres") from None


def _form_of(document: dict[str, Any], request: Request) -> Form:
    """The form as the search was asked (its stored parameters and the result filters)."""
    params = document["params"] or {}
    form = Form()
    form.values["text"] = params.get("text") or ""
    site = request.query_params.get("site")
    form.values["region"] = f"site:{site}" if site else params.get("region", WHOLE_PROVINCE)
    form.values["category"] = params.get("category") or ""
    certifications = params.get("certification") or []
    form.values["certification"] = request.query_params.get("certification") or (
        certifications[0] if certifications else ""
    )
    form.values["conservation"] = (
        request.query_params.get("conservation") or params.get("conservation") or ""
    )
    for name in ("unit", "max_unit_price", "sort"):
        form.values[name] = request.query_params.get(name, "")
    return form


def _stream_url(transaction_id: str, request: Request, last: int, drawn: int | None) -> str:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k in RESULT_FIELDS]
    if drawn is not None:
        kept.append((DRAWN, str(drawn)))
    return f"{PREFIX}/recherche/{transaction_id}/flux?" + urlencode(
        [*kept, ("last_event_id", last)]
    )


@router.get("/recherche/{transaction_id}", name="portail_search_results")
async def results_page(
    request: Request,
    transaction_id: str,
    user: CurrentUser,
    service: Searches,
    sites: Sites,
    carts: Carts,
) -> Response:
    transaction_id = transaction_id[:64]
    query = _result_query(request)
    organisation_id = user.organisation_id
    htmx = request.headers.get("hx-request") == "true"
    try:
        # Without JavaScript the page is all there is: wait a little for the first answers.
        # With it (htmx's boosted form), wait only for the first one: its first cards are in
        # the page (opening the stream first would cost a round trip before any card), the
        # stream brings the rest of it at once, then each other answer.
        await sse.first_answers(
            service,
            organisation_id,
            transaction_id,
            FIRST_CARD_WAIT_MS if htmx else FIRST_ANSWERS_MS,
        )
        document, last = await asyncio.to_thread(
            sse.snapshot,
            service,
            organisation_id,
            transaction_id,
            NO_QUERY,
            answers_at_most=1 if htmx else None,
        )
    except SearchNotFound:
        raise PageError(404, "search.erreur.inconnue") from None
    text = (document["params"] or {}).get("text")
    drawn = FIRST_CARDS if htmx else None
    cards, total = offer_cards(
        document["providers"], query, text=text, now=utcnow(), limit=drawn or MAX_CARDS
    )
    # Cards held back come with the stream's first event, at once: counted as shown.
    held_back = drawn is not None and min(total, MAX_CARDS) > len(cards)
    shown = min(total, MAX_CARDS) if held_back else len(cards)
    status = search_status(document, document["poles"], total=total, shown=shown)
    live = held_back or (not document["complete"] and document["state"] != "echec")
    known_sites = await sites.list(organisation_id)
    open_carts = [
        cart
        for cart in await carts.list_carts(organisation_id)
        if cart["approval"] in ("brouillon", "renvoye", "approuve")
    ]
    current = current_cart_id(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(
        request,
        "portail/recherche.html",
        {
            "form": _form_of(document, request),
            **_choices(request, known_sites),
            "transaction_id": transaction_id,
            "cards": cards,
            "status": status,
            "live": live,
            # The extension on every search page: a boosted form brings the results in.
            "sse": True,
            "stream_url": _stream_url(transaction_id, request, last, drawn) if live else None,
            "here": here,
            "open_carts": open_carts,
            "current_cart": current if current in {c["id"] for c in open_carts} else None,
        },
    )


@router.get("/recherche/{transaction_id}/flux", name="portail_search_stream")
async def results_stream(
    request: Request,
    transaction_id: str,
    user: CurrentUser,
    service: Searches,
    settings: Settings,
    streams: Streams,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    transaction_id = transaction_id[:64]
    query = _result_query(request, DRAWN)
    resume = last_event_id or request.query_params.get("last_event_id") or "0"
    resume = resume.strip()
    if not resume.isdigit() or len(resume) > 18:
        raise PageError(400, "search.erreur.filtres")
    after = int(resume)
    # How many cards of those answers the page drew (the rest is this stream's first event);
    # a reconnection (Last-Event-ID) has received them all.
    drawn_value = request.query_params.get(DRAWN, "")
    if drawn_value and (not drawn_value.isdigit() or len(drawn_value) > 4):
        raise PageError(400, "search.erreur.filtres")
    drawn = int(drawn_value) if drawn_value and not last_event_id else None
    organisation_id = user.organisation_id
    try:
        known, arrivals, progress = await asyncio.to_thread(
            known_poles, service, organisation_id, transaction_id, query, after, drawn
        )
        here = request.headers.get("hx-current-url") or f"{PREFIX}/recherche/{transaction_id}"
        writer = HtmlEvents(
            request,
            known=known,
            arrivals=arrivals,
            context={"transaction_id": transaction_id, "here": here, "live": False},
            progress=progress,
            after=after,
        )
        stream = await sse.open_stream(
            service,
            streams,
            organisation_id,
            transaction_id,
            query,
            after=after,
            wait_seconds=settings.max_wait_ms / 1000,
            heartbeat=float(request.app.state.sse_heartbeat_seconds),
            writer=writer,
        )
    except SearchNotFound:
        raise PageError(404, "search.erreur.inconnue") from None
    return stream_response(stream, "search.erreur.trop_de_flux")


@router.post("/recherche/{transaction_id}/suite", name="portail_search_more")
async def more_results(
    request: Request, transaction_id: str, user: CurrentUser, service: Searches
) -> Response:
    transaction_id = transaction_id[:64]
    try:
        sent = await service.more(user.organisation_id, transaction_id)
    except SearchNotFound:
        raise PageError(404, "search.erreur.inconnue") from None
    except ApiError:
        raise PageError(400, "search.erreur.filtres") from None
    await audit(request, user, "recherche.suite", transaction_id, {"pages": len(sent["pages"])})
    target = f"{PREFIX}/recherche/{transaction_id}"
    back = (await read_form(request)).get("suivant")
    if back.startswith(target) and "//" not in back:
        target = back
    key = "search.suite_demandee" if sent["pages"] else "search.suite_rien"
    return see_other(request, target, ok=key, poles=len(sent["pages"]))
