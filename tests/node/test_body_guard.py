"""One guard for every JSON body of every role (network.bodyguard), route by route on real
servers: hostile nesting, an integer beyond 64 bits and an oversized body get the role's
error answer (400, 413) naming where, never a 500, before any route or authentication runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.network.support import serve
from tests.node.test_query_rule import Role, _error, _role, _url, served_routes

BODY_METHODS = {"POST", "PUT", "PATCH"}
JSON = {"Content-Type": "application/json"}


def body_routes(role: Role) -> list[tuple[str, str]]:
    """(method, url) of every route that reads a body: a node's /api, the registry's every
    route, each role's /on_subscribe; protocol calls have the inbound pipeline's guard."""
    found = []
    for route in served_routes(role.app):
        fmt = route.path_format
        if fmt.startswith("/api/") or fmt == "/on_subscribe" or role.name == "registry":
            found += [(m, _url(route)) for m in sorted(route.methods & BODY_METHODS)]
    return found


@pytest.fixture(params=["seller", "buyer", "registry", "gateway"])
def role(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Role, httpx.Client]]:
    served = _role(request.param, tmp_path)
    with serve(served.app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield served, client
        if served.name in ("seller", "buyer"):
            served.app.state.service.engine.dispose()


def _shape(role: Role, url: str) -> Role:
    """The error shape expected at ``url``: the API's under a node's /api, a NACK else."""
    return Role(role.name, role.app, role.under, role.api_shape and url.startswith("/api/"))


def test_hostile_json_gets_an_answer_on_every_body_route(role: tuple[Role, httpx.Client]) -> None:
    served, client = role
    routes = body_routes(served)
    assert routes, served.name
    depth = 20_000  # 40 kB: under every role's size limit, far beyond the guard's depth
    nested = b'{"a":' + b"[" * depth + b"]" * depth + b"}"
    huge_integer = b'{"quantity": ' + b"9" * 30 + b', "lines": [{"n": 1}]}'
    for method, url in routes:
        # Where: the nesting from the top ($: too deep for a parser to say more), the integer
        # by its member.
        for body, where in ((nested, ("$", "a")), (huge_integer, ("quantity",))):
            response = client.request(method, url, content=body, headers=JSON)
            assert response.status_code == 400, (method, url, response.status_code, response.text)
            error = _error(_shape(served, url), response)
            path = error.get("path") or error.get("paths")
            assert str(path).startswith(where), (method, url, error)
            assert "volumineux" not in error["message"]


def test_an_oversized_json_body_is_refused_before_it_is_read(
    role: tuple[Role, httpx.Client],
) -> None:
    served, client = role
    big = b'{"x": "' + b"a" * 3_000_000 + b'"}'
    for method, url in body_routes(served)[:5]:
        response = client.request(method, url, content=big, headers=JSON)
        assert response.status_code == 413, (method, url, response.text)
        error = _error(_shape(served, url), response)
        assert "volumineux" in error["message"], error


def test_ordinary_bodies_reach_their_routes(role: tuple[Role, httpx.Client]) -> None:
    """The guard hands a sound body on unchanged: the route answers it (here: unauthenticated,
    or a refusal of its content), never the guard."""
    served, client = role
    for method, url in body_routes(served):
        response = client.request(method, url, content=b'{"quantity": 3}', headers=JSON)
        assert response.status_code != 413 and response.status_code < 500, (method, url)
        assert "JSON refusé" not in response.text, (method, url, response.text)
