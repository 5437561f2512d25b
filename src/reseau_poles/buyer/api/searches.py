"""The client API of searches (``/api/searches``).

POST /api/searches              plain parameters → Beckn search sent out; 202 + transaction id
GET  /api/searches/{id}         results so far, merged per provider and item; ``?wait_ms=``;
                                filters and sort (``reseau_poles.buyer.services.results``)
POST /api/searches/{id}/more    the next page of a truncated pôle (or of each), on demand
GET  /api/searches/{id}/events  the same as Server-Sent Events, seller by seller (``..services.sse``)
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from reseau_poles.network.query import reads_query
from reseau_poles.participant import ApiError, read_json_object, validated
from reseau_poles.participant.answers import answers, text_answer
from reseau_poles.participant.api import body_doc

from .. import answers as out
from ..requests import MoreParams, ResultFilters, Resume, SearchParams
from ..services import sse
from ..services.results import QueryError, ResultQuery, parse_result_query
from ..services.searches import SearchNotFound
from .deps import Heartbeat, Organisation, Searches, Settings, Streams, wait_of

router = APIRouter(prefix="/api/searches")


def result_query(request: Request, *extra: str) -> ResultQuery:
    try:
        return parse_result_query(request.query_params.multi_items(), ignore=("wait_ms", *extra))
    except QueryError as exc:
        raise ApiError(400, "parametres_invalides", exc.message, exc.path) from None


def unknown_search() -> ApiError:
    return ApiError(404, "recherche_inconnue", "Recherche inconnue.", "transaction_id")


@router.post(
    "",
    status_code=202,
    openapi_extra=body_doc(SearchParams, required=False),
    responses=answers(out.SearchStarted, 202, description="La recherche est partie."),
    summary="Chercher dans tous les pôles",
)
async def create_search(
    request: Request, service: Searches, organisation_id: Organisation
) -> JSONResponse:
    """Lancer une recherche dans les pôles ; les résultats arrivent ensuite."""
    data = await read_json_object(request)
    params = validated(SearchParams, data)
    started = await service.start_search(organisation_id, params)
    tx = started["transaction_id"]
    return JSONResponse(
        {**started, "results_url": f"/api/searches/{tx}"},
        status_code=202,
        headers={"Location": f"/api/searches/{tx}"},
    )


@router.get(
    "/{transaction_id}",
    responses=answers(out.SearchResults),
    summary="Résultats d'une recherche",
)
@reads_query(ResultFilters)
async def read_search(
    request: Request,
    transaction_id: str,
    service: Searches,
    settings: Settings,
    organisation_id: Organisation,
    wait_ms: str | None = None,
) -> dict[str, Any]:
    """Les résultats reçus jusqu'ici ; ``wait_ms`` : attendre tous les vendeurs visés.
    Filtres et tri : voir ``reseau_poles.buyer.services.results`` (certification, conservation,
    origin, provider, unit, min_unit_price, max_unit_price, sort)."""
    query = result_query(request)
    wait = wait_of(wait_ms, settings.max_wait_ms)
    try:
        return await service.view(organisation_id, transaction_id[:64], wait, query)
    except SearchNotFound:
        raise unknown_search() from None


@router.post(
    "/{transaction_id}/more",
    openapi_extra=body_doc(MoreParams, required=False),
    responses=answers(
        out.MoreSent, 200, 202, description="202 : pages demandées ; 200 : rien à demander."
    ),
    summary="Page suivante des résultats d'un pôle",
)
async def more_results(
    request: Request, transaction_id: str, service: Searches, organisation_id: Organisation
) -> JSONResponse:
    """La suite des articles d'un pôle (``{"provider": "pole-beauce"}``, id de pôle ou de
    nœud vendeur) ou de chaque pôle dont les résultats sont partiels (corps vide) : une
    recherche signée au nœud vendeur, page suivante ; 202 et les pages demandées, puis
    ``GET /api/searches/{id}?wait_ms=…`` pour les lire."""
    params = validated(MoreParams, await read_json_object(request))
    tx = transaction_id[:64]
    providers = frozenset({params.provider} if params.provider else ())
    try:
        sent = await service.more(organisation_id, tx, providers, params.size)
    except SearchNotFound:
        raise unknown_search() from None
    known = {p["provider_id"] for p in sent["poles"]} | {p["bpp_id"] for p in sent["poles"]}
    if params.provider and params.provider not in known:
        raise ApiError(
            404,
            "pole_inconnu",
            f"Aucun pôle « {params.provider} » dans les réponses de cette recherche.",
            "provider",
        )
    return JSONResponse(
        sent,
        status_code=202 if sent["pages"] else 200,
        headers={"Location": sent["results_url"]},
    )


@router.get(
    "/{transaction_id}/events",
    response_class=StreamingResponse,
    responses=text_answer(
        "Server-Sent Events, UTF-8, un objet JSON par ligne `data:`. `event: resultats` "
        "(`id:` croissant) : un par réponse `on_search` enregistrée — le vendeur, ce que "
        "cette réponse apporte (pôles et articles, mêmes filtres et tri que la lecture "
        "simple), par pôle ce qui est trouvé et reçu jusqu'ici, et où en est la recherche. "
        "`event: fin`, une fois, en dernier (`raison` : `complete`, `echec`, `expiree` ou "
        "`delai`), avec l'avancement de la recherche ; le flux se ferme ensuite. "
        "`: ping` en commentaire quand rien n'arrive.",
        "text/event-stream",
    ),
    summary="Résultats au fil de l'eau (SSE)",
)
@reads_query(ResultFilters, Resume)
async def search_events(
    request: Request,
    transaction_id: str,
    service: Searches,
    settings: Settings,
    streams: Streams,
    heartbeat: Heartbeat,
    organisation_id: Organisation,
    wait_ms: str | None = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    """Les résultats en Server-Sent Events, vendeur par vendeur (``resultats`` : ce que
    chaque réponse apporte), puis ``fin`` ; reprise avec ``Last-Event-ID``. Mêmes filtres
    que la lecture simple. Au plus ``max_streams_per_organisation`` flux ouverts à la fois
    par organisation : au-delà, 429 ``trop_de_flux``."""
    query = result_query(request, "last_event_id")
    wait = wait_of(wait_ms, settings.max_wait_ms, default=settings.max_wait_ms)
    resume = last_event_id_header
    path = "headers.Last-Event-ID"
    if resume is None and "last_event_id" in request.query_params:
        resume, path = request.query_params["last_event_id"], "last_event_id"
    after = 0
    if resume is not None and resume.strip():
        if not resume.strip().isdigit() or len(resume.strip()) > 18:
            raise ApiError(
                400,
                "parametres_invalides",
                "Last-Event-ID : identifiant d'événement (entier) attendu.",
                path,
            )
        after = int(resume.strip())
    try:
        stream = await sse.open_stream(
            service,
            streams,
            organisation_id,
            transaction_id[:64],
            query,
            after=after,
            wait_seconds=wait / 1000,
            heartbeat=heartbeat,
        )
    except SearchNotFound:
        raise unknown_search() from None
    if stream is None:
        refused = ApiError(
            429,
            "trop_de_flux",
            f"Trop de flux ouverts pour cette organisation (au plus {streams.limit} à la "
            "fois) : fermez-en un (EventSource.close() à « fin ») ou réessayez plus tard.",
            "transaction_id",
        )
        return JSONResponse(
            refused.body(),
            status_code=429,
            headers={"Retry-After": str(sse.RETRY_AFTER_SECONDS)},
        )
    return StreamingResponse(stream, media_type=sse.MEDIA_TYPE, headers=sse.HEADERS)
