"""Order guides (``/portail/guides``) on a real network (SQLite and PostgreSQL): a guide saved
from an order, its quantities edited, a product already ordered added, renamed, deleted; and
« Commander ce guide » making a cart of its lines through the cart service, the lines the
catalogue no longer has reported."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from reseau_poles.buyer.services.guides import GuideService

from ..conftest import SharedWorld
from .support import Person, audit_actions, csrf_of, sign_in


@pytest.fixture
def person(shared_world: SharedWorld) -> Iterator[Person]:
    someone = sign_in(shared_world, ("acheteur",), "guide")
    yield someone
    someone.close()


def guide_from_order(person: Person, name: str = "Dîners de la semaine") -> tuple[str, Any]:
    order = person.confirmed()
    page = person.get(f"/portail/commandes/{order['id']}")
    assert "Enregistrer comme guide" in page.text
    saved = person.http.post(
        "/portail/guides",
        data={"csrf_token": csrf_of(page), "name": name, "commande": order["id"]},
    )
    assert saved.status_code == 303, saved.text
    location = saved.headers["location"]
    assert re.fullmatch(r"/portail/guides/[0-9a-f-]{36}", location)
    return location, order


def flashes(response: Any) -> list[list[Any]]:
    raw = response.cookies.get("rp_flash")
    assert raw, response.headers
    return list(json.loads(base64.urlsafe_b64decode(raw.strip('"'))))


def line_ids(page_text: str) -> list[str]:
    return re.findall(r'name="quantite_(\d+)"', page_text)


def test_a_guide_saved_from_an_order_is_edited_then_deleted(
    shared_world: SharedWorld, person: Person
) -> None:
    location, order = guide_from_order(person)
    page = person.get(location)
    assert page.status_code == 200 and "Guide « Dîners de la semaine » créé." in html.unescape(
        page.text
    )
    text = html.unescape(page.text)
    assert "Dîners de la semaine" in text and "Sirop" in text and "Croustilles" in text
    syrup, chips = line_ids(page.text)
    assert f'name="quantite_{syrup}" type="number"' in page.text
    assert re.search(rf'name="quantite_{syrup}"[^>]*value="6"', page.text)
    guide_id = location.rsplit("/", 1)[1]
    created = next(
        a for a in audit_actions(shared_world, person.organisation) if a[0] == "guide.cree"
    )
    assert created[1] == guide_id and created[2]["commande"] == order["id"]
    assert created[2]["lignes"] == 2

    # Quantities: one changed, one to 0 (taken out); a bad value is named beside its field.
    bad = person.post(f"{location}/quantites", {f"quantite_{syrup}": "beaucoup"})
    assert bad.status_code == 400 and f'id="champ-quantite_{syrup}-erreur"' in bad.text
    negative = person.post(f"{location}/quantites", {f"quantite_{syrup}": "-2"})
    assert negative.status_code == 400
    saved = person.post(
        f"{location}/quantites", {f"quantite_{syrup}": "12", f"quantite_{chips}": "0"}
    )
    assert saved.status_code == 303
    page = person.get(location)
    assert line_ids(page.text) == [syrup]
    assert re.search(rf'name="quantite_{syrup}"[^>]*value="12"', page.text)

    # The chips, ordered before, are offered again; added back with their names.
    offered = re.search(r'<option value="([^"]*croustilles[^"]*)"', page.text)
    assert offered, page.text
    value = html.unescape(offered[1])
    assert person.post(f"{location}/lignes", {"produit": value, "quantite": "0"}).status_code == 400
    forged = person.post(f"{location}/lignes", {"produit": "b=x&p=y&i=z", "quantite": "2"})
    assert forged.status_code == 400 and "déjà commandé" in html.unescape(forged.text)
    for odd in ("b=1&p=2&i=3&x=4&y=5", "n'importe quoi", ""):
        refused = person.post(f"{location}/lignes", {"produit": odd, "quantite": "2"})
        assert refused.status_code == 400 and 'id="champ-produit-erreur"' in refused.text
    assert person.post(f"{location}/lignes", {"produit": value, "quantite": "5"}).status_code == 303
    page = person.get(location)
    assert len(line_ids(page.text)) == 2 and "Croustilles" in html.unescape(page.text)

    # A line taken out by its button; renamed; an empty name refused.
    removed = person.post(f"{location}/lignes/{syrup}/retrait")
    assert removed.status_code == 303
    assert person.post(f"{location}/lignes/{syrup}/retrait").status_code == 404
    assert person.post(f"{location}/nom", {"name": "  "}).status_code == 400
    assert person.post(f"{location}/nom", {"name": "Collations"}).status_code == 303
    listed = person.get("/portail/guides")
    assert "Collations" in listed.text and "1 produit(s) · 1 pôle(s)" in listed.text

    deleted = person.post(f"{location}/suppression")
    assert deleted.status_code == 303 and deleted.headers["location"] == "/portail/guides"
    assert person.get(location).status_code == 404
    assert "Collations" not in person.get("/portail/guides").text
    kinds = [a[0] for a in audit_actions(shared_world, person.organisation)]
    for kind in ("guide.cree", "guide.modifie", "guide.renomme", "guide.supprime"):
        assert kind in kinds


def test_ordering_a_guide_makes_a_cart_of_its_lines(
    shared_world: SharedWorld, person: Person
) -> None:
    location, order = guide_from_order(person, "Épicerie du lundi")
    guide_id = location.rsplit("/", 1)[1]
    listed = person.get("/portail/guides")
    assert "Commander ce guide" in listed.text
    made = person.post(f"{location}/commande")
    assert made.status_code == 303, made.text
    cart_url = made.headers["location"]
    assert re.fullmatch(r"/portail/paniers/[0-9a-f-]{36}", cart_url)
    [(kind, key, params)] = flashes(made)
    assert (kind, key, params) == ("ok", "guides.panier_cree", {"lignes": "2"})
    cart = person.api("GET", "/api/carts/" + cart_url.rsplit("/", 1)[1]).json()
    assert cart["state"] == "ouvert" and cart["name"] == "Épicerie du lundi"
    assert sorted((line["item_id"], line["quantity"]) for line in cart["lines"]) == sorted(
        (line["item_id"], line["quantity"]) for line in order["lines"]
    )
    ordered = next(
        a for a in audit_actions(shared_world, person.organisation) if a[0] == "guide.commande"
    )
    assert ordered[1] == guide_id and ordered[2]["lignes"] == 2 and ordered[2]["refusees"] == []


def test_a_line_the_catalogue_no_longer_has_is_reported_and_left_out(
    shared_world: SharedWorld, person: Person
) -> None:
    order = person.confirmed()
    service = GuideService(shared_world.factory, shared_world.buyer_app.state.carts)
    lines = [
        {
            "bpp_id": order["provider"]["bpp_id"],
            "provider_id": order["provider"]["id"],
            "provider_name": "Pôle",
            "item_id": line["item_id"],
            "name": line["name"],
            "unit": None,
            "quantity": line["quantity"],
            "fulfilment_id": None,
        }
        for line in order["lines"]
    ]
    lines.append({**lines[0], "item_id": "article-disparu", "name": "Article disparu"})
    guide = anyio.run(lambda: service.create(person.organisation, "Avec un disparu", lines=lines))
    made = person.post(f"/portail/guides/{guide['id']}/commande")
    assert made.status_code == 303
    [(kind, key, params)] = flashes(made)
    assert (kind, key) == ("error", "guides.panier_partiel")
    assert params == {"lignes": "2", "nombre": "1", "produits": "Article disparu"}
    cart = person.api("GET", "/api/carts/" + made.headers["location"].rsplit("/", 1)[1]).json()
    assert {line["item_id"] for line in cart["lines"]} == {
        line["item_id"] for line in order["lines"]
    }


def test_guides_belong_to_their_organisation_and_need_a_buyers_role(
    shared_world: SharedWorld, person: Person
) -> None:
    location, _ = guide_from_order(person, "Privé")
    other = sign_in(shared_world, ("acheteur",), "autre")
    reader = sign_in(shared_world, ("admin",), "lecture")
    try:
        assert other.get(location).status_code == 404
        assert other.post(f"{location}/commande").status_code == 404
        assert other.post(f"{location}/suppression").status_code == 404
        assert "Privé" not in other.get("/portail/guides").text
        # Someone without a buyer's role reads the guides page but changes nothing.
        page = reader.get("/portail/guides")
        assert page.status_code == 200 and "Nouveau guide" not in page.text
        assert reader.post("/portail/guides", {"name": "Essai"}).status_code == 403
        assert person.post("/portail/guides", {"name": ""}).status_code == 400
        empty = person.post("/portail/guides", {"name": "Vide pour l'instant"})
        assert empty.status_code == 303
        nothing = person.post(f"{empty.headers['location']}/commande")
        assert nothing.status_code == 303
        assert flashes(nothing)[0][:2] == ["error", "guides.erreur.guide_vide"]
        no_csrf = person.http.post(f"{location}/commande")
        assert no_csrf.status_code == 403
    finally:
        other.close()
        reader.close()
