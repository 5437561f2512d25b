"""What every role serves about its own API: the completed OpenAPI document and the pages
that read it, with nothing fetched from elsewhere.

``serve_contract(app, role)`` (called by each role's ``create_app``):

GET /openapi.json          the role's document, completed as in ``openapi/<role>.json``
                           (examples, signature notes, error answers): served == committed
GET /docs                  Swagger UI (bouton « Authorize » pour la clé d'API)
GET /redoc                 ReDoc
GET /docs-assets/…         their JavaScript, CSS and icon, from the ``fastapi-offline``
                           distribution installed with the node: a node on a closed network
                           shows its documentation all the same (no CDN)

The applications are created with ``docs_url=None, redoc_url=None`` so FastAPI's own pages,
which load their files from a CDN, are never served.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from importlib.resources import files
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.responses import HTMLResponse

from reseau_poles.network.pipeline import document_protocol_endpoints
from reseau_poles.network.query import QUERY_NAMES_ATTRIBUTE
from reseau_poles.participant.api import body_schema

DOCS_URL: Final = "/docs"
REDOC_URL: Final = "/redoc"
ASSETS_URL: Final = "/docs-assets"
OAUTH2_REDIRECT_URL: Final = "/docs/oauth2-redirect"
# No FastAPI page of its own (they load Swagger UI and ReDoc from a CDN).
NO_CDN_DOCS: Final[dict[str, Any]] = {"docs_url": None, "redoc_url": None}


def _assets_folder() -> str:
    """Swagger UI and ReDoc as shipped by ``fastapi-offline`` (a runtime dependency)."""
    return str(files("fastapi_offline") / "static")


def _query_parameters(source: str | type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI parameters for a name or a model given to :func:`reads_query`."""
    if isinstance(source, str):
        return [{"name": source, "in": "query", "required": False, "schema": {"type": "string"}}]
    schema = body_schema(source)
    found = []
    for name, field in source.model_fields.items():
        alias = field.alias or name
        parameter: dict[str, Any] = {
            "name": alias,
            "in": "query",
            "required": field.is_required(),
            "schema": schema.get("properties", {}).get(alias, {}),
        }
        if field.description:
            parameter["description"] = field.description
        found.append(parameter)
    return found


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route of ``app`` with its full path, included routers too (FastAPI keeps
    these nested since 0.13x: the same walk as its own document's)."""
    try:
        from fastapi.openapi.utils import _get_api_route_for_openapi
        from fastapi.routing import iter_route_contexts
    except ImportError:  # an older FastAPI: included routes are flat
        yield from (route for route in app.routes if isinstance(route, APIRoute))
        return
    for context in iter_route_contexts(app.routes):
        route = _get_api_route_for_openapi(context)  # an APIRoute, or a view of one
        if route is not None:
            yield route


def document_read_queries(app: FastAPI, document: dict[str, Any]) -> None:
    """The query parameters a route reads itself (``@reads_query``), added to its
    operations: the document lists every parameter the one query-refusal rule lets pass."""
    for route in _api_routes(app):
        sources = getattr(route.endpoint, QUERY_NAMES_ATTRIBUTE, ())
        if not sources or not route.include_in_schema:
            continue
        item = document.get("paths", {}).get(route.path_format, {})
        for method in sorted(route.methods or ()):
            operation = item.get(method.lower())
            if operation is None:
                continue
            parameters = operation.setdefault("parameters", [])
            known = {(p.get("in"), p.get("name")) for p in parameters}
            for source in sources:
                for parameter in _query_parameters(source):
                    if ("query", parameter["name"]) not in known:
                        parameters.append(parameter)
                        known.add(("query", parameter["name"]))


def _declared(schema: dict[str, Any]) -> dict[str, Any]:
    """What a declared model's schema is, without the return annotation's merged into it."""
    if "$ref" in schema:
        return {"$ref": schema["$ref"]}
    if "anyOf" in schema:  # one of several models
        return {"anyOf": schema["anyOf"]}
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, dict) and "$ref" in items:
        return {"type": "array", "items": _declared(items)}
    return schema


def tidy_answers(document: dict[str, Any]) -> None:
    """A success declared with ``responses={200: {"model": M}}`` (:mod:`reseau_poles.participant.answers`)
    is ``M`` alone: FastAPI merges it into the schema of the route's return annotation
    (``dict[str, Any]``), which says nothing more and would make clients read a bare dict."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                if not str(status).startswith("2") or not isinstance(response, dict):
                    continue
                for media in response.get("content", {}).values():
                    schema = media.get("schema")
                    if isinstance(schema, dict):
                        media["schema"] = _declared(schema)


def serve_openapi(app: FastAPI, complete: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """``app.openapi`` gives FastAPI's document with the query parameters routes read
    themselves and the path items of the protocol endpoints (declared beside the pipeline
    that serves them, :mod:`reseau_poles.network.pipeline`), passed through ``complete``;
    built once."""
    generate = app.openapi  # FastAPI's own generation (bound method)
    completed: dict[str, Any] | None = None

    def openapi() -> dict[str, Any]:
        nonlocal completed
        if completed is None:
            document = copy.deepcopy(generate())
            document_read_queries(app, document)
            document_protocol_endpoints(app, document)
            tidy_answers(document)
            completed = complete(document)
            app.openapi_schema = completed
        return completed

    app.openapi = openapi  # type: ignore[method-assign]


def serve_docs(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` from the node's own files."""
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(ASSETS_URL, StaticFiles(directory=_assets_folder()), name="docs-assets")

    def local(request: Request, path: str) -> str:
        return f"{request.scope.get('root_path', '')}{path}"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=local(request, openapi_url),
            title=f"{app.title} — Swagger UI",
            swagger_js_url=local(request, f"{ASSETS_URL}/swagger-ui-bundle.js"),
            swagger_css_url=local(request, f"{ASSETS_URL}/swagger-ui.css"),
            swagger_favicon_url=local(request, f"{ASSETS_URL}/favicon.png"),
            oauth2_redirect_url=local(request, OAUTH2_REDIRECT_URL),
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=local(request, openapi_url),
            title=f"{app.title} — ReDoc",
            redoc_js_url=local(request, f"{ASSETS_URL}/redoc.standalone.js"),
            redoc_favicon_url=local(request, f"{ASSETS_URL}/favicon.png"),
            with_google_fonts=False,
        )


def serve_contract(app: FastAPI, role: str) -> None:
    """The completed document at ``/openapi.json``, and the offline documentation pages."""
    from reseau_poles.api_contract import complete_document

    serve_openapi(app, lambda document: complete_document(role, document))
    serve_docs(app)
