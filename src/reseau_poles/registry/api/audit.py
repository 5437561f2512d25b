"""The operator's API on what happened: the audit log (every change, who made it, before and
after) and the network's statistics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.concurrency import run_in_threadpool

from reseau_poles.participant.answers import answers
from reseau_poles.protocol.errors import ErrorCode

from .. import answers as out
from ..errors import RegistryError
from ..requests import parse_moment
from .deps import MAX_SQL_INT, AuditDep, OperatorDep, admin_router

router = admin_router()


@router.get(
    "/audit",
    summary="Journal d'audit",
    responses=answers(list[out.AuditEntry], description="Les plus récentes d'abord."),
)
async def audit(
    operator: OperatorDep,
    service: AuditDep,
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
        service.audit,
        subscriber_id=subscriber_id,
        action=action,
        limit=limit,
        before_id=before_id,
        since=start,
        until=end,
    )


@router.get("/stats", summary="Statistiques du réseau", responses=answers(out.Statistics))
async def stats(operator: OperatorDep, service: AuditDep) -> dict[str, Any]:
    return await run_in_threadpool(service.statistics)
