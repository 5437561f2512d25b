"""Institutional purchasing through the buyer node: delivery sites, a cart spanning two pôles
that becomes one confirmed order per pôle, a pôle that refuses while the other confirms, and
an idempotent checkout. Real registry and two real seller nodes on loopback (one network per
module and backend: ``shared_world``), SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from reseau_poles.buyer.requests import OrderIn
from reseau_poles.buyer.services.sites import order_with_site
from reseau_poles.buyer.tables import orders, search_results, searches
from reseau_poles.participant import ApiError
from reseau_poles.storage import read_session, utcnow, write_session
from tests.seller.support import CAPITALE, CHIPS, CURDS, SYRUP

from .conftest import SharedWorld

WAIT = {"wait_ms": "15000"}
# A delivery day three days ahead: past the pôle's 24 h of notice, whatever the day.
DAY = (utcnow() + timedelta(days=3)).date().isoformat()
BILLING = {
    "name": "CIUSSS de la Capitale-Nationale",
    "address": "2915, av. du Bourg-Royal, Québec (Québec) G1C 3S2",
    "email": "comptes.fournisseurs@ciusss.example",
}
SITE = {
    "name": "Cuisine centrale — Hôpital de l'Enfant-Jésus",
    "address": "1401, 18e Rue, Québec (Québec)",
    "postal_code": "g1j 1z4",
    "gps": "46.8352,-71.2251",
    "receiving_hours": [{"days": ["lun", "mer", "ven"], "start": "06:30", "end": "10:00"}],
    "contact": {"name": "Quai de réception", "phone": "418 555-0101"},
    "cold_chain": ["ambiant", "refrigere"],
    "instructions": "Quai 2, sonner à la porte grise.",
}


def api(world: SharedWorld, key: str, method: str, path: str, **kwargs: Any) -> Any:
    return world.api(method, path, key=key, **kwargs)


def search(world: SharedWorld, key: str) -> None:
    """The organisation's search: the carts' lines are items it saw (conservation, origin)."""
    response = api(world, key, "POST", "/api/searches", json={"region": "QC-03"})
    assert response.status_code == 202, response.text
    tx = response.json()["transaction_id"]
    result = api(world, key, "GET", f"/api/searches/{tx}", params={"wait_ms": "10000"})
    assert result.json()["complete"], result.text


def new_site(world: SharedWorld, key: str, **changes: Any) -> dict[str, Any]:
    response = api(world, key, "POST", "/api/sites", json={**SITE, **changes})
    assert response.status_code == 201, response.text
    return dict(response.json())


def line(world: SharedWorld, seller: str, item: str, quantity: int) -> dict[str, Any]:
    return {
        "bpp_id": world.sellers[seller],
        "provider_id": CAPITALE,
        "item_id": item,
        "quantity": quantity,
        "fulfilment_id": "livraison-froid",
    }


def new_cart(world: SharedWorld, key: str, **fields: Any) -> dict[str, Any]:
    response = api(world, key, "POST", "/api/carts", json=fields)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/api/carts/{response.json()['id']}"
    return dict(response.json())


def error_of(response: Any) -> tuple[int, str, str | None]:
    error = response.json()["error"]
    return response.status_code, error["code"], error.get("path")


def test_delivery_sites_crud_and_validation(shared_world: SharedWorld) -> None:
    world = shared_world
    organisation_id, key = world.organisation("css")
    _, other_key = world.organisation("autre")

    site = new_site(world, key)
    assert site["id"].startswith("site-")
    assert site["postal_code"] == "G1J 1Z4"
    assert (site["region"], site["region_label"]) == ("QC-03", "Capitale-Nationale")
    assert site["cold_chain"] == ["ambiant", "refrigere"]
    assert site["receiving_hours"] == SITE["receiving_hours"]

    # the region from the GPS point when the postal code is rural
    rural = new_site(world, key, name="CHSLD de Saint-Raymond", postal_code="G3L 1K5")
    assert rural["region"] == "QC-03"
    montreal = new_site(
        world, key, name="CPE Rosemont", postal_code="H1X 2B8", gps=None, cold_chain=["congele"]
    )
    assert montreal["region"] == "QC-06" and montreal["gps"] is None

    listed = api(world, key, "GET", "/api/sites").json()["sites"]
    assert {s["id"] for s in listed} == {site["id"], rural["id"], montreal["id"]}
    assert api(world, other_key, "GET", "/api/sites").json()["sites"] == []
    assert api(world, other_key, "GET", f"/api/sites/{site['id']}").status_code == 404

    patched = api(world, key, "PATCH", f"/api/sites/{site['id']}", json={"name": "Cuisine B"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Cuisine B" and patched.json()["region"] == "QC-03"
    # a new postal code moves the region when none is given
    moved = api(world, key, "PATCH", f"/api/sites/{site['id']}", json={"postal_code": "J1H 5N4"})
    assert moved.status_code == 200, moved.text
    # GPS still says Capitale-Nationale: the site's region follows the postal code first
    assert moved.json()["region"] == "QC-05"
    replaced = api(world, key, "PUT", f"/api/sites/{site['id']}", json=SITE)
    assert replaced.json()["region"] == "QC-03" and replaced.json()["name"] == SITE["name"]

    bad = [
        ({**SITE, "postal_code": "12345"}, "postal_code"),
        ({**SITE, "postal_code": "M5V 2T6"}, "postal_code"),
        ({**SITE, "region": "QC-99"}, "region"),
        ({**SITE, "region": "*"}, "region"),
        ({**SITE, "gps": "nord"}, "gps"),
        ({**SITE, "gps": "48.85,2.35"}, "gps"),
        ({k: v for k, v in SITE.items() if k != "name"}, "name"),
        ({**SITE, "address": ""}, "address"),
        ({**SITE, "couleur": "bleu"}, "couleur"),
        (
            {**SITE, "receiving_hours": [{"days": ["lun"], "start": "11:00", "end": "07:00"}]},
            "receiving_hours.0",
        ),
        (
            {**SITE, "receiving_hours": [{"days": ["lundi"], "start": "07:00", "end": "11:00"}]},
            "receiving_hours.0.days.0",
        ),
        (
            {**SITE, "receiving_hours": [{"days": ["lun"], "start": "7h", "end": "11:00"}]},
            "receiving_hours.0.start",
        ),
        ({**SITE, "cold_chain": ["chaud"]}, "cold_chain.0"),
        ({**SITE, "cold_chain": ["ambiant", "ambiant"]}, "cold_chain"),
        ({**SITE, "contact": {"email": "pas-un-courriel"}}, "contact.email"),
        # a rural postal code with neither region nor GPS: the region is asked for
        ({**SITE, "postal_code": "G0A 1B0", "gps": None}, "region"),
        # a NUL character (PostgreSQL cannot store it): refused, never a 500
        ({**SITE, "name": "Cuisine\u0000"}, "name"),
        ({**SITE, "contact": {"name": "\u0000"}}, "contact.name"),
    ]
    for body, path in bad:
        response = api(world, key, "POST", "/api/sites", json=body)
        assert error_of(response)[:1] == (400,), (path, response.text)
        assert error_of(response)[2] == path, (path, response.text)
    assert api(world, key, "POST", "/api/sites", content=b"[1]").status_code == 400
    bad_patch = api(world, key, "PATCH", f"/api/sites/{site['id']}", json={"gps": "0,0"})
    assert error_of(bad_patch) == (400, "parametres_invalides", "gps")
    assert api(world, key, "GET", f"/api/sites/{site['id']}").json()["name"] == SITE["name"]

    assert api(world, key, "DELETE", f"/api/sites/{rural['id']}").status_code == 204
    assert error_of(api(world, key, "GET", f"/api/sites/{rural['id']}")) == (
        404,
        "site_inconnu",
        "id",
    )
    assert api(world, key, "DELETE", f"/api/sites/{rural['id']}").status_code == 404
    # a cart naming an unknown (or deleted, or another organisation's) site is refused
    for site_id in (rural["id"], "site-inconnu"):
        response = api(world, key, "POST", "/api/carts", json={"delivery_site_id": site_id})
        assert error_of(response) == (400, "site_inconnu", "delivery_site_id")
    response = api(world, other_key, "POST", "/api/carts", json={"delivery_site_id": site["id"]})
    assert error_of(response) == (400, "site_inconnu", "delivery_site_id")

    # an order body naming the site gets its delivery (for /api/orders: see the report)
    with read_session(world.factory) as session:
        filled = order_with_site(
            session,
            organisation_id,
            {"delivery_site_id": site["id"], "fulfilment": {"id": "livraison-froid"}},
        )
        assert filled["fulfilment"] == {
            "type": "livraison",
            "id": "livraison-froid",
            "site_name": SITE["name"],
            "address": "1401, 18e Rue, Québec (Québec) G1J 1Z4",
            "region": "QC-03",
            "gps": "46.8352,-71.2251",
            "contact": SITE["contact"],
            "instructions": "Quai 2, sonner à la porte grise. — Réception : lun-mer-ven 06:30-10:00",
        }
        OrderIn.model_validate(
            {
                **filled,
                "provider": {"bpp_id": "x", "id": "y"},
                "items": [{"id": "z", "quantity": 1}],
            }
        )
        pickup = {"delivery_site_id": site["id"], "fulfilment": {"type": "cueillette"}}
        assert order_with_site(session, organisation_id, pickup) == pickup
        own = order_with_site(
            session,
            organisation_id,
            {"delivery_site_id": site["id"], "fulfilment": {"region": "QC-12"}},
        )
        assert own["fulfilment"]["region"] == "QC-12"
        try:
            order_with_site(session, organisation_id, {"delivery_site_id": rural["id"]})
        except ApiError as exc:
            assert (exc.status, exc.code, exc.path) == (400, "site_inconnu", "delivery_site_id")
        else:
            raise AssertionError("site retiré accepté")


def test_a_cart_over_two_poles_becomes_one_confirmed_order_per_pole(
    shared_world: SharedWorld,
) -> None:
    world = shared_world
    organisation_id, key = world.organisation("ciusss")
    search(world, key)
    site = new_site(world, key)
    cart = new_cart(
        world,
        key,
        name="Semaine 49",
        delivery_site_id=site["id"],
        delivery_window={"start": f"{DAY}T11:30:00Z", "end": f"{DAY}T15:00:00Z"},
        purchase_order_number="BC-2026-0117",
        payment={"type": "POST-FULFILLMENT", "net_days": 30},
        billing=BILLING,
        lines=[line(world, "capitale", SYRUP, 6)],
    )
    assert cart["state"] == "ouvert" and cart["checkout"] == {
        "state": "non_commande",
        "done": False,
    }
    # lines from search results of another seller node: a second pôle
    for item, quantity in ((CURDS, 2), (CHIPS, 3), (SYRUP, 6)):
        added = api(
            world,
            key,
            "POST",
            f"/api/carts/{cart['id']}/lines",
            json=line(world, "estrie", item, quantity),
        )
        assert added.status_code == 201, added.text
    # the same item again: its new quantity; then a line taken out
    again = api(
        world, key, "POST", f"/api/carts/{cart['id']}/lines", json=line(world, "estrie", CURDS, 4)
    ).json()
    assert len(again["lines"]) == 4
    assert {
        ln["item_id"]: ln["quantity"]
        for ln in again["lines"]
        if ln["bpp_id"] == world.sellers["estrie"]
    }[CURDS] == 4
    chips = next(ln for ln in again["lines"] if ln["item_id"] == CHIPS)
    removed = api(world, key, "DELETE", f"/api/carts/{cart['id']}/lines/{chips['id']}")
    assert removed.status_code == 200 and len(removed.json()["lines"]) == 3
    assert error_of(api(world, key, "DELETE", f"/api/carts/{cart['id']}/lines/{chips['id']}")) == (
        404,
        "ligne_inconnue",
        "line_id",
    )

    response = api(world, key, "POST", f"/api/carts/{cart['id']}/checkout", params=WAIT)
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["state"] == "commande"
    assert done["checkout"]["state"] == "complete", done
    assert (done["checkout"]["poles"], done["checkout"]["confirmed"]) == (2, 2)
    poles = {p["bpp_id"]: p for p in done["poles"]}
    assert set(poles) == {world.sellers["capitale"], world.sellers["estrie"]}
    for pole in poles.values():
        assert pole["checkout_state"] == "confirmee" and pole["order_state"] == "confirmed"
        assert pole["status"] == "ACTIVE" and pole["seller_order_id"].startswith("CMD-")
        assert pole["error"] is None and pole["provider_id"] == CAPITALE
    # 6 × 12.50 + delivery 25.00 + taxes on the delivery (3.74)
    assert poles[world.sellers["capitale"]]["total"] == {"currency": "CAD", "value": "103.74"}
    # 4 × 18.75 + 6 × 12.50 + 25.00 + 3.74
    assert poles[world.sellers["estrie"]]["total"] == {"currency": "CAD", "value": "178.74"}
    assert done["checkout"]["confirmed_total"] == {"currency": "CAD", "value": "282.48"}

    # each order carries the cart's terms and the site's delivery details
    order = api(world, key, "GET", poles[world.sellers["estrie"]]["order_url"]).json()
    assert order["cart_id"] == cart["id"] and order["delivery_site_id"] == site["id"]
    assert order["purchase_order_number"] == "BC-2026-0117"
    assert order["payment"] == {"type": "POST-FULFILLMENT", "net_days": 30}
    assert order["delivery_window"] == {
        "start": f"{DAY}T11:30:00.000Z",
        "end": f"{DAY}T15:00:00.000Z",
    }
    fulfilment = order["request"]["fulfilment"]
    assert fulfilment["region"] == "QC-03" and fulfilment["gps"] == "46.8352,-71.2251"
    assert fulfilment["address"].endswith("G1J 1Z4")
    assert fulfilment["contact"] == SITE["contact"]
    assert "lun-mer-ven 06:30-10:00" in fulfilment["instructions"]
    assert order["fulfillment"]["id"] == "livraison-froid"

    # idempotent: a second checkout orders nothing more and says the same thing
    second = api(world, key, "POST", f"/api/carts/{cart['id']}/checkout", params=WAIT)
    assert second.status_code == 200
    assert [p["order_id"] for p in second.json()["poles"]] == [p["order_id"] for p in done["poles"]]
    with read_session(world.factory) as session:
        count = session.execute(
            select(func.count()).where(orders.c.cart_id == cart["id"])
        ).scalar_one()
    assert count == 2
    listed = api(world, key, "GET", "/api/orders", params={"state": "confirmed"}).json()
    assert listed["total"] == 2
    # a checked-out cart no longer changes
    late = api(
        world, key, "POST", f"/api/carts/{cart['id']}/lines", json=line(world, "capitale", CHIPS, 1)
    )
    assert error_of(late) == (409, "panier_commande", "id")
    assert error_of(api(world, key, "PATCH", f"/api/carts/{cart['id']}", json={"name": "x"})) == (
        409,
        "panier_commande",
        "id",
    )
    carts = api(world, key, "GET", "/api/carts").json()["carts"]
    assert [c["id"] for c in carts] == [cart["id"]] and carts[0]["state"] == "commande"
    assert organisation_id


def seen_from_a_node_gone(world: SharedWorld, organisation_id: str, bpp_id: str) -> None:
    """The organisation saw the capitale pôle's catalogue from ``bpp_id`` too: a seller node
    that has left the registry since its answer."""
    with write_session(world.factory) as session:
        row = (
            session.execute(
                select(search_results)
                .join(searches, searches.c.transaction_id == search_results.c.transaction_id)
                .where(
                    searches.c.organisation_id == organisation_id,
                    search_results.c.bpp_id == world.sellers["capitale"],
                )
                .limit(1)
            )
            .mappings()
            .one()
        )
        values = {k: v for k, v in row.items() if k != "id"}
        session.execute(search_results.insert().values({**values, "bpp_id": bpp_id}))


def test_one_pole_refusing_does_not_block_the_other(shared_world: SharedWorld) -> None:
    world = shared_world
    organisation_id, key = world.organisation("cpe")
    search(world, key)
    seen_from_a_node_gone(world, organisation_id, "inconnu.example")
    cart = new_cart(
        world,
        key,
        fulfilment={
            "type": "livraison",
            "address": "55, rue des Enfants, Québec (Québec) G1R 4P5",
            "region": "QC-03",
        },
        billing=BILLING,
        payment={"type": "POST-FULFILLMENT", "net_days": 45},
        lines=[
            line(world, "capitale", SYRUP, 6),
            # far more than any stock: the estrie node refuses with 40002
            line(world, "estrie", SYRUP, 900_000),
            # a seller node the registry does not know
            {**line(world, "capitale", SYRUP, 6), "bpp_id": "inconnu.example"},
        ],
    )
    started = api(world, key, "POST", f"/api/carts/{cart['id']}/checkout")
    assert started.status_code in (200, 202), started.text
    done = api(world, key, "GET", f"/api/carts/{cart['id']}", params=WAIT).json()
    assert done["checkout"]["done"] and done["checkout"]["state"] == "partielle", done
    assert (done["checkout"]["confirmed"], done["checkout"]["failed"]) == (1, 2)
    poles = {p["bpp_id"]: p for p in done["poles"]}
    ok, refused = poles[world.sellers["capitale"]], poles[world.sellers["estrie"]]
    assert ok["checkout_state"] == "confirmee" and ok["order_state"] == "confirmed"
    assert refused["checkout_state"] == "echec"
    assert refused["error"]["code"] == "40002" and refused["error"]["step"] == "select"
    assert refused["error"]["message"]
    assert refused["order_state"] == "new"
    unknown = poles["inconnu.example"]
    assert unknown["checkout_state"] == "echec" and unknown["order_id"] is None
    assert unknown["error"]["code"] == "vendeur_inconnu"
    assert unknown["error"]["path"] == "provider.bpp_id"
    # checking out again does not retry nor duplicate
    again = api(world, key, "POST", f"/api/carts/{cart['id']}/checkout").json()
    assert again["checkout"]["state"] == "partielle"
    with read_session(world.factory) as session:
        count = session.execute(
            select(func.count()).where(orders.c.cart_id == cart["id"])
        ).scalar_one()
    assert count == 2


def test_a_refusal_at_init_is_reported_with_its_step(shared_world: SharedWorld) -> None:
    world = shared_world
    _, key = world.organisation("cegep")
    search(world, key)
    cart = new_cart(
        world,
        key,
        fulfilment={"type": "livraison", "address": "1, rue du Cégep, Québec", "region": "QC-03"},
        billing=BILLING,
        # the pôle takes POST-FULFILLMENT or ON-FULFILLMENT only: 40004 at init
        payment={"type": "PRE-ORDER"},
        lines=[line(world, "capitale", SYRUP, 6)],
    )
    done = api(world, key, "POST", f"/api/carts/{cart['id']}/checkout", params=WAIT).json()
    assert done["checkout"]["state"] == "echec" and done["checkout"]["failed"] == 1, done
    (pole,) = done["poles"]
    assert pole["checkout_state"] == "echec" and pole["order_state"] == "selected"
    assert pole["error"]["code"] == "40004" and pole["error"]["step"] == "init"
    assert pole["error"]["path"] == "message.order.payments[0].type"
    assert pole["total"] == {"currency": "CAD", "value": "103.74"}  # the quote came


def test_checkouts_at_the_same_instant_order_once(shared_world: SharedWorld) -> None:
    world = shared_world
    _, key = world.organisation("garderie")
    search(world, key)
    cart = new_cart(
        world,
        key,
        fulfilment={"type": "cueillette", "id": "cueillette-vanier"},
        billing=BILLING,
        lines=[
            {**line(world, "capitale", SYRUP, 6), "fulfilment_id": None},
            {**line(world, "estrie", SYRUP, 6), "fulfilment_id": None},
        ],
    )
    url = f"/api/carts/{cart['id']}/checkout"
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: api(world, key, "POST", url, params=WAIT), range(4)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    ids = {tuple(sorted(p["order_id"] for p in a.json()["poles"])) for a in answers}
    assert len(ids) == 1 and None not in next(iter(ids))
    assert answers[0].json()["checkout"]["state"] == "complete", answers[0].text
    with read_session(world.factory) as session:
        count = session.execute(
            select(func.count()).where(orders.c.cart_id == cart["id"])
        ).scalar_one()
    assert count == 2


def test_cart_validation_answers_with_paths(shared_world: SharedWorld) -> None:
    world = shared_world
    _, key = world.organisation("resto")
    _, other_key = world.organisation("autre")
    search(world, key)
    good = line(world, "capitale", SYRUP, 6)
    bad_bodies = [
        ({"lines": [{**good, "quantity": 0}]}, "lines.0.quantity"),
        ({"lines": [good, {**good, "quantity": 7}]}, "lines.1"),
        ({"lines": [{k: v for k, v in good.items() if k != "item_id"}]}, "lines.0.item_id"),
        ({"payment": {"type": "PRE-ORDER", "net_days": 30}}, "payment"),
        ({"payment": {"type": "POST-FULFILLMENT", "net_days": 365}}, "payment.net_days"),
        (
            {"delivery_window": {"start": "2026-12-02T15:00:00Z", "end": "2026-12-02T11:00:00Z"}},
            "delivery_window",
        ),
        ({"purchase_order_number": "x" * 65}, "purchase_order_number"),
        ({"billing": {"email": "a@b.example"}}, "billing.name"),
        ({"panier": 1}, "panier"),
        ({"lines": [{**good, "item_id": "sirop\u0000"}]}, "lines.0.item_id"),
    ]
    for body, path in bad_bodies:
        response = api(world, key, "POST", "/api/carts", json=body)
        assert response.status_code == 400 and error_of(response)[2] == path, (path, response.text)

    empty = new_cart(world, key, billing=BILLING, fulfilment={"type": "cueillette"})
    assert error_of(api(world, key, "POST", f"/api/carts/{empty['id']}/checkout")) == (
        400,
        "panier_vide",
        "lines",
    )
    unbilled = new_cart(world, key, lines=[good], fulfilment={"type": "cueillette"})
    response = api(world, key, "POST", f"/api/carts/{unbilled['id']}/checkout")
    assert error_of(response) == (400, "parametres_invalides", "billing")
    nowhere = new_cart(world, key, lines=[good], billing=BILLING)
    response = api(world, key, "POST", f"/api/carts/{nowhere['id']}/checkout")
    assert error_of(response) == (400, "parametres_invalides", "delivery_site_id")
    # nothing was written by the refused checkouts
    assert api(world, key, "GET", f"/api/carts/{nowhere['id']}").json()["state"] == "ouvert"

    # a site without cold rooms cannot receive the cheese curds (réfrigéré)
    dry = new_site(world, key, cold_chain=["ambiant"])
    cold = new_cart(
        world,
        key,
        delivery_site_id=dry["id"],
        billing=BILLING,
        lines=[good, line(world, "estrie", CURDS, 2)],
    )
    response = api(world, key, "POST", f"/api/carts/{cold['id']}/checkout")
    assert error_of(response) == (400, "chaine_froid_site", "lines.1")
    assert "réfrigéré" in response.json()["error"]["message"] or "refrigere" in response.text

    bad_line = api(
        world, key, "POST", f"/api/carts/{cold['id']}/lines", json={**good, "quantity": -1}
    )
    assert error_of(bad_line) == (400, "parametres_invalides", "quantity")
    assert (
        api(world, key, "POST", f"/api/carts/{cold['id']}/lines", content=b"{").status_code == 400
    )
    assert error_of(api(world, key, "GET", "/api/carts/inconnu")) == (404, "panier_inconnu", "id")
    assert error_of(api(world, other_key, "GET", f"/api/carts/{cold['id']}"))[0] == 404
    assert error_of(
        api(world, key, "GET", f"/api/carts/{cold['id']}", params={"wait_ms": "x"})
    ) == (
        400,
        "parametres_invalides",
        "wait_ms",
    )
    assert error_of(
        api(world, key, "PATCH", f"/api/carts/{cold['id']}", json={"delivery_site_id": "non"})
    ) == (400, "site_inconnu", "delivery_site_id")
    # a PATCH with null clears a field
    cleared = api(world, key, "PATCH", f"/api/carts/{cold['id']}", json={"delivery_site_id": None})
    assert cleared.status_code == 200 and cleared.json()["delivery_site_id"] is None
    assert world.api("GET", "/api/carts", key="faux").status_code == 401


def test_an_order_naming_a_site_gets_its_delivery_details(shared_world: SharedWorld) -> None:
    world = shared_world
    _organisation_id, key = world.organisation("cpe-soleil")
    search(world, key)
    site = new_site(world, key)
    body = {
        "provider": {"bpp_id": world.sellers["capitale"], "id": CAPITALE},
        "items": [{"id": SYRUP, "quantity": 2}],
        "delivery_site_id": site["id"],
        "billing": BILLING,
    }
    response = api(world, key, "POST", "/api/orders", json=body, params=WAIT)
    assert response.status_code == 200, response.text
    order = response.json()
    assert order["delivery_site_id"] == site["id"]
    fulfilment = order["request"]["fulfilment"]
    assert fulfilment["region"] == "QC-03" and fulfilment["address"].endswith("G1J 1Z4")
    assert fulfilment["contact"] == SITE["contact"]
    assert fulfilment["site_name"] == SITE["name"]  # sent to the pôle as the end stop's name
    # an unknown site is a 400 at its path, and no order is made
    unknown = api(
        world, key, "POST", "/api/orders", json={**body, "delivery_site_id": "nulle-part"}
    )
    assert error_of(unknown) == (400, "site_inconnu", "delivery_site_id")
