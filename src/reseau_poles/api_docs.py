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
from collections.abc import Callable
from importlib.resources import files
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

DOCS_URL: Final = "/docs"
REDOC_URL: Final = "/redoc"
ASSETS_URL: Final = "/docs-assets"
OAUTH2_REDIRECT_URL: Final = "/docs/oauth2-redirect"
# No FastAPI page of its own (they load Swagger UI and ReDoc from a CDN).
NO_CDN_DOCS: Final[dict[str, Any]] = {"docs_url": None, "redoc_url": None}


def _assets_folder() -> str:
    """Swagger UI and ReDoc as shipped by ``fastapi-offline`` (a runtime dependency)."""
    return str(files("fastapi_offline") / "static")


def serve_openapi(app: FastAPI, complete: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """``app.openapi`` gives FastAPI's document passed through ``complete``, built once."""
    generate = app.openapi  # FastAPI's own generation (bound method)
    completed: dict[str, Any] | None = None

    def openapi() -> dict[str, Any]:
        nonlocal completed
        if completed is None:
            completed = complete(copy.deepcopy(generate()))
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
    from reseau_poles.openapi_export import complete_document

    serve_openapi(app, lambda document: complete_document(role, document))
    serve_docs(app)
