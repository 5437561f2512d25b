"""What the registry says about itself: its public record (``/.well-known/…``), its health
and its Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from reseau_poles.participant.answers import answers

from .. import answers as out
from ..metrics import CONTENT_TYPE
from .deps import Registry

WELL_KNOWN = "/.well-known/reseau-poles/registry.json"

router = APIRouter()


@router.get(WELL_KNOWN, summary="Clé publique du registre", responses=answers(out.RegistryRecord))
async def registry_key(service: Registry) -> dict[str, str]:
    return service.registry_record()


@router.get("/health", summary="État du service", responses=answers(out.RegistryHealth))
async def health(service: Registry) -> JSONResponse:
    try:
        report = await run_in_threadpool(service.health)
    except Exception as exc:  # the database is down: say so, without a trace
        return JSONResponse({"status": "degraded", "database": type(exc).__name__}, status_code=503)
    index = service.snapshot.index
    report["snapshot_revision"] = index.revision if index else None
    report["policy"] = service.settings.policy.value
    return JSONResponse(report)


@router.get("/metrics", summary="Métriques Prometheus", response_class=PlainTextResponse)
async def metrics(service: Registry) -> Response:
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
