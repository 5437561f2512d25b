"""Suspension by the network operator while orders are under way, on real nodes: the registry,
two seller nodes and the buyer node on loopback, with their default lookup cache (60 s) and
registry watch (2 s).

The policy (registry/README.md): a suspended participant opens nothing new (search, new
order, init, confirm are refused with a clear answer) but the orders begun before its
suspension are finished on both sides during the grace period (72 h by default); a
reactivation reaches the nodes as fast as a suspension."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.seller.support import CAPITALE

from .conftest import World
from .test_orders import WAIT, act, confirmed_order, order_body, read, seller_key

DEADLINE = 15.0  # seconds: generous for a loaded machine; a registry watch is 2 s


def until(check: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    """Poll ``check`` until it returns something true; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def new_order(world: World) -> httpx.Response:
    return world.api("POST", "/api/orders", json=order_body(world))


def refused_as_suspended(world: World) -> httpx.Response | None:
    response = new_order(world)
    if response.status_code == 202:
        return None
    assert response.status_code == 409, response.text
    return response


def seller_order(world: World, tmp_path: Path, order: dict[str, Any], key: str) -> dict[str, Any]:
    url = order["provider"]["bpp_uri"]
    response = world.http.get(
        f"{url}/api/providers/{CAPITALE}/orders/{order['seller_order_id']}",
        headers={"X-API-Key": key},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_seller_suspended_mid_order_cancels_it_on_both_sides_with_the_same_fee(
    world: World, tmp_path: Path
) -> None:
    order = confirmed_order(world)
    quoted = new_order(world)  # another, only quoted: it will not be confirmed
    assert quoted.status_code == 202 and read(world, quoted.json()["id"], **WAIT)["quote"]
    key = seller_key(tmp_path)
    # Packed: a cancellation now costs the pôle's fee (10 %).
    packed = world.http.post(
        f"{order['provider']['bpp_uri']}/api/providers/{CAPITALE}/orders/"
        f"{order['seller_order_id']}/fulfillment",
        json={"state": "Packed"},
        headers={"X-API-Key": key},
    )
    assert packed.status_code == 200, packed.text
    until(lambda: read(world, order["id"])["fulfillment"]["state"] == "Packed", "Packed")

    seller = world.sellers["capitale"]
    suspended = world.registry.admin.change("suspend", seller, "plainte (essai)")
    assert suspended["suspended_at"] and suspended["grace_until"]

    # The buyer node sees it: a new order with that seller is refused, and says why.
    refused = until(lambda: refused_as_suspended(world), "le nœud acheteur ignore la suspension")
    error = refused.json()["error"]
    assert error["code"] == "vendeur_suspendu" and error["path"] == "provider.bpp_id"
    assert "suspendu" in error["message"] and suspended["grace_until"][:19] in error["message"]

    # The order begun before the suspension is cancelled, and both sides agree.
    cancelled = act(world, order["id"], "cancel", {"reason_code": "001"}, **WAIT)
    assert cancelled["pending"] is None and cancelled["error"] is None, cancelled
    assert cancelled["status"] == "CANCELLED" and cancelled["state"] == "cancelled"
    theirs = seller_order(world, tmp_path, order, key)
    assert theirs["status"] == "CANCELLED"
    fee = Decimal(order["total"]["value"]) / 10
    assert Decimal(theirs["cancellation"]["fee"]) == fee.quantize(Decimal("0.01")) > 0
    assert Decimal(cancelled["quote"]["price"]["value"]) == Decimal(theirs["cancellation"]["fee"])
    # …through the grace period: the callback came from a suspended seller.
    assert [e["action"] for e in cancelled["events"] if e["kind"] == "callback"][-1] == "on_cancel"

    # Nothing new with that seller, not even from an older quote: init is refused.
    init = world.api("POST", f"/api/orders/{quoted.json()['id']}/init", json={})
    assert init.status_code == 409 and init.json()["error"]["code"] == "vendeur_suspendu"


def test_requests_of_a_suspended_buyer_the_same_rule(world: World, tmp_path: Path) -> None:
    order = confirmed_order(world)
    key = seller_key(tmp_path)
    buyer = world.service.settings.subscriber_id
    world.registry.admin.change("suspend", buyer, "impayés (essai)")

    # A new order: the seller node refuses its select, with the reason.
    def refused() -> dict[str, Any] | None:
        response = new_order(world)
        assert response.status_code == 202, response.text
        document = read(world, response.json()["id"], **WAIT)
        error = document["error"]
        if error is None or "suspendu" not in error["message"]:
            return None
        return dict(error)

    error = until(refused, "le nœud vendeur ignore la suspension de l'acheteur")
    assert error["code"] == "30016" and error["action"] == "select"
    assert "commencées avant la suspension" in error["message"]

    # The order confirmed before the suspension: its status and its cancellation go through.
    status = act(world, order["id"], "status", None, **WAIT)
    assert status["pending"] is None and status["error"] is None, status
    cancelled = act(world, order["id"], "cancel", {"reason_code": "001"}, **WAIT)
    assert cancelled["status"] == "CANCELLED" and cancelled["error"] is None, cancelled
    assert seller_order(world, tmp_path, order, key)["status"] == "CANCELLED"

    # A search: refused by every seller node (search is never in the grace period).
    transaction_id = world.search(text="erable", region="QC-03")
    sellers = world.results(transaction_id, wait_ms=10_000)["sellers"]
    assert sellers["targeted"] == [] and len(sellers["refused"]) == 2, sellers
    for refusal in sellers["refused"]:
        assert refusal["status"] == "NACK" and refusal["error"]["code"] == "30016", refusal
        assert "suspendu" in refusal["error"]["message"], refusal


def test_a_reactivated_seller_is_orderable_as_fast_as_a_suspended_one_is_not(
    world: World,
) -> None:
    seller = world.sellers["capitale"]
    assert new_order(world).status_code == 202  # the buyer's cache knows the seller
    world.registry.admin.change("suspend", seller, "vérification (essai)")
    until(lambda: refused_as_suspended(world), "suspension jamais vue")

    world.registry.admin.change("reactivate", seller)

    def reaches_the_seller() -> bool:
        response = new_order(world)
        if response.status_code == 409:
            return False
        assert response.status_code == 202, response.text
        document = read(world, response.json()["id"], **WAIT)
        return bool(document["state"] == "selected")

    until(reaches_the_seller, "réactivation jamais vue")
