"""One rule on every role's HTTP API, checked route by route (each app's routes iterated, so a
route added tomorrow is checked too), on real servers:

- a query parameter the route does not know is refused (400 and the role's error shape,
  naming the parameter), never ignored; the parameters a route knows are never refused;
- an unknown address (404) and a wrong method (405) answer in the role's error shape: the
  client API's ``{"error": {…}}`` under a node's ``/api``, a NACK elsewhere and on the
  registry and the gateway; never FastAPI's ``{"detail": …}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import compile_path

from reseau_poles.buyer.app import create_app as create_buyer
from reseau_poles.buyer.settings import BuyerSettings
from reseau_poles.gateway import GatewaySettings
from reseau_poles.gateway import create_app as create_gateway
from reseau_poles.network.query import declared_query_names
from reseau_poles.registry.app import create_app as create_registry
from reseau_poles.registry.settings import RegistrySettings
from reseau_poles.seller.app import create_app as create_seller
from reseau_poles.seller.settings import SellerSettings
from tests.network.support import serve

UNKNOWN = "zz_inconnu"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Served:
    """One route as the application serves it (included routers' prefixes applied)."""

    path_format: str
    methods: frozenset[str]
    route: APIRoute

    def matches(self, url: str) -> bool:
        return compile_path(self.path_format)[0].match(url) is not None


def served_routes(app: FastAPI) -> list[Served]:
    """Every FastAPI route of ``app``, through included routers (FastAPI may keep them
    unflattened, ``iter_route_contexts``, or flatten them into ``app.routes``)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are flattened into app.routes
        contexts: Any = app.routes
    else:
        contexts = iter_route_contexts(app.routes)
    found = []
    for context in contexts:
        route = getattr(context, "original_route", context)
        if isinstance(route, APIRoute):
            found.append(Served(context.path_format, frozenset(context.methods), route))
    return found


@dataclass
class Role:
    name: str
    app: FastAPI
    under: str  # the routes the query rule covers
    api_shape: bool  # {"error": …} (a node's /api) rather than a NACK

    def routes(self) -> list[Served]:
        return [r for r in served_routes(self.app) if r.path_format.startswith(self.under)]


def _role(name: str, tmp_path: Path) -> Role:
    db = f"sqlite:///{tmp_path / name}.sqlite"
    keys = tmp_path / f"{name}-cles"
    nowhere = "http://127.0.0.1:9"
    if name == "seller":
        app = create_seller(SellerSettings(database_url=db, key_dir=keys, registry_url=nowhere))
        return Role(name, app, "/api/", True)
    if name == "buyer":
        app = create_buyer(BuyerSettings(database_url=db, key_dir=keys, registry_url=nowhere))
        return Role(name, app, "/api/", True)
    if name == "registry":
        settings = RegistrySettings(
            database_url=db, key_dir=keys, subscriber_id="registre.test.example"
        )
        return Role(name, create_registry(settings), "/admin/", False)
    app = create_gateway(GatewaySettings(key_dir=keys, registry_url=nowhere))
    return Role(name, app, "/searches", False)


@pytest.fixture(params=["seller", "buyer", "registry", "gateway"])
def role(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Role, httpx.Client]]:
    served = _role(request.param, tmp_path)
    with serve(served.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield served, client
        if served.name in ("seller", "buyer"):
            served.app.state.service.engine.dispose()


def _url(route: Served) -> str:
    """The route's path with every path parameter filled."""
    return re.sub(r"\{[^}]+\}", "x", route.path_format)


def _error(role: Role, response: httpx.Response) -> dict[str, Any]:
    """The error object of the role's shape (and nothing of FastAPI's default)."""
    body = response.json()
    assert "detail" not in body, response.text
    if role.api_shape:
        assert set(body) == {"error"}, response.text
    else:
        assert body["message"] == {"ack": {"status": "NACK"}}, response.text
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"], response.text
    assert isinstance(error["message"], str) and error["message"], response.text
    return error


def test_unknown_query_parameters_are_refused_on_every_route(
    role: tuple[Role, httpx.Client],
) -> None:
    served, client = role
    routes = served.routes()
    assert routes, served.name
    checked = set()
    for route in routes:
        for method in sorted(route.methods - {"HEAD"}):
            response = client.request(method, _url(route), params={UNKNOWN: "1"})
            assert response.status_code == 400, (method, route.path_format, response.text)
            error = _error(served, response)
            assert error["message"].startswith(f"Paramètre inconnu « {UNKNOWN} »"), error
            path = error.get("path") if served.api_shape else error.get("paths")
            assert path == (f"query.{UNKNOWN}" if served.api_shape else UNKNOWN), error
            checked.add(route.path_format)
    expected = {
        "seller": {"/api/providers/{provider_id}/products", "/api/providers/{provider_id}/orders"},
        "buyer": {"/api/orders", "/api/searches/{transaction_id}", "/api/reports/local-purchasing"},
        "registry": {"/admin/subscribers", "/admin/audit"},
        "gateway": {"/searches"},
    }[served.name]
    assert expected <= checked


def test_the_parameters_a_route_knows_are_never_refused(role: tuple[Role, httpx.Client]) -> None:
    """Every known name at once (empty values: the answer may refuse a value, or want a key,
    but never call a known parameter unknown)."""
    served, client = role
    for route in served.routes():
        known = declared_query_names(route.route)
        if not known:
            continue
        for method in sorted(route.methods - {"HEAD"}):
            response = client.request(method, _url(route), params=dict.fromkeys(known, ""))
            assert "Paramètre inconnu" not in response.text, (method, route.path_format)
    if served.name == "seller":
        products = next(r for r in served.routes() if r.path_format.endswith("/products"))
        assert {"q", "category", "active", "offset", "limit"} <= declared_query_names(
            products.route
        )
        orders = next(r for r in served.routes() if r.path_format.endswith("/orders"))
        assert {"status", "fulfillment_state", "limit", "offset"} <= declared_query_names(
            orders.route
        )


def _allowed(role: Role, url: str) -> set[str]:
    """Every method some route of the role answers at ``url``."""
    methods: set[str] = set()
    for route in served_routes(role.app):
        if route.matches(url):
            methods |= route.methods
    return methods


def test_unknown_addresses_and_wrong_methods_answer_in_the_role_shape(
    role: tuple[Role, httpx.Client],
) -> None:
    served, client = role
    missing = client.get(f"{served.under.rstrip('/')}/nexiste/pas/du/tout")
    assert missing.status_code == 404
    error = _error(served, missing)
    if served.api_shape:
        assert error == {
            "code": "adresse_inconnue",
            "message": "Adresse inconnue : GET /api/nexiste/pas/du/tout.",
        }
    outside = client.get("/nexiste/pas/du/tout")  # outside a node's /api: a NACK
    assert outside.status_code == 404
    assert _error(Role(served.name, served.app, "/", False), outside)["message"] == (
        "adresse inconnue"
    )
    wrong = 0
    for route in served.routes():
        url = _url(route)
        allowed = _allowed(served, url)
        for method in (m for m in METHODS if m not in allowed):
            response = client.request(method, url)
            assert response.status_code == 405, (method, url, response.text)
            error = _error(served, response)
            assert "méthode non permise" in error["message"].lower(), error
            if served.api_shape:
                assert error["code"] == "methode_non_permise"
            assert set(response.headers["Allow"].replace(" ", "").split(",")) <= allowed
            wrong += 1
    assert wrong, served.name


def test_a_status_change_takes_its_action_from_its_address_only(tmp_path: Path) -> None:
    """``POST /admin/subscribers/{id}/approve?action=suspend`` cannot turn an approval into
    a suspension: the action is the route's own, and ``action`` is an unknown parameter."""
    served = _role("registry", tmp_path)
    with serve(served.app) as url, httpx.Client(base_url=url, timeout=10) as client:
        _check_status_changes(served, client)


def _check_status_changes(served: Role, client: httpx.Client) -> None:
    for action in ("approve", "suspend", "reactivate"):
        route = next(r for r in served.routes() if r.path_format.endswith(f"/{action}"))
        assert "action" not in declared_query_names(route.route), action
        response = client.post(
            f"/admin/subscribers/pole-beauce.example/{action}", params={"action": "suspend"}
        )
        assert response.status_code == 400, response.text
        assert _error(served, response)["paths"] == "action", response.text
