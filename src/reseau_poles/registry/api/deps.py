"""What the registry's routes get by dependency: its services (the one place that reads
``request.app.state``), the operator who signed an ``/admin`` request, and the bodies they
read themselves (so that every refusal is a NACK of ours, never FastAPI's 422)."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError

from reseau_poles.network.query import refuse_unknown_query
from reseau_poles.protocol.errors import ErrorCode, ProtocolError

from ..auth import Operator, OperatorAuth
from ..errors import RegistryError
from ..requests import AdminAction, validation_nack
from ..services import RegistryServices
from ..services.audit import AuditLog
from ..services.keys import Keys
from ..services.participants import Participants
from ..services.registry import RegistryService
from ..services.subscribe import Subscriptions

# The largest integer SQLite and PostgreSQL (BIGINT) take: beyond it a query parameter would
# reach the database driver and fail there (OverflowError) instead of being refused with 400.
MAX_SQL_INT = 2**63 - 1

ActionT = TypeVar("ActionT", bound=AdminAction)


def _services(request: Request) -> RegistryServices:
    """The registry's services, built by ``create_app`` (the one read of the app's state)."""
    return request.app.state.services


# One dependency per route, each ``async`` (a plain function would be run in a worker thread)
# and reading the state itself (a chain of dependencies costs on every lookup).


async def registry_service(request: Request) -> RegistryService:
    return _services(request).registry


async def subscriptions(request: Request) -> Subscriptions:
    return _services(request).subscriptions


async def participants(request: Request) -> Participants:
    return _services(request).participants


async def keys(request: Request) -> Keys:
    return _services(request).keys


async def audit_log(request: Request) -> AuditLog:
    return _services(request).audit


Registry = Annotated[RegistryService, Depends(registry_service)]
SubscriptionsDep = Annotated[Subscriptions, Depends(subscriptions)]
ParticipantsDep = Annotated[Participants, Depends(participants)]
KeysDep = Annotated[Keys, Depends(keys)]
AuditDep = Annotated[AuditLog, Depends(audit_log)]


def operator_auth(request: Request) -> OperatorAuth:
    return request.app.state.operator_auth


async def current_operator(request: Request) -> Operator:
    """The operator who signed this request (``OperatorAuth`` set up by the app factory)."""
    return await operator_auth(request)(request)


OperatorDep = Annotated[Operator, Depends(current_operator)]


def _unknown_query(name: str, message: str) -> ProtocolError:
    return ProtocolError(message, code=ErrorCode.REGISTRY_INVALID_REQUEST, path=name)


def admin_router() -> APIRouter:
    """A router of the operator's API: under ``/admin``, unknown query parameters refused."""
    return APIRouter(
        prefix="/admin",
        tags=["admin"],
        dependencies=[refuse_unknown_query(_unknown_query)],
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, 413 beyond ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_long(limit)
    body = await request.body()
    if len(body) > limit:
        raise _too_long(limit)
    return body


def _too_long(limit: int) -> RegistryError:
    return RegistryError(
        f"corps trop long (> {limit} octets)",
        code=ErrorCode.REGISTRY_INVALID_REQUEST,
        path="$",
        status=413,
    )


async def signed_action(
    request: Request,
    action: str | tuple[str, ...],
    subscriber_id: str,
    model: type[ActionT],
) -> ActionT:
    """The operator's signed body, which must name the route's action and participant (a
    signed body cannot be replayed against another participant or for another action)."""
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
