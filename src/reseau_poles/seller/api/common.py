"""What the management API's routes share: refusals, identifiers in path and body, times,
and the worker thread every service call runs in (the database's refusals of a change
become 4xx)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.exc import DataError, IntegrityError

from reseau_poles.participant import ApiError

from ..repositories import Conflict

P = ParamSpec("P")
T = TypeVar("T")

SAVED = "200 : remplacé ; 201 : créé."


def not_found(what: str, path: str) -> ApiError:
    return ApiError(404, "introuvable", f"{what} introuvable pour ce pôle.", path)


def same_id(data: dict[str, Any], field: str, value: str) -> dict[str, Any]:
    """The body with the path's identifier; a body naming another one is refused."""
    if field in data and data[field] != value:
        raise ApiError(
            400,
            "parametres_invalides",
            f"« {field} » du corps ({str(data[field])[:64]}) diffère de celui du chemin.",
            field,
        )
    return {**data, field: value}


def when(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


async def read(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """A service's read, in a worker thread."""
    return await asyncio.to_thread(work, *args, **kwargs)


async def write(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """A service's change, in a worker thread; the database's own refusals become 4xx."""
    try:
        return await asyncio.to_thread(work, *args, **kwargs)
    except Conflict as exc:
        raise ApiError(409, "conflit", exc.message, exc.path) from None
    except IntegrityError:
        raise ApiError(
            409, "conflit", "Modification refusée par la base (contrainte d'intégrité).", "$"
        ) from None
    except DataError:
        raise ApiError(400, "parametres_invalides", "Valeur refusée par la base.", "$") from None
