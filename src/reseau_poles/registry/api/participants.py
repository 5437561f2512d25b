"""The operator's API on participants: list them, read one, approve, suspend or reactivate
it, register one without a challenge (a third-party stack), turn down an application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool

from reseau_poles.participant.answers import answers
from reseau_poles.participant.api import body_doc

from .. import answers as out
from ..requests import AdminAction, AdminRegister
from .deps import MAX_SQL_INT, OperatorDep, ParticipantsDep, admin_router, signed_action

router = admin_router()


@router.get(
    "/subscribers", summary="Lister les participants", responses=answers(out.SubscriberPage)
)
async def list_subscribers(
    operator: OperatorDep,
    service: ParticipantsDep,
    status: str | None = None,
    type: str | None = None,
    domain: str | None = None,
    region: str | None = None,
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INT)] = 0,
) -> dict[str, Any]:
    return await run_in_threadpool(
        service.list_subscribers,
        status=status,
        type=type,
        domain=domain,
        region=region,
        search=q,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/subscribers/{subscriber_id}",
    summary="Un participant et ses clés",
    responses=answers(out.AdminSubscriber),
)
async def get_subscriber(
    operator: OperatorDep, service: ParticipantsDep, subscriber_id: str
) -> dict[str, Any]:
    return await run_in_threadpool(service.get_subscriber, subscriber_id)


def status_change(action: str) -> Callable[..., Awaitable[dict[str, Any]]]:
    """The route of one status change; ``action`` is the route's own, bound here (a
    parameter default would also be read from a ``?action=`` in the URL)."""

    async def change(
        request: Request, operator: OperatorDep, service: ParticipantsDep, subscriber_id: str
    ) -> dict[str, Any]:
        parsed = await signed_action(request, action, subscriber_id, AdminAction)
        return await run_in_threadpool(
            service.change_status, operator.actor, action, subscriber_id, parsed.reason
        )

    return change


for _action in ("approve", "suspend", "reactivate"):
    router.add_api_route(
        f"/subscribers/{{subscriber_id}}/{_action}",
        status_change(_action),
        methods=["POST"],
        openapi_extra=body_doc(AdminAction),
        responses=answers(out.StatusChanged),
        summary={"approve": "Approuver", "suspend": "Suspendre", "reactivate": "Réactiver"}[
            _action
        ],
    )


@router.post(
    "/subscribers/{subscriber_id}/register",
    summary="Inscrire un participant sans défi (pile tierce ; motif obligatoire, audité)",
    responses=answers(out.SubscriberSnapshot),
)
async def register(
    request: Request, operator: OperatorDep, service: ParticipantsDep, subscriber_id: str
) -> dict[str, Any]:
    parsed = await signed_action(request, "register", subscriber_id, AdminRegister)
    return await run_in_threadpool(
        service.register_participant, operator.actor, subscriber_id, parsed
    )


@router.post(
    "/subscribers/{subscriber_id}/reject",
    summary="Refuser une demande jamais approuvée (elle est supprimée)",
    openapi_extra=body_doc(AdminAction),
    responses=answers(out.Rejected),
)
async def reject(
    request: Request, operator: OperatorDep, service: ParticipantsDep, subscriber_id: str
) -> dict[str, Any]:
    parsed = await signed_action(request, "reject", subscriber_id, AdminAction)
    return await run_in_threadpool(
        service.reject_applicant, operator.actor, subscriber_id, parsed.reason
    )
