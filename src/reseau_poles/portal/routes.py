"""The frame's routes, the same on both nodes, under the portal's prefix (``/portail`` on the
buyer node, ``/gestion`` on the seller node); none is in the OpenAPI document:

GET  /…/connexion                  the sign-in form (its pre-session CSRF token in a cookie)
POST /…/connexion                  sign in: 303 to ``suivant``; 400 the form again with the
                                   same message whether the account exists or not; 429 past
                                   the failures allowed (:class:`~.site.LoginLimits`)
POST /…/deconnexion                sign out (the session deleted on the server)
GET  /…/langue?lang=en&suivant=…   the language kept in the ``rp_lang`` cookie
GET  /…/comptes                    the organisation's accounts (role ``admin``)
POST /…/comptes                    create an account
POST /…/comptes/{id}/desactivation close one (its sessions end at once)
GET  /static/portal/…              htmx, its SSE extension, the stylesheet (cached; a new
                                   version is a new ``?v=``)
GET  /                             307 to the portal's home

A role calls :func:`install_portal` with its :class:`~.site.Portal` and its own page
routers.
"""

from __future__ import annotations

import math
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from reseau_poles.storage import read_session, write_session

from . import auth
from .accounts import ADMIN, AccountError, User
from .errors import error_page, install_error_pages
from .forms import Form, read_form
from .i18n import choose_language
from .site import Portal, portal_of
from .templating import STATIC_DIR, STATIC_PREFIX, render, set_language_cookie
from .timing import ServerTiming

Admin = Annotated[User, Depends(auth.require_role(ADMIN))]


class CachedStatic(StaticFiles):
    """Static files with ``Cache-Control``: a year (immutable) when asked with ``?v=``, an
    hour otherwise; ``ETag`` and ``Last-Modified`` as Starlette gives them."""

    def file_response(
        self, full_path: Any, stat_result: Any, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = b"v=" in scope.get("query_string", b"")
        response.headers["Cache-Control"] = (
            "public, max-age=31536000, immutable" if versioned else "public, max-age=3600"
        )
        return response


def install_portal(app: FastAPI, portal: Portal, *routers: APIRouter) -> None:
    """The portal on ``app``: its state, the frame's routes, the role's ``routers``, the
    static files, ``/`` redirected to its home, its error pages, and the pages' server time
    (:class:`~.timing.ServerTiming`, innermost: the protocol's front stays outermost)."""
    app.state.portal = portal
    app.user_middleware.append(Middleware(ServerTiming, prefix=portal.prefix))
    app.include_router(portal_router(portal))
    for router in routers:
        app.include_router(router)
    if not any(getattr(route, "path", None) == STATIC_PREFIX for route in app.routes):
        app.mount(
            STATIC_PREFIX, CachedStatic(directory=STATIC_DIR, check_dir=False), name="portal_static"
        )

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(portal.home, status_code=307)

    install_error_pages(app, portal)


def _login_page(
    request: Request, form: Form, status: int = 200, error: str | None = None, **params: Any
) -> Response:
    token = auth.login_csrf(request)
    suivant = portal_of(request).safe_next(
        form.get("suivant") or request.query_params.get("suivant")
    )
    response = render(
        request,
        "login.html",
        {"form": form, "error": error, "error_params": params, "suivant": suivant},
        status=status,
        fragment=None,
    )
    auth.keep_login_csrf(response, request, token)
    return response


def portal_router(portal: Portal) -> APIRouter:
    router = APIRouter(prefix=portal.prefix, include_in_schema=False)

    @router.get("/connexion", name="portal_login")
    async def login_form(request: Request) -> Response:
        if await auth.optional_user(request) is not None:
            return RedirectResponse(portal.safe_next(request.query_params.get("suivant")), 303)
        return _login_page(request, Form())

    @router.post("/connexion", name="portal_login_post")
    async def login(request: Request) -> Response:
        form = await read_form(request)
        expected = request.cookies.get(auth.LOGIN_CSRF_COOKIE, "")
        given = form.get(auth.CSRF_FIELD)
        if (
            not expected
            or not given
            or not secrets.compare_digest(given.encode(), expected.encode())
        ):
            return error_page(request, 403, "erreur.csrf_connexion")
        email = form.require("email", max_length=254)
        if not form.get("password"):
            form.error("password", "champ.requis")
        if not form.ok:
            return _login_page(request, form, 400)
        address = auth.client_address(request)
        outcome = await run_in_threadpool(
            auth.sign_in, portal, email, form.get("password"), address
        )
        if outcome.wait:
            minutes = max(1, math.ceil(outcome.wait / 60))
            response = _login_page(
                request, form, 429, "connexion.trop_de_tentatives", minutes=minutes
            )
            response.headers["Retry-After"] = str(outcome.wait)
            return response
        if outcome.user is None or outcome.token is None:
            return _login_page(request, form, 400, "connexion.refusee")
        previous = request.cookies.get(auth.SESSION_COOKIE)
        if previous and len(previous) <= 128:  # the session of someone else on this browser
            await run_in_threadpool(_end_session, portal, previous)
        response = RedirectResponse(portal.safe_next(form.get("suivant")), status_code=303)
        auth.set_session_cookie(response, request, outcome.token)
        response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path=portal.prefix)
        return response

    @router.post("/deconnexion", name="portal_logout")
    async def logout(request: Request, user: auth.CurrentUser) -> Response:
        token = request.cookies.get(auth.SESSION_COOKIE, "")
        await run_in_threadpool(auth.sign_out, portal, token, user, auth.client_address(request))
        response = auth.see_other(request, portal.login_url, ok="connexion.au_revoir")
        auth.clear_session_cookie(response, request)
        return response

    @router.get("/langue", name="portal_language")
    async def change_language(request: Request) -> Response:
        lang = choose_language(request.query_params.get("lang"))
        target = request.query_params.get("suivant")
        back = target if target and target.split("?")[0] == portal.login_url else None
        response = RedirectResponse(back or portal.safe_next(target), status_code=303)
        if lang:
            set_language_cookie(response, request, lang)
        return response

    @router.get("/comptes", name="portal_accounts")
    async def accounts_page(request: Request, user: Admin) -> Response:
        return await _accounts_page(request, portal, user, Form())

    @router.post("/comptes", name="portal_accounts_create")
    async def create_account(request: Request, user: Admin) -> Response:
        form = await read_form(request)
        email = form.require("email", max_length=254)
        name = form.require("name")
        roles = [r for r in form.getlist("roles") if r in portal.roles]
        if not roles:
            form.error("roles", "champ.roles_invalides")
        password = form.get("password")
        if not password:
            form.error("password", "champ.requis")
        if not form.ok:
            return await _accounts_page(request, portal, user, form, 400)

        def create() -> User:
            with write_session(portal.factory) as session:
                created = portal.accounts.create_user(
                    session,
                    organisation_id=user.organisation_id,
                    email=email,
                    name=name,
                    roles=roles,
                    password=password,
                )
                portal.accounts.audit(
                    session,
                    user,
                    "compte.cree",
                    created.email,
                    {"roles": list(created.roles)},
                    address=auth.client_address(request),
                )
                return created

        try:
            created = await run_in_threadpool(create)
        except AccountError as exc:
            form.error(exc.field, exc.key)
            return await _accounts_page(request, portal, user, form, 400)
        return auth.see_other(
            request, portal.url("/comptes"), ok="comptes.cree", courriel=created.email
        )

    @router.post("/comptes/{user_id}/desactivation", name="portal_accounts_deactivate")
    async def deactivate_account(request: Request, user_id: int, user: Admin) -> Response:
        if user_id == user.id:
            return auth.see_other(request, portal.url("/comptes"), error="comptes.pas_soi_meme")

        def deactivate() -> User | None:
            with write_session(portal.factory) as session:
                target = portal.accounts.user(session, user_id)
                if target is None or target.organisation_id != user.organisation_id:
                    return None
                if portal.accounts.deactivate(session, user_id):
                    portal.accounts.audit(
                        session,
                        user,
                        "compte.desactive",
                        target.email,
                        address=auth.client_address(request),
                    )
                return target

        target = await run_in_threadpool(deactivate)
        if target is None:
            return error_page(request, 404)
        return auth.see_other(
            request, portal.url("/comptes"), ok="comptes.desactive", courriel=target.email
        )

    return router


def _end_session(portal: Portal, token: str) -> None:
    with write_session(portal.factory) as session:
        portal.accounts.end_session(session, token)


async def _accounts_page(
    request: Request, portal: Portal, user: User, form: Form, status: int = 200
) -> Response:
    def users() -> list[User]:
        with read_session(portal.factory) as session:
            return portal.accounts.list_users(session, user.organisation_id)

    return render(
        request,
        "comptes.html",
        {"users": await run_in_threadpool(users), "form": form, "roles": portal.roles},
        status=status,
    )
