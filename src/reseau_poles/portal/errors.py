"""Every failure under the portal's prefix is a page, never JSON nor a stack trace.

* :class:`~.auth.PageError` → ``error.html`` with its status and message;
* :class:`~.auth.LoginRequired` → 303 to the sign-in page (``?suivant=``), or for htmx 401
  with ``HX-Redirect``;
* FastAPI's own errors under the prefix (unknown address 404, wrong method 405, a parameter
  of the wrong type 400) and a database that does not answer (503) → ``error.html``;
* anything unexpected → :func:`internal_error_page` (given to the node's frame:
  ``create_node_app(pages=…)``), a short page in both languages.

Elsewhere (the API, the protocol) the handlers already installed answer as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import cast
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reseau_poles.network.inbound import DATABASE_UNAVAILABLE

from .auth import LoginRequired, PageError, open_session
from .site import Portal
from .templating import PAGE_HEADERS, STATIC_PREFIX, render

_STATUS_KEYS = {
    400: "erreur.requete",
    401: "erreur.connexion_requise",
    403: "erreur.acces_refuse",
    404: "erreur.introuvable",
    405: "erreur.methode",
    413: "erreur.trop_gros",
    422: "erreur.requete",
    429: "erreur.trop_de_requetes",
    503: "erreur.indisponible",
}


def error_page(
    request: Request,
    status: int,
    key: str | None = None,
    headers: dict[str, str] | None = None,
    **params: object,
) -> HTMLResponse:
    """``error.html`` with ``status`` and the message ``key`` (by default the status's)."""
    message = key or _STATUS_KEYS.get(status, "erreur.requete")
    return render(
        request,
        "error.html",
        {"status": status, "message_key": message, "message_params": params},
        status=status,
        headers=headers,
    )


def internal_error_page() -> Response:
    """The 500 page: no template, no database, nothing that could fail again."""
    return HTMLResponse(
        _INTERNAL, status_code=500, headers={"Cache-Control": "no-store", **PAGE_HEADERS}
    )


_INTERNAL = """<!doctype html>
<html lang="fr-CA"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Erreur interne — Réseau Pôles</title><link rel="stylesheet" href="/static/portal/portal.css"></head>
<body><main class="container" id="contenu"><h1>Erreur interne</h1>
<p>Une erreur imprévue est survenue ; elle a été consignée. Réessayez dans un moment.</p>
<p lang="en">An unexpected error occurred and was logged. Please try again shortly.</p>
<p><a href="/">Retour à l'accueil</a> · <a href="/" lang="en">Home</a></p></main></body></html>
"""


def login_redirect(request: Request, portal: Portal) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method not in ("GET", "HEAD"):  # back to the page the form was on
        page = urlsplit(request.headers.get("hx-current-url", ""))
        here = page.path + (f"?{page.query}" if page.query else "")
    target = f"{portal.login_url}?suivant={quote(portal.safe_next(here), safe='/')}"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=401, headers={"HX-Redirect": target, "Vary": "HX-Request"})
    return Response(status_code=303, headers={"Location": target, "Vary": "HX-Request"})


async def _signed_in(request: Request) -> None:
    """The header of an error page shows who is signed in, when that can be known."""
    with contextlib.suppress(Exception):  # an error page must not fail on the session
        await open_session(request)


def install_error_pages(app: FastAPI, portal: Portal) -> None:
    """The handlers above; those already installed answer outside ``portal.prefix``."""

    def under(request: Request) -> bool:
        path = request.url.path
        return path == portal.prefix or path.startswith((portal.prefix + "/", STATIC_PREFIX + "/"))

    async def on_page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        await _signed_in(request)
        return error_page(request, exc.status, exc.key, exc.headers, **exc.params)

    async def on_login_required(request: Request, _exc: Exception) -> Response:
        return login_redirect(request, portal)

    app.add_exception_handler(PageError, on_page_error)
    app.add_exception_handler(LoginRequired, on_login_required)

    def wrap(
        kind: type[Exception], answer: Callable[[Request, Exception], Awaitable[Response]]
    ) -> None:
        previous = cast(
            Callable[[Request, Exception], Awaitable[Response]] | None,
            app.exception_handlers.get(kind),
        )

        async def handler(request: Request, exc: Exception) -> Response:
            if under(request) or previous is None:
                return await answer(request, exc)
            return await previous(request, exc)

        app.add_exception_handler(kind, handler)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        await _signed_in(request)
        return error_page(request, exc.status_code, headers=dict(exc.headers or {}))

    async def invalid(request: Request, _exc: Exception) -> Response:
        await _signed_in(request)
        return error_page(request, 400)

    async def unavailable(request: Request, _exc: Exception) -> Response:
        return error_page(request, 503, headers={"Retry-After": "5"})

    wrap(StarletteHTTPException, http_error)
    wrap(RequestValidationError, invalid)
    for kind in DATABASE_UNAVAILABLE:
        wrap(kind, unavailable)
