"""The cart pages of the institutions' portal (``/portail/paniers``) on a real network
(registry, two seller nodes, the buyer node on loopback), as a browser without JavaScript
drives them: a cart grouped by pôle and delivery option, its site, window and PO number (and
their refusals by field), quantities, lines taken out, a pôle's delivery option; the quote of
each pôle; an order straight away, or through the approval step when the organisation asks
for one (submitted, sent back with a comment, changed, approved → one order per pôle), each
step by the roles allowed, recorded on the cart and in the audit. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from html import unescape
from typing import Any

import pytest

from reseau_poles.protocol.profile.delivery_window import QUEBEC
from tests.seller.support import CAPITALE, CHIPS, CURDS, SYRUP

from .conftest import SharedWorld
from .portail_support import (  # noqa: F401
    Person,
    add_person,
    audit_actions,
    eventually,
    quick_argon2,
)

SITE = {
    "name": "Cafétéria de l'école Sainte-Odile",
    "address": "1401, 18e Rue, Québec (Québec)",
    "postal_code": "G1J 1Z4",
    "receiving_hours": [{"days": ["lun", "mer", "ven"], "start": "06:30", "end": "10:00"}],
    "cold_chain": ["ambiant", "refrigere"],
}


@pytest.fixture(scope="module")
def school(shared_world: SharedWorld, quick_argon2: None) -> dict[str, Any]:  # noqa: F811
    """An organisation with a site, an acheteur, an approbateur and an administrator, which
    has searched the catalogue (a cart holds what its searches saw)."""
    organisation_id, key = shared_world.organisation("ecole")
    site = shared_world.api("POST", "/api/sites", key=key, json=SITE)
    assert site.status_code == 201, site.text
    people = {
        "acheteur": add_person(
            shared_world.factory, organisation_id, f"luc@{organisation_id}.ex", ["acheteur"]
        ),
        "approbateur": add_person(
            shared_world.factory, organisation_id, f"ines@{organisation_id}.ex", ["approbateur"]
        ),
        "admin": add_person(
            shared_world.factory, organisation_id, f"admin@{organisation_id}.ex", ["admin"]
        ),
    }
    started = shared_world.api("POST", "/api/searches", key=key, json={"region": "QC-03"})
    found = shared_world.api(
        "GET",
        f"/api/searches/{started.json()['transaction_id']}",
        key=key,
        params={"wait_ms": "10000"},
    )
    assert found.json()["complete"], found.text
    return {"id": organisation_id, "key": key, "site": site.json()["id"], "people": people}


def person(world: SharedWorld, school: dict[str, Any], who: str) -> Person:
    name = {"acheteur": "luc", "approbateur": "ines", "admin": "admin"}[who]
    return Person(world.buyer_url, f"{name}@{school['id']}.ex").sign_in()


@pytest.fixture
def luc(shared_world: SharedWorld, school: dict[str, Any]) -> Iterator[Person]:
    someone = person(shared_world, school, "acheteur")
    yield someone
    someone.close()


@pytest.fixture
def ines(shared_world: SharedWorld, school: dict[str, Any]) -> Iterator[Person]:
    someone = person(shared_world, school, "approbateur")
    yield someone
    someone.close()


@pytest.fixture
def admin(shared_world: SharedWorld, school: dict[str, Any]) -> Iterator[Person]:
    someone = person(shared_world, school, "admin")
    yield someone
    someone.close()


def new_cart(who: Person, name: str) -> str:
    created = who.post("/portail/paniers", {"name": name})
    assert created.status_code == 303, created.text
    return created.headers["location"].rsplit("/", 1)[1]


def add(world: SharedWorld, who: Person, seller: str, item: str, quantity: int) -> None:
    added = who.post(
        "/portail/paniers/lignes",
        {
            "bpp_id": world.sellers[seller],
            "provider_id": CAPITALE,
            "item_id": item,
            "quantity": str(quantity),
            "suivant": "/portail/paniers",
        },
    )
    assert added.status_code == 303, added.text
    assert "rp_flash" in added.headers.get("set-cookie", "")


def delivery(site: str, days: int = 3, name: str = "Semaine de la rentrée") -> dict[str, str]:
    day = (datetime.now(QUEBEC) + timedelta(days=days)).date()
    return {
        "name": name,
        "delivery_site_id": site,
        "date": day.isoformat(),
        "start": "08:00",
        "end": "11:00",
        "purchase_order_number": "BC-2026-117",
        "billing_name": "École Sainte-Odile",
    }


def cart_api(world: SharedWorld, school: dict[str, Any], cart_id: str) -> dict[str, Any]:
    response = world.api("GET", f"/api/carts/{cart_id}", key=school["key"])
    assert response.status_code == 200, response.text
    return dict(response.json())


def filled_cart(world: SharedWorld, who: Person, school: dict[str, Any], name: str) -> str:
    """Lines from both seller nodes, the site, a window and a PO number."""
    cart_id = new_cart(who, name)
    add(world, who, "capitale", SYRUP, 6)
    add(world, who, "estrie", CHIPS, 2)
    saved = who.post(f"/portail/paniers/{cart_id}", delivery(school["site"], name=name))
    assert saved.status_code == 303, saved.text
    return cart_id


def set_approval(admin: Person, required: bool) -> None:
    changed = admin.post(
        "/portail/organisation", {"requires_approval": "oui" if required else "non"}
    )
    assert changed.status_code == 303


def test_a_cart_by_pole_with_its_delivery_and_lines(
    shared_world: SharedWorld, luc: Person, school: dict[str, Any]
) -> None:
    cart_id = new_cart(luc, "Cuisine — décembre")
    assert luc.http.cookies.get("rp_panier") == cart_id
    add(shared_world, luc, "capitale", SYRUP, 6)
    add(shared_world, luc, "capitale", CURDS, 2)
    add(shared_world, luc, "estrie", CHIPS, 3)

    page = luc.get(f"/portail/paniers/{cart_id}")
    assert page.status_code == 200
    html = unescape(page.text)
    # two groups: pôle Capitale at each seller node; lines with the catalogue's words
    assert len(re.findall(r'<article class="card" aria-labelledby="groupe-\d+"', html)) == 2
    assert "Sirop d'érable biologique 540 ml" in html and "Fromage en grains 1 kg" in html
    assert "75,00\u00a0$" in html  # 6 × 12,50 $
    assert 'name="delivery_site_id"' in html and SITE["name"] in html

    # delivery: refused by field, then saved
    missing_time = luc.post(f"/portail/paniers/{cart_id}", {**delivery(school["site"]), "end": ""})
    assert missing_time.status_code == 400
    assert "les deux heures" in unescape(missing_time.text)
    inverted = luc.post(f"/portail/paniers/{cart_id}", {**delivery(school["site"]), "end": "07:00"})
    assert inverted.status_code == 400 and "doit suivre" in unescape(inverted.text)
    past = luc.post(f"/portail/paniers/{cart_id}", delivery(school["site"], days=-3))
    assert past.status_code == 400
    assert "passé" in unescape(past.text) and 'role="alert"' in past.text
    unknown_site = luc.post(
        f"/portail/paniers/{cart_id}", {**delivery(school["site"]), "delivery_site_id": "ailleurs"}
    )
    assert unknown_site.status_code == 400
    saved = luc.post(f"/portail/paniers/{cart_id}", delivery(school["site"]))
    assert saved.status_code == 303
    cart = cart_api(shared_world, school, cart_id)
    assert cart["delivery_site_id"] == school["site"]
    assert cart["purchase_order_number"] == "BC-2026-117"
    assert cart["billing"] == {"name": "École Sainte-Odile"}
    start = datetime.fromisoformat(cart["delivery_window"]["start"]).astimezone(QUEBEC)
    assert start.time() == time(8, 0)
    again = unescape(luc.get(f"/portail/paniers/{cart_id}").text)
    assert 'value="08:00"' in again and 'value="BC-2026-117"' in again

    # quantities, a line taken out, a pôle's delivery option
    curds = next(ln for ln in cart["lines"] if ln["item_id"] == CURDS)
    assert (
        luc.post(f"/portail/paniers/{cart_id}/lignes/{curds['id']}", {"quantity": "4"}).status_code
        == 303
    )
    low = luc.post(
        f"/portail/paniers/{cart_id}/lignes/"
        f"{next(ln['id'] for ln in cart['lines'] if ln['item_id'] == SYRUP)}",
        {"quantity": "2"},
    )
    assert "commande minimale 6" in unescape(luc.follow(low).text)
    removed = luc.post(f"/portail/paniers/{cart_id}/lignes/{curds['id']}/retrait")
    assert "Ligne retirée" in luc.follow(removed).text
    option = luc.post(
        f"/portail/paniers/{cart_id}/mode",
        {
            "bpp_id": shared_world.sellers["capitale"],
            "provider_id": CAPITALE,
            "fulfilment_id": "livraison-seche",
        },
    )
    assert option.status_code == 303
    refused = luc.post(
        f"/portail/paniers/{cart_id}/mode",
        {
            "bpp_id": shared_world.sellers["capitale"],
            "provider_id": CAPITALE,
            "fulfilment_id": "teleportation",
        },
    )
    assert "non offert" in unescape(luc.follow(refused).text)
    cart = cart_api(shared_world, school, cart_id)
    assert [(ln["item_id"], ln["quantity"], ln["fulfilment_id"]) for ln in cart["lines"]] == [
        (SYRUP, 6, "livraison-seche"),
        (CHIPS, 3, None),
    ]
    assert (
        luc.post(f"/portail/paniers/{cart_id}/lignes/999999", {"quantity": "1"}).status_code == 404
    )
    assert luc.get("/portail/paniers/inconnu").status_code == 404

    listed = luc.get("/portail/paniers")
    assert "Semaine de la rentrée" in unescape(listed.text) and "panier courant" in listed.text
    actions = [
        a for a, target, _ in audit_actions(shared_world.factory, school["id"]) if target == cart_id
    ]
    for expected in (
        "panier.cree",
        "panier.ligne_ajoutee",
        "panier.modifie",
        "panier.quantite_modifiee",
        "panier.ligne_retiree",
        "panier.mode_modifie",
    ):
        assert expected in actions


def test_quotes_then_an_order_per_pole(
    shared_world: SharedWorld, luc: Person, admin: Person, school: dict[str, Any]
) -> None:
    set_approval(admin, False)
    cart_id = filled_cart(shared_world, luc, school, "Commande directe")
    asked = luc.post(f"/portail/paniers/{cart_id}/apercu")
    assert asked.headers["location"] == f"/portail/paniers/{cart_id}/apercu"
    quotes = unescape(luc.follow(asked).text)
    assert quotes.count("Devis reçu") == 2
    assert "TPS" in quotes and "TVQ" in quotes and "Total du pôle" in quotes
    assert "Confirmer la commande" in quotes and "Soumettre pour approbation" not in quotes

    ordered = luc.post(f"/portail/paniers/{cart_id}/commande")
    assert ordered.status_code == 303

    def confirmed() -> dict[str, Any] | None:
        cart = cart_api(shared_world, school, cart_id)
        return cart if cart["checkout"]["state"] == "complete" else None

    cart = eventually(confirmed, timeout=40)
    assert len(cart["poles"]) == 2
    page = luc.get(f"/portail/paniers/{cart_id}")
    for pole in cart["poles"]:
        assert f'href="/portail/commandes/{pole["order_id"]}"' in page.text
    assert "Chaque pôle a confirmé sa commande" in unescape(page.text)
    assert 'name="quantity"' not in page.text  # an ordered cart does not change
    progress = luc.get(f"/portail/paniers/{cart_id}/progression", headers={"HX-Request": "true"})
    assert progress.status_code == 200 and "<html" not in progress.text
    assert "hx-trigger" not in progress.text  # done: htmx stops asking
    luc_id = school["people"]["acheteur"]
    assert ("panier.commande", cart_id, luc_id) in audit_actions(shared_world.factory, school["id"])


def test_the_approval_step(
    shared_world: SharedWorld, luc: Person, ines: Person, admin: Person, school: dict[str, Any]
) -> None:
    # the organisation's setting: the administrator's page only
    assert luc.get("/portail/organisation").status_code == 403
    set_approval(admin, True)
    assert "L'approbation est requise" in unescape(admin.get("/portail/organisation").text)
    try:
        cart_id = filled_cart(shared_world, luc, school, "Avec approbation")
        page = unescape(luc.get(f"/portail/paniers/{cart_id}").text)
        assert "Soumettre pour approbation" in page and "Confirmer la commande" not in page
        direct = luc.post(f"/portail/paniers/{cart_id}/commande")
        assert "demande qu'un approbateur" in unescape(luc.follow(direct).text)
        api_checkout = shared_world.api("POST", f"/api/carts/{cart_id}/checkout", key=school["key"])
        assert api_checkout.status_code == 409
        assert api_checkout.json()["error"]["code"] == "approbation_requise"

        # submitted: it does not change, by the page or the API
        assert luc.post(f"/portail/paniers/{cart_id}/soumission").status_code == 303
        cart = cart_api(shared_world, school, cart_id)
        assert cart["approval"]["state"] == "soumis"
        assert cart["approval"]["submitted_by"] == school["people"]["acheteur"]
        frozen = luc.post(f"/portail/paniers/{cart_id}", delivery(school["site"]))
        assert frozen.status_code == 409 and "attend une approbation" in unescape(frozen.text)
        api_edit = shared_world.api(
            "PATCH", f"/api/carts/{cart_id}", key=school["key"], json={"purchase_order_number": "X"}
        )
        assert (
            api_edit.status_code == 409
            and api_edit.json()["error"]["code"] == "panier_en_approbation"
        )
        # an acheteur does not approve; the approver sees it waiting
        assert luc.post(f"/portail/paniers/{cart_id}/approbation").status_code == 403
        waiting = unescape(ines.get("/portail/paniers").text)
        assert "en attente de votre approbation" in waiting and "Avec approbation" in waiting
        page = unescape(ines.get(f"/portail/paniers/{cart_id}").text)
        assert "Approuver et commander" in page and "Renvoyer avec ce commentaire" in page
        assert "Soumis par Luc" in page

        # sent back: a comment is required, then shown; the cart changes again
        silent = ines.post(f"/portail/paniers/{cart_id}/renvoi", {"comment": "  "})
        assert "Dites pourquoi" in unescape(ines.follow(silent).text)
        back = ines.post(
            f"/portail/paniers/{cart_id}/renvoi", {"comment": "Moins de croustilles, SVP."}
        )
        assert back.status_code == 303
        page = unescape(luc.get(f"/portail/paniers/{cart_id}").text)
        assert "Moins de croustilles, SVP." in page and "Renvoyé par Ines" in page
        chips = next(
            ln for ln in cart_api(shared_world, school, cart_id)["lines"] if ln["item_id"] == CHIPS
        )
        assert (
            luc.post(
                f"/portail/paniers/{cart_id}/lignes/{chips['id']}", {"quantity": "1"}
            ).status_code
            == 303
        )
        assert luc.post(f"/portail/paniers/{cart_id}/soumission").status_code == 303

        # approved: ordered at once, one order per pôle
        approved = ines.post(f"/portail/paniers/{cart_id}/approbation")
        assert approved.status_code == 303

        def confirmed() -> dict[str, Any] | None:
            cart = cart_api(shared_world, school, cart_id)
            return cart if cart["checkout"]["done"] else None

        cart = eventually(confirmed, timeout=40)
        assert cart["checkout"]["state"] == "complete" and len(cart["poles"]) == 2
        assert cart["approval"]["state"] == "commande"
        assert cart["approval"]["decided_by"] == school["people"]["approbateur"]
        assert cart["approval"]["comment"] is None
        page = unescape(luc.get(f"/portail/paniers/{cart_id}").text)
        assert "Approuvé par Ines" in page and "Soumis par Luc" in page
        assert (
            luc.post(f"/portail/paniers/{cart_id}/soumission").status_code == 303
        )  # refused: ordered
        assert cart_api(shared_world, school, cart_id)["approval"]["state"] == "commande"

        trail = [
            (action, user)
            for action, target, user in audit_actions(shared_world.factory, school["id"])
            if target == cart_id
        ]
        people = school["people"]
        for expected in (
            ("panier.soumis", people["acheteur"]),
            ("panier.renvoye", people["approbateur"]),
            ("panier.approuve", people["approbateur"]),
            ("panier.commande", people["approbateur"]),
        ):
            assert expected in trail
    finally:
        set_approval(admin, False)


def test_withdrawing_and_the_roles_that_may_not(
    shared_world: SharedWorld, luc: Person, ines: Person, admin: Person, school: dict[str, Any]
) -> None:
    set_approval(admin, True)
    try:
        cart_id = filled_cart(shared_world, luc, school, "Retrait")
        assert admin.post(f"/portail/paniers/{cart_id}/soumission").status_code == 403
        assert admin.post("/portail/paniers", {"name": "x"}).status_code == 403
        refused = ines.post(f"/portail/paniers/{cart_id}/soumission")
        assert "Réservé au rôle acheteur" in unescape(ines.follow(refused).text)
        assert cart_api(shared_world, school, cart_id)["approval"]["state"] == "brouillon"
        assert luc.post(f"/portail/paniers/{cart_id}/soumission").status_code == 303
        assert luc.post(f"/portail/paniers/{cart_id}/retrait").status_code == 303
        assert cart_api(shared_world, school, cart_id)["approval"]["state"] == "brouillon"
        luc.post(f"/portail/paniers/{cart_id}/soumission")
        forged = ines.http.post(f"/portail/paniers/{cart_id}/renvoi", data={"comment": "non"})
        assert forged.status_code == 403  # no CSRF token
        assert cart_api(shared_world, school, cart_id)["approval"]["state"] == "soumis"
    finally:
        set_approval(admin, False)
