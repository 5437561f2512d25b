"""Pages: Jinja2 templates rendered on the server, whole or as the fragment htmx asked for.

A route answers with :func:`render`::

    @router.get("/portail/guides", include_in_schema=False)
    async def guides(request: Request, user: CurrentUser) -> HTMLResponse:
        return render(request, "portail/guides.html", {"guides": guides})

The template extends the frame's ``base.html`` and fills its blocks (``title``, ``content``;
also ``head``, ``scripts``, ``page_header``); a request with ``HX-Request`` (htmx) gets only
the block ``fragment`` names (``content`` by default) unless it is a boosted navigation, which
gets the whole page. Every answer says ``Vary: HX-Request`` and ``Cache-Control: no-store``
(pages show a person's data), and refuses to be framed (``PAGE_HEADERS``).

Templates are looked up in the role's folder first (``buyer/web/templates``,
``seller/web/templates``), then the frame's (``portal/templates``: ``base.html``,
``macros.html``, ``home.html``, ``login.html``, ``error.html``, ``comptes.html``). Autoescape
is on; undefined names fail loudly (StrictUndefined).

What every template has:

``t(key, **params)``      the catalogue's message in the page's language (:mod:`.i18n`)
``lang``, ``locale``      ``fr`` / ``en``, ``fr-CA`` / ``en-CA``
``user``                  the signed-in :class:`~.accounts.User`, or ``None``
``portal``                the :class:`~.site.Portal` (``portal.url("/paniers")``, ``portal.prefix``)
``nav``                   the header's links this user may see
``csrf_token``, ``csrf_field()``   the session's CSRF token; the hidden field of a POST form
``url_for(name, **params)``        a route's path
``static_url(path)``      ``/static/portal/<path>?v=<hash>``
``current_path``          the request's path and query (for ``?suivant=``)
``flashes``               the messages of the previous action ``[(kind, text)]``
filters ``|money``, ``|number(places)``, ``|date``, ``|datetime``, ``|time`` in the page's
language (``12,50 $``, ``7 déc. 2026``).

Import the macros *with context* (so they translate): ``{% import "macros.html" as m with
context %}``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup

from . import i18n
from .site import portal_of

FRAME_TEMPLATES = Path(str(resources.files("reseau_poles.portal").joinpath("templates")))
STATIC_DIR = Path(str(resources.files("reseau_poles.portal").joinpath("static")))
STATIC_PREFIX = "/static/portal"
FLASH_COOKIE = "rp_flash"
FLASH_KINDS = ("ok", "error", "info")
# Every page: never framed by another site (a sign-in form under someone else's page), no
# address of ours sent to other sites, no guessing of content types; and only this site's
# own files run or style it (no inline script or style, no eval: what an injected fragment
# of markup could do is not run), forms post only here.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


class Templates:
    """The Jinja2 environment of one portal: the role's templates, then the frame's."""

    def __init__(self, role_dir: Path | None = None) -> None:
        folders = [str(role_dir)] if role_dir is not None else []
        folders.append(str(FRAME_TEMPLATES))
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(folder) for folder in folders]),
            autoescape=select_autoescape(("html", "xml"), default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.env.globals.update(
            t=_t,
            csrf_field=_csrf_field,
            url_for=_url_for,
            static_url=static_url,
        )
        self.env.filters.update(
            money=_money, number=_number, date=_date, datetime=_datetime, time=_time
        )

    def render(self, name: str, context: Mapping[str, Any], fragment: str | None = None) -> str:
        """The template ``name`` whole, or only its block ``fragment``."""
        template = self.env.get_template(name)
        if fragment is None or fragment not in template.blocks:
            return template.render(context)
        block = template.blocks[fragment]
        return "".join(block(template.new_context(dict(context))))


# --- what templates call ---------------------------------------------------------------------


@pass_context
def _t(context: Context, key: str, **params: Any) -> str:
    return i18n.catalogue().text(key, context.get("lang", i18n.DEFAULT_LANGUAGE), **params)


@pass_context
def _csrf_field(context: Context) -> Markup:
    token = context.get("csrf_token") or ""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)


@pass_context
def _url_for(context: Context, name: str, /, **params: Any) -> str:
    request: Request = context["request"]
    return str(request.app.url_path_for(name, **{k: str(v) for k, v in params.items()}))


@pass_context
def _money(context: Context, value: Any) -> str:
    return i18n.format_money(value, context.get("lang", i18n.DEFAULT_LANGUAGE))


@pass_context
def _number(context: Context, value: Any, places: int | None = None) -> str:
    return i18n.format_number(value, context.get("lang", i18n.DEFAULT_LANGUAGE), places)


@pass_context
def _date(context: Context, value: Any) -> str:
    return i18n.format_date(value, context.get("lang", i18n.DEFAULT_LANGUAGE))


@pass_context
def _datetime(context: Context, value: Any) -> str:
    return i18n.format_datetime(value, context.get("lang", i18n.DEFAULT_LANGUAGE))


@pass_context
def _time(context: Context, value: Any) -> str:
    if not value:
        return ""
    return i18n.format_time(value, context.get("lang", i18n.DEFAULT_LANGUAGE))


@cache
def _static_version(path: str) -> str | None:
    file = STATIC_DIR / path
    try:
        return hashlib.sha256(file.read_bytes()).hexdigest()[:12]
    except OSError:
        return None


def static_url(path: str) -> str:
    """``/static/portal/<path>``, with ``?v=`` the file's hash (cached for a year: a new
    version is a new address)."""
    path = path.lstrip("/")
    version = _static_version(path)
    return f"{STATIC_PREFIX}/{path}" + (f"?v={version}" if version else "")


# --- language, flashes -----------------------------------------------------------------------


def language(request: Request) -> str:
    """The page's language: ``?lang=`` of this request, else the ``rp_lang`` cookie, else
    French."""
    chosen = getattr(request.state, "portal_lang", None)
    if chosen:
        return str(chosen)
    lang = (
        i18n.choose_language(request.query_params.get("lang"))
        or i18n.choose_language(request.cookies.get(i18n.LANG_COOKIE))
        or i18n.DEFAULT_LANGUAGE
    )
    request.state.portal_lang = lang
    return lang


def text(request: Request, key: str, /, **params: Any) -> str:
    """A catalogue message in the request's language (for code: a header, a CSV title)."""
    return i18n.catalogue().text(key, language(request), **params)


def flash(response: Response, request: Request, kind: str, key: str, **params: Any) -> None:
    """A message for the next page (after a 303): ``kind`` ``ok``, ``error`` or ``info``,
    ``key`` a catalogue key, ``params`` its placeholders (short texts)."""
    kept = _read_flashes(request)
    kind = kind if kind in FLASH_KINDS else "info"
    kept.append([kind, key, {k: str(v)[:200] for k, v in params.items()}])
    value = base64.urlsafe_b64encode(json.dumps(kept[-3:]).encode()).decode()
    portal = portal_of(request)
    response.set_cookie(
        FLASH_COOKIE,
        value,
        path=portal.prefix,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def _read_flashes(request: Request) -> list[list[Any]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or len(raw) > 3000:
        return []
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except (ValueError, TypeError):
        return []
    good = []
    for entry in data if isinstance(data, list) else []:
        if (
            isinstance(entry, list)
            and len(entry) == 3
            and entry[0] in FLASH_KINDS
            and isinstance(entry[1], str)
            and entry[1] in i18n.catalogue()
            and isinstance(entry[2], dict)
        ):
            good.append(entry)
    return good


def is_secure(request: Request) -> bool:
    """Cookies ``Secure``: the request came over https, or the portal says so."""
    return request.url.scheme == "https" or portal_of(request).secure_cookies


# --- the answer --------------------------------------------------------------------------------


def page_context(request: Request, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What every template gets (see the module's text), then ``context``."""
    portal = portal_of(request)
    lang = language(request)
    user = getattr(request.state, "portal_user", None)
    csrf = getattr(request.state, "portal_csrf", None) or ""
    catalogue = i18n.catalogue()
    flashes = [
        (kind, catalogue.text(key, lang, **params)) for kind, key, params in _read_flashes(request)
    ]
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return {
        "request": request,
        "lang": lang,
        "locale": i18n.LOCALES[lang],
        "user": user,
        "portal": portal,
        "nav": portal.nav_for(user),
        "csrf_token": csrf,
        "current_path": path,
        "flashes": flashes,
        **(context or {}),
    }


def wants_fragment(request: Request) -> bool:
    """An htmx request that is not a boosted navigation."""
    return (
        request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"
    )


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    status: int = 200,
    *,
    fragment: str | None = "content",
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The page ``name``, whole; or, for htmx (``HX-Request``), its block ``fragment``
    (``None``: the whole page all the same). ``Vary: HX-Request`` always."""
    portal = portal_of(request)
    values = page_context(request, context)
    part = fragment if wants_fragment(request) else None
    body = portal.templates.render(name, values, part)
    response = HTMLResponse(body, status_code=status, headers=dict(headers or {}))
    response.headers["Vary"] = "HX-Request"
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(PAGE_HEADERS)
    response.headers.setdefault("Content-Language", values["locale"])
    if FLASH_COOKIE in request.cookies and part is None:  # shown now: not again
        response.delete_cookie(FLASH_COOKIE, path=portal.prefix)
    chosen = i18n.choose_language(request.query_params.get("lang"))
    if chosen and chosen != request.cookies.get(i18n.LANG_COOKIE):
        set_language_cookie(response, request, chosen)
    return response


def set_language_cookie(response: Response, request: Request, lang: str) -> None:
    response.set_cookie(
        i18n.LANG_COOKIE,
        lang,
        max_age=365 * 24 * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )
