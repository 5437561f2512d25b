"""One rule for the query strings of every role's HTTP API: a parameter the route does not
know is refused, never silently ignored (``?purchase_order_number=`` misspelt must not list
every order).

What a route knows is what it declares: the query parameters of its signature and of its
dependencies (FastAPI's own description of the route, the one the OpenAPI document shows),
plus the names it reads itself from ``request.query_params``, which it declares with
:func:`reads_query` (names, or pydantic models whose fields are the names). A role installs
the rule once, as a dependency of its application or router::

    app = FastAPI(dependencies=[refuse_unknown_query(refusal, under="/api")])

``refusal(name, message)`` builds the role's own exception (the client API's ``ApiError``,
the registry's or gateway's NACK); ``message`` says, in French, which names the route
accepts. The known names of each route are computed once, at its first request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel

QUERY_NAMES_ATTRIBUTE = "__reads_query__"

EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])
Refusal = Callable[[str, str], Exception]


def reads_query(*names: str | type[BaseModel]) -> Callable[[EndpointT], EndpointT]:
    """Declare the query parameters an endpoint reads from ``request.query_params`` itself:
    names, or pydantic models (their fields' aliases). Put it under the route decorator."""

    def mark(endpoint: EndpointT) -> EndpointT:
        setattr(
            endpoint, QUERY_NAMES_ATTRIBUTE, (*getattr(endpoint, QUERY_NAMES_ATTRIBUTE, ()), *names)
        )
        return endpoint

    return mark


def _model_names(model: type[BaseModel]) -> Iterable[str]:
    for name, field in model.model_fields.items():
        yield field.alias or name


def declared_query_names(route: APIRoute) -> frozenset[str]:
    """The query parameters ``route`` knows: those of its signature and its dependencies
    (a pydantic model given as ``Query()`` counts by its fields), and those of
    :func:`reads_query`."""
    names: set[str] = set()
    dependants = [route.dependant]
    while dependants:
        dependant = dependants.pop()
        for field in dependant.query_params:
            annotation = field.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                names.update(_model_names(annotation))
            else:
                names.add(field.alias)
        dependants.extend(dependant.dependencies)
    for source in getattr(route.endpoint, QUERY_NAMES_ATTRIBUTE, ()):
        if isinstance(source, str):
            names.add(source)
        else:
            names.update(_model_names(source))
    return frozenset(names)


def unknown_query_message(name: str, known: Iterable[str]) -> str:
    """« Paramètre inconnu « x » ; permis ici : a, b. » (French, names sorted)."""
    allowed = sorted(known)
    shown = name[:64]
    if not allowed:
        return f"Paramètre inconnu « {shown} » : cette adresse n'en accepte aucun."
    return f"Paramètre inconnu « {shown} » ; permis ici : {', '.join(allowed)}."


def refuse_unknown_query(refusal: Refusal, *, under: str = "") -> Any:
    """A FastAPI dependency (for ``FastAPI(dependencies=[…])`` or a router's) that refuses
    any query parameter the matched route does not know, through ``refusal(name, message)``;
    with ``under``, only for requests whose path is ``under`` or below it."""
    known_by_route: dict[int, frozenset[str]] = {}  # by id: routes live as long as the app
    prefix = under.rstrip("/")

    async def known_query_only(request: Request) -> None:
        route = request.scope.get("route")
        if not request.scope.get("query_string") or not isinstance(route, APIRoute):
            return
        path = request.url.path
        if prefix and path != prefix and not path.startswith(prefix + "/"):
            return
        known = known_by_route.get(id(route))
        if known is None:
            known = known_by_route[id(route)] = declared_query_names(route)
        for name in request.query_params:
            if name not in known:
                raise refusal(name[:64], unknown_query_message(name, known))

    return Depends(known_query_only)
