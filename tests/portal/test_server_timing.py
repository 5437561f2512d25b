"""``Server-Timing: app;dur=…`` on the portal's answers (pages, fragments, redirects, error
pages) on both nodes, and on nothing else (the API, the health check, the static files)."""

from __future__ import annotations

import asyncio

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from reseau_poles.portal.timing import ServerTiming, server_time

from .conftest import Node, client_of, sign_in

pytestmark = pytest.mark.anyio


def timed(answer: object) -> float:
    header = answer.headers.get("server-timing")  # type: ignore[attr-defined]
    value = server_time(header)
    used = server_time(header, "cpu")
    assert value is not None and used is not None, header
    assert value >= 0 and used >= 0
    return value


async def test_every_answer_of_the_buyers_pages_says_its_server_time(buyer: Node) -> None:
    client = buyer.client()
    # Signed out: the sign-in page, and the redirect of a page to it.
    timed(await client.get("/portail/connexion"))
    redirect = await client.get("/portail/commandes")
    assert redirect.status_code == 303
    timed(redirect)
    await sign_in(client, "/portail", "acheteur@css.example")
    for path in ("/portail/", "/portail/recherche", "/portail/paniers", "/portail/rapport"):
        page = await client.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        timed(page)
        # one figure, not one per layer
        assert page.headers.get_list("server-timing") == [page.headers["server-timing"]]
    fragment = await client.get("/portail/", headers={"HX-Request": "true"})
    timed(fragment)
    missing = await client.get("/portail/commandes/inconnue")
    assert missing.status_code == 404
    timed(missing)
    # Not the node's other answers.
    for path in ("/health", "/static/portal/portal.css", "/api/searches/x", "/portailx"):
        assert "server-timing" not in (await client.get(path)).headers, path


async def test_the_poles_pages_say_it_too(seller: Node) -> None:
    client = seller.client()
    await sign_in(client, "/gestion", "gestion@capitale.example")
    page = await client.get("/gestion/produits")
    assert page.status_code == 200
    timed(page)
    assert "server-timing" not in (await client.get("/health")).headers


async def test_the_figure_is_the_time_until_the_answer_starts() -> None:
    async def slow(request: Request) -> PlainTextResponse:
        await asyncio.sleep(0.05)  # waiting: time passes, the processor is not used
        return PlainTextResponse("lent", headers={"Server-Timing": "db;dur=3"})

    app = ServerTiming(Starlette(routes=[Route("/gestion/lent", slow)]), "gestion/")
    answer = await client_of(app).get("/gestion/lent")  # type: ignore[arg-type]
    assert answer.text == "lent"
    # the route's own figure is kept, the application's beside it
    assert answer.headers.get_list("server-timing")[0] == "db;dur=3"
    assert 50 <= timed(answer) < 5000
    assert server_time(answer.headers["server-timing"], "cpu") < timed(answer)


def test_the_header_is_read_from_its_entries() -> None:
    assert server_time("app;dur=12.5") == 12.5
    assert server_time("app;dur=12.5, cpu;dur=4.0", "cpu") == 4.0
    assert server_time('db;dur=3, app;desc="page";dur=7') == 7.0
    assert server_time("app") is None
    assert server_time("app;dur=vite") is None
    assert server_time(None) is None
