"""Who is signed in, what they may do, and the checks every state change passes.

For a page author, three dependencies and one call::

    from reseau_poles.portal.auth import CurrentUser, audit, require_role

    @router.get("/portail/paniers", include_in_schema=False)
    async def carts(request: Request, user: CurrentUser) -> HTMLResponse: ...

    Approver = Annotated[User, Depends(require_role("approbateur"))]

    @router.post("/portail/paniers/{cart_id}/approbation", include_in_schema=False)
    async def approve(request: Request, cart_id: str, user: Approver) -> Response:
        ...                                           # the service does the work
        await audit(request, user, "panier.approuve", target=cart_id)
        return see_other(request, f"/portail/paniers/{cart_id}", ok="portail.paniers.approuve")

* :func:`current_user` — the signed-in :class:`~.accounts.User`. Nobody signed in: a page gets
  303 to the sign-in page with ``?suivant=`` (where to come back), an htmx request 401 with
  ``HX-Redirect``. On every method but GET/HEAD/OPTIONS it checks the CSRF token as well
  (form field ``csrf_token`` — ``{{ csrf_field() }}`` in the form — or header
  ``X-CSRF-Token``, which htmx sends from ``hx-headers`` on ``<body>``): absent or wrong, 403.
  So a POST route that depends on ``current_user`` (or ``require_role``) is CSRF-checked;
  every state-changing route of a page MUST depend on one of them.
* :func:`require_role` — ``require_role("acheteur", "approbateur")``: one of these roles, else
  the 403 page.
* :func:`audit` — one row of the portal's audit (who, what, on what, from where), in its own
  transaction; :meth:`Accounts.audit <.accounts.Accounts.audit>` writes it in yours.
* :class:`PageError` — ``raise PageError(404, "erreur.introuvable")``: the error page, with
  its status and message (a catalogue key).

Sessions live on the server (:mod:`.accounts`): the cookie ``rp_session`` (HttpOnly,
SameSite=Lax, Secure over https, path = the portal's prefix) holds a random token; a session
ends after ``Portal.idle`` (12 h) without a request or ``Portal.lifetime`` (7 days) after
sign-in. Sign-in failures are counted per address typed and per client address
(:class:`~.site.LoginLimits`).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from reseau_poles.storage import read_session, utcnow, write_session

from .accounts import OpenSession, User, verify_password
from .site import LoginLimits, Portal, portal_of
from .templating import flash, is_secure, text, wants_fragment

SESSION_COOKIE = "rp_session"
LOGIN_CSRF_COOKIE = "rp_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A session's last_seen_at is written at most this often (not at every request).
TOUCH_EVERY = timedelta(minutes=1)


class PageError(Exception):
    """An error page: ``status`` and a catalogue ``key`` (its ``params``)."""

    def __init__(
        self, status: int, key: str, headers: dict[str, str] | None = None, **params: Any
    ) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.params = params
        self.headers = headers or {}


class LoginRequired(Exception):
    """Nobody (or an ended session) signed in: to the sign-in page."""


def client_address(request: Request) -> str:
    return request.client.host if request.client else "inconnue"


# --- the session of a request ----------------------------------------------------------------


async def open_session(request: Request) -> OpenSession | None:
    """The request's live session (read once per request), or ``None``."""
    if hasattr(request.state, "portal_session"):
        return request.state.portal_session  # type: ignore[no-any-return]
    portal = portal_of(request)
    token = request.cookies.get(SESSION_COOKIE)
    found: OpenSession | None = None
    if token and len(token) <= 128:
        found = await run_in_threadpool(_lookup, portal, token)
    request.state.portal_session = found
    if found is not None:
        request.state.portal_user = found.user
        request.state.portal_csrf = found.csrf_token
    return found


def _lookup(portal: Portal, token: str) -> OpenSession | None:
    now = utcnow()
    with read_session(portal.factory) as session:
        found = portal.accounts.find_session(session, token, portal.idle, now)
        if found is None:
            return None
        name = portal.organisation_name(session, found.user.organisation_id)
    if name is None:  # the organisation is gone or inactive: nobody of it signs in
        return None
    if now - found.last_seen_at >= TOUCH_EVERY:
        with write_session(portal.factory) as session:
            portal.accounts.touch_session(session, found.token_hash, now)
    user = User(**{**found.user.__dict__, "organisation_name": name})
    return OpenSession(user, found.csrf_token, found.token_hash, now)


async def optional_user(request: Request) -> User | None:
    """The signed-in user, or ``None`` (no redirect, no CSRF check)."""
    found = await open_session(request)
    return found.user if found else None


async def current_user(request: Request) -> User:
    """The signed-in user; otherwise :class:`LoginRequired`. Unsafe methods: CSRF checked."""
    found = await open_session(request)
    if found is None:
        raise LoginRequired()
    if request.method not in SAFE_METHODS:
        await check_csrf(request, found.csrf_token)
    return found.user


def require_role(*roles: str) -> Callable[..., Awaitable[User]]:
    """A dependency: the signed-in user holding one of ``roles`` (else the 403 page)."""

    async def with_role(request: Request, user: Annotated[User, Depends(current_user)]) -> User:
        if not user.has_role(*roles):
            names = ", ".join(text(request, f"role.{role}") for role in roles)
            raise PageError(403, "erreur.role_requis", roles=names)
        return user

    with_role.__name__ = f"require_role_{'_'.join(roles)}"
    return with_role


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]


# --- CSRF ----------------------------------------------------------------------------------------


async def submitted_csrf(request: Request) -> str:
    """The token the request carries: header ``X-CSRF-Token``, else form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    kind = request.headers.get("content-type", "")
    if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def check_csrf(request: Request, expected: str) -> None:
    """403 ``erreur.csrf`` unless the request carries ``expected``."""
    given = await submitted_csrf(request)
    if not expected or not given or not secrets.compare_digest(given.encode(), expected.encode()):
        raise PageError(403, "erreur.csrf")


def login_csrf(request: Request) -> str:
    """The sign-in form's token: the one of the ``rp_csrf`` cookie, or a new one (the page
    sets the cookie: :func:`keep_login_csrf`)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not (20 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()):
        token = secrets.token_urlsafe(32)
    request.state.portal_csrf = token
    return token


def keep_login_csrf(response: Any, request: Request, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path=portal_of(request).prefix,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


# --- signing in and out ------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    """``user`` and ``token`` when signed in; else ``wait`` (seconds, rate-limited) or a
    refused password."""

    user: User | None = None
    token: str | None = None
    wait: int = 0


def _wait(times: list[datetime], limit: int, window: timedelta, now: datetime) -> int:
    if len(times) < limit:
        return 0
    frees_at = times[len(times) - limit] + window
    return max(1, int((frees_at - now).total_seconds()) + 1)


def _limit_keys(email: str, address: str) -> tuple[str, str]:
    return f"compte:{email.strip().lower()}", f"adresse:{address}"


def sign_in(portal: Portal, email: str, password: str, address: str) -> LoginOutcome:
    """Check the rate limits, then the password (outside any transaction: argon2 takes a
    while); record the failure, or open the session. Blocking: call it in a thread."""
    limits: LoginLimits = portal.login_limits
    account_key, address_key = _limit_keys(email, address)
    now = utcnow()
    since = now - limits.window
    with read_session(portal.factory) as session:
        wait = max(
            _wait(
                portal.accounts.failures(session, account_key, since),
                limits.per_account,
                limits.window,
                now,
            ),
            _wait(
                portal.accounts.failures(session, address_key, since),
                limits.per_address,
                limits.window,
                now,
            ),
        )
        found = None if wait else portal.accounts.password_hash(session, email)
        name = portal.organisation_name(session, found[0].organisation_id) if found else None
    if wait:
        with write_session(portal.factory) as session:
            portal.accounts.audit(
                session,
                None,
                "session.limitee",
                email[:255],
                {"attente_s": wait},
                address=address,
            )
        return LoginOutcome(wait=wait)
    ok = verify_password(found[1] if found else None, password)
    user = found[0] if found else None
    with write_session(portal.factory) as session:
        # Housekeeping at each sign-in, so that neither table grows: ended sessions, and
        # failures that no longer count.
        portal.accounts.purge_sessions(session, portal.idle, now)
        portal.accounts.purge_failures(session, since)
        if not ok or user is None or name is None:
            portal.accounts.add_failure(session, (account_key, address_key), now)
            portal.accounts.audit(
                session,
                None,
                "session.refusee",
                email[:255],
                address=address,
                organisation_id=user.organisation_id if user else None,
            )
            return LoginOutcome()
        portal.accounts.clear_failures(session, account_key)
        token, _csrf = portal.accounts.open_session(session, user, portal.lifetime, now)
        portal.accounts.audit(session, user, "session.ouverte", address=address)
    return LoginOutcome(user=User(**{**user.__dict__, "organisation_name": name}), token=token)


def sign_out(portal: Portal, token: str, user: User, address: str) -> None:
    with write_session(portal.factory) as session:
        portal.accounts.end_session(session, token)
        portal.accounts.audit(session, user, "session.fermee", address=address)


def set_session_cookie(response: Any, request: Request, token: str) -> None:
    portal = portal_of(request)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(portal.lifetime.total_seconds()),
        path=portal.prefix,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def clear_session_cookie(response: Any, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path=portal_of(request).prefix,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


# --- after an action -----------------------------------------------------------------------------


async def audit(
    request: Request,
    user: User | None,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One audit row (its own transaction, in a thread): ``action`` such as
    ``produit.modifie``, ``target`` what it was done to (an id), ``detail`` a small JSON
    object; the client's address is added."""
    portal = portal_of(request)
    address = client_address(request)

    def write() -> None:
        with write_session(portal.factory) as session:
            portal.accounts.audit(session, user, action, target, detail, address=address)

    await run_in_threadpool(write)


def see_other(
    request: Request,
    path: str,
    *,
    ok: str | None = None,
    error: str | None = None,
    **params: Any,
) -> Response:
    """After a POST: 303 to ``path`` (a path of this portal, e.g. ``/portail/paniers``), with
    a message for the next page: ``ok=`` or ``error=`` a catalogue key, ``params`` its
    placeholders. An htmx request (not boosted) gets ``HX-Redirect`` instead, so that the
    browser loads the whole page rather than swap it into a fragment."""
    response: Response
    if wants_fragment(request):
        response = Response(status_code=200, headers={"HX-Redirect": path})
    else:
        response = RedirectResponse(path, status_code=303)
    response.headers["Vary"] = "HX-Request"
    if ok:
        flash(response, request, "ok", ok, **params)
    if error:
        flash(response, request, "error", error, **params)
    return response
