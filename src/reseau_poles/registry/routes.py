"""HTTP routes of the registry. Thin: read the request, call the service, shape the answer."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import ValidationError

from reseau_poles.network.query import refuse_unknown_query
from reseau_poles.node.answers import answers
from reseau_poles.node.api import body_doc
from reseau_poles.protocol.errors import ErrorCode, ProtocolError

from . import answers as out
from . import key_admin
from .auth import Operator
from .challenge import source_of
from .metrics import CONTENT_TYPE
from .schemas import (
    AdminAction,
    AdminKey,
    AdminRegister,
    parse_lookup,
    parse_moment,
    validation_nack,
)
from .service import RegistryError, RegistryService

WELL_KNOWN = "/.well-known/reseau-poles/registry.json"
# The largest integer SQLite and PostgreSQL (BIGINT) take: beyond it a query parameter would
# reach the database driver and fail there (OverflowError) instead of being refused with 400.
MAX_SQL_INT = 2**63 - 1

public = APIRouter()


def service_of(request: Request) -> RegistryService:
    return request.app.state.service


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RegistryError(
            f"corps trop long (> {limit} octets)",
            code=ErrorCode.REGISTRY_INVALID_REQUEST,
            path="$",
            status=413,
        )
    body = await request.body()
    if len(body) > limit:
        raise RegistryError(
            f"corps trop long (> {limit} octets)",
            code=ErrorCode.REGISTRY_INVALID_REQUEST,
            path="$",
            status=413,
        )
    return body


@public.post(
    "/subscribe",
    summary="Inscrire un participant ou mettre à jour son inscription",
    responses={
        **answers(out.SubscribeAnswer, description="ACK, et où en est l'inscription."),
        400: {"description": "NACK : requête ou url refusée (15000), défi non relevé (15003)"},
        401: {"description": "NACK : signature invalide (15001)"},
        429: {"description": "NACK : trop d'inscriptions en cours (15008), voir Retry-After"},
    },
)
async def subscribe(request: Request) -> JSONResponse:
    service = service_of(request)
    body = await _body(request, service.settings.max_body_bytes)
    source = source_of(request.client.host if request.client else None)
    outcome = await service.subscribe(body, request.headers.get("authorization"), source)
    return JSONResponse(outcome.to_ack())


@public.post(
    "/lookup",
    summary="Chercher des participants (non signé)",
    responses=answers(
        list[out.LookupRecord],
        description="Les participants trouvés, une entrée par clé ; la réponse est signée par "
        "le registre (en-tête `Authorization`).",
    ),
)
@public.post("/subscribers/lookup", include_in_schema=False)
async def lookup(request: Request) -> Response:
    service = service_of(request)
    body = await _body(request, 8192)
    try:
        data = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise RegistryError(
            "le corps n'est pas du JSON valide",
            code=ErrorCode.REGISTRY_INVALID_REQUEST,
            path="$",
            status=400,
        ) from None
    query = parse_lookup(data)
    content, signature, _ = await service.snapshot.lookup(query)
    return Response(content, media_type="application/json", headers={"Authorization": signature})


@public.get(
    "/revision",
    summary="Révision du registre (change à chaque écriture)",
    responses=answers(out.Revision),
)
async def revision(request: Request) -> dict[str, int]:
    """Un nombre qui croît à chaque changement du registre (inscription, approbation,
    suspension, réactivation, révocation). Les nœuds la surveillent toutes les quelques
    secondes et vident leur cache de recherches quand elle change : une suspension comme une
    réactivation les atteint en quelques secondes, sans attendre la fin du cache (60 s)."""
    return {"revision": await run_in_threadpool(service_of(request).revision)}


@public.get(WELL_KNOWN, summary="Clé publique du registre", responses=answers(out.RegistryRecord))
async def registry_key(request: Request) -> dict[str, str]:
    return service_of(request).registry_record()


@public.get("/health", summary="État du service", responses=answers(out.RegistryHealth))
async def health(request: Request) -> JSONResponse:
    service = service_of(request)
    try:
        report = await run_in_threadpool(service.health)
    except Exception as exc:  # the database is down: say so, without a trace
        return JSONResponse({"status": "degraded", "database": type(exc).__name__}, status_code=503)
    index = service.snapshot.index
    report["snapshot_revision"] = index.revision if index else None
    report["policy"] = service.settings.policy.value
    return JSONResponse(report)


@public.get("/metrics", summary="Métriques Prometheus", response_class=PlainTextResponse)
async def metrics(request: Request) -> Response:
    service = service_of(request)
    m = service.metrics
    snap = service.snapshot
    m.set("registry_lookups_total", snap.hits + snap.misses)
    m.set("registry_lookup_cache_total", snap.hits, result="hit")
    m.set("registry_lookup_cache_total", snap.misses, result="miss")
    m.set("registry_lookup_records_total", snap.records_returned)
    m.set("registry_snapshot_reloads_total", snap.reloads)
    m.set("registry_challenges_in_flight", service.challenger.gate.in_flight)
    try:
        counts = await run_in_threadpool(service.health)
        for status, count in counts["subscribers"].items():
            m.set("registry_subscribers", count, status=status)
    except Exception:  # metrics must still answer when the database does not
        pass
    return Response(m.render(), media_type=CONTENT_TYPE)


# --- operator API ------------------------------------------------------------------------------


async def current_operator(request: Request) -> Operator:
    """The operator who signed this request (``OperatorAuth`` set up by the app factory)."""
    return await request.app.state.operator_auth(request)


OperatorDep = Annotated[Operator, Depends(current_operator)]


def _unknown_query(name: str, message: str) -> ProtocolError:
    return ProtocolError(message, code=ErrorCode.REGISTRY_INVALID_REQUEST, path=name)


def make_admin_router() -> APIRouter:
    admin = APIRouter(
        prefix="/admin",
        tags=["admin"],
        dependencies=[refuse_unknown_query(_unknown_query)],
    )

    @admin.get(
        "/subscribers", summary="Lister les participants", responses=answers(out.SubscriberPage)
    )
    async def list_subscribers(
        request: Request,
        operator: OperatorDep,
        status: str | None = None,
        type: str | None = None,
        domain: str | None = None,
        region: str | None = None,
        q: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_SQL_INT)] = 0,
    ) -> dict[str, Any]:
        return await run_in_threadpool(
            service_of(request).list_subscribers,
            status=status,
            type=type,
            domain=domain,
            region=region,
            search=q,
            limit=limit,
            offset=offset,
        )

    @admin.get(
        "/subscribers/{subscriber_id}",
        summary="Un participant et ses clés",
        responses=answers(out.AdminSubscriber),
    )
    async def get_subscriber(
        request: Request, operator: OperatorDep, subscriber_id: str
    ) -> dict[str, Any]:
        return await run_in_threadpool(service_of(request).get_subscriber, subscriber_id)

    async def _action(
        request: Request,
        action: str | tuple[str, ...],
        subscriber_id: str,
        model: type[AdminAction] = AdminAction,
    ) -> Any:
        body = await request.body()
        try:
            parsed = model.model_validate_json(body or b"{}")
        except ValidationError as exc:
            raise validation_nack(exc) from None
        actions = (action,) if isinstance(action, str) else action
        if parsed.action not in actions or parsed.subscriber_id != subscriber_id:
            named = " ou ".join(repr(a) for a in actions)
            raise RegistryError(
                f"le corps signé doit nommer l'action {named} et le participant {subscriber_id!r}",
                code=ErrorCode.REGISTRY_INVALID_REQUEST,
                path="action" if parsed.action not in actions else "subscriber_id",
                status=400,
            )
        if action == "suspend" and not (parsed.reason or "").strip():
            raise RegistryError(
                "une suspension demande un motif (reason), gardé au journal d'audit",
                code=ErrorCode.REGISTRY_INVALID_REQUEST,
                path="reason",
                status=400,
            )
        return parsed

    def status_change(action: str) -> Callable[..., Awaitable[dict[str, Any]]]:
        """The route of one status change; ``action`` is the route's own, bound here (a
        parameter default would also be read from a ``?action=`` in the URL)."""

        async def change(
            request: Request, operator: OperatorDep, subscriber_id: str
        ) -> dict[str, Any]:
            parsed = await _action(request, action, subscriber_id)
            return await run_in_threadpool(
                service_of(request).change_status,
                operator.actor,
                action,
                subscriber_id,
                parsed.reason,
            )

        return change

    for action in ("approve", "suspend", "reactivate"):
        admin.add_api_route(
            f"/subscribers/{{subscriber_id}}/{action}",
            status_change(action),
            methods=["POST"],
            openapi_extra=body_doc(AdminAction),
            responses=answers(out.StatusChanged),
            summary={"approve": "Approuver", "suspend": "Suspendre", "reactivate": "Réactiver"}[
                action
            ],
        )

    @admin.post(
        "/subscribers/{subscriber_id}/keys/{key_id}/revoke",
        summary="Révoquer une clé",
        openapi_extra=body_doc(AdminAction),
        responses=answers(out.SubscriberSnapshot),
    )
    async def revoke_key(
        request: Request, operator: OperatorDep, subscriber_id: str, key_id: str
    ) -> dict[str, Any]:
        parsed = await _action(request, "revoke_key", subscriber_id)
        if parsed.key_id != key_id:
            raise RegistryError(
                f"le corps signé doit nommer la clé {key_id!r}",
                code=ErrorCode.REGISTRY_INVALID_REQUEST,
                path="key_id",
                status=400,
            )
        return await run_in_threadpool(
            service_of(request).revoke_key, operator.actor, subscriber_id, key_id, parsed.reason
        )

    @admin.post(
        "/subscribers/{subscriber_id}/keys",
        summary="Ajouter une clé (add_key) ou remplacer toutes les clés (reset_key)",
        openapi_extra=body_doc(AdminKey),
        responses=answers(out.SubscriberSnapshot),
    )
    async def add_key(
        request: Request, operator: OperatorDep, subscriber_id: str
    ) -> dict[str, Any]:
        parsed = await _action(request, ("add_key", "reset_key"), subscriber_id, AdminKey)
        return await run_in_threadpool(
            key_admin.add_key, service_of(request), operator.actor, subscriber_id, parsed
        )

    @admin.post(
        "/subscribers/{subscriber_id}/register",
        summary="Inscrire un participant sans défi (pile tierce ; motif obligatoire, audité)",
        responses=answers(out.SubscriberSnapshot),
    )
    async def register(
        request: Request, operator: OperatorDep, subscriber_id: str
    ) -> dict[str, Any]:
        parsed = await _action(request, "register", subscriber_id, AdminRegister)
        return await run_in_threadpool(
            key_admin.register_participant,
            service_of(request),
            operator.actor,
            subscriber_id,
            parsed,
        )

    @admin.post(
        "/subscribers/{subscriber_id}/reject",
        summary="Refuser une demande jamais approuvée (elle est supprimée)",
        openapi_extra=body_doc(AdminAction),
        responses=answers(out.Rejected),
    )
    async def reject(request: Request, operator: OperatorDep, subscriber_id: str) -> dict[str, Any]:
        parsed = await _action(request, "reject", subscriber_id)
        return await run_in_threadpool(
            key_admin.reject_applicant,
            service_of(request),
            operator.actor,
            subscriber_id,
            parsed.reason,
        )

    @admin.get(
        "/keys/expiring",
        summary="Clés qui expirent bientôt (ou déjà expirées)",
        responses=answers(list[out.ExpiringKey], description="Les plus proches d'abord."),
    )
    async def expiring(
        request: Request,
        operator: OperatorDep,
        within_days: Annotated[int, Query(ge=0, le=3650)] = 30,
    ) -> list[dict[str, Any]]:
        return await run_in_threadpool(
            key_admin.expiring_keys, service_of(request), timedelta(days=within_days)
        )

    @admin.get(
        "/audit",
        summary="Journal d'audit",
        responses=answers(list[out.AuditEntry], description="Les plus récentes d'abord."),
    )
    async def audit(
        request: Request,
        operator: OperatorDep,
        subscriber_id: str | None = None,
        action: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        before_id: Annotated[int | None, Query(ge=0, le=MAX_SQL_INT)] = None,
        since: Annotated[
            str | None, Query(description="Depuis (inclus) : AAAA-MM-JJ ou date ISO 8601.")
        ] = None,
        until: Annotated[
            str | None, Query(description="Jusqu'à (exclu) : AAAA-MM-JJ ou date ISO 8601.")
        ] = None,
    ) -> list[dict[str, Any]]:
        start = parse_moment(since, "since") if since is not None else None
        end = parse_moment(until, "until") if until is not None else None
        if start is not None and end is not None and end <= start:
            raise RegistryError(
                "until doit être postérieur à since",
                code=ErrorCode.REGISTRY_INVALID_REQUEST,
                path="until",
                status=400,
            )
        return await run_in_threadpool(
            service_of(request).audit,
            subscriber_id=subscriber_id,
            action=action,
            limit=limit,
            before_id=before_id,
            since=start,
            until=end,
        )

    @admin.get("/stats", summary="Statistiques du réseau", responses=answers(out.Statistics))
    async def stats(request: Request, operator: OperatorDep) -> dict[str, Any]:
        return await run_in_threadpool(service_of(request).statistics)

    return admin
