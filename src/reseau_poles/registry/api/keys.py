"""The operator's API on keys: revoke one, add one or replace them all (the way back for a
node whose keys are all revoked or expired), list those that expire soon."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool

from reseau_poles.participant.answers import answers
from reseau_poles.participant.api import body_doc
from reseau_poles.protocol.errors import ErrorCode

from .. import answers as out
from ..errors import RegistryError
from ..requests import AdminAction, AdminKey
from .deps import KeysDep, OperatorDep, admin_router, signed_action

router = admin_router()


@router.post(
    "/subscribers/{subscriber_id}/keys/{key_id}/revoke",
    summary="Révoquer une clé",
    openapi_extra=body_doc(AdminAction),
    responses=answers(out.SubscriberSnapshot),
)
async def revoke_key(
    request: Request, operator: OperatorDep, service: KeysDep, subscriber_id: str, key_id: str
) -> dict[str, Any]:
    parsed = await signed_action(request, "revoke_key", subscriber_id, AdminAction)
    if parsed.key_id != key_id:
        raise RegistryError(
            f"le corps signé doit nommer la clé {key_id!r}",
            code=ErrorCode.REGISTRY_INVALID_REQUEST,
            path="key_id",
            status=400,
        )
    return await run_in_threadpool(
        service.revoke_key, operator.actor, subscriber_id, key_id, parsed.reason
    )


@router.post(
    "/subscribers/{subscriber_id}/keys",
    summary="Ajouter une clé (add_key) ou remplacer toutes les clés (reset_key)",
    openapi_extra=body_doc(AdminKey),
    responses=answers(out.SubscriberSnapshot),
)
async def add_key(
    request: Request, operator: OperatorDep, service: KeysDep, subscriber_id: str
) -> dict[str, Any]:
    parsed = await signed_action(request, ("add_key", "reset_key"), subscriber_id, AdminKey)
    return await run_in_threadpool(service.add_key, operator.actor, subscriber_id, parsed)


@router.get(
    "/keys/expiring",
    summary="Clés qui expirent bientôt (ou déjà expirées)",
    responses=answers(list[out.ExpiringKey], description="Les plus proches d'abord."),
)
async def expiring(
    operator: OperatorDep,
    service: KeysDep,
    within_days: Annotated[int, Query(ge=0, le=3650)] = 30,
) -> list[dict[str, Any]]:
    return await run_in_threadpool(service.expiring_keys, timedelta(days=within_days))
