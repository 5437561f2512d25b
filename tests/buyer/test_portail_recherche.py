"""The search page of the institutions' portal (``/portail/recherche``) on a real network
(registry, two seller nodes, the buyer node on loopback), driven as a browser without
JavaScript would, and its live stream read as htmx's SSE extension reads it: the form and its
refusals by field, a search sent to every pôle, cards with what the catalogue says, filters
and sort, the status that counts who answered and never hides a cut, the stream of HTML
events, adding an offer to the current cart. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from reseau_poles.buyer.services.offer_cards import card_key
from tests.seller.support import CAPITALE, CHIPS, CURDS, SYRUP

from .conftest import SharedWorld
from .portail_support import Person, add_person, audit_actions, quick_argon2  # noqa: F401

SITE = {
    "name": "Cuisine centrale Limoilou",
    "address": "1401, 18e Rue, Québec (Québec)",
    "postal_code": "G1J 1Z4",
    "receiving_hours": [{"days": ["lun", "mer", "ven"], "start": "06:30", "end": "10:00"}],
    "cold_chain": ["ambiant", "refrigere"],
}


@pytest.fixture(scope="module")
def organisation(shared_world: SharedWorld, quick_argon2: None) -> dict[str, Any]:  # noqa: F811
    organisation_id, key = shared_world.organisation("portail")
    site = shared_world.api("POST", "/api/sites", key=key, json=SITE)
    assert site.status_code == 201, site.text
    add_person(
        shared_world.factory, organisation_id, f"marie@{organisation_id}.example", ["acheteur"]
    )
    return {"id": organisation_id, "key": key, "site": site.json()["id"]}


@pytest.fixture
def marie(shared_world: SharedWorld, organisation: dict[str, Any]) -> Iterator[Person]:
    person = Person(shared_world.buyer_url, f"marie@{organisation['id']}.example").sign_in()
    try:
        yield person
    finally:
        person.close()


def cards_of(page: httpx.Response) -> list[str]:
    """The offer cards' ids in the page's order."""
    return re.findall(r'<li class="card offre" id="offre-([0-9a-f]+)"', page.text)


def search(person: Person, **params: str) -> tuple[str, httpx.Response]:
    started = person.get("/portail/recherche", params={"text": "", **params})
    assert started.status_code == 303, started.text
    target = started.headers["location"]
    transaction_id = urlsplit(target).path.rsplit("/", 1)[1]
    return transaction_id, person.get(target)


def complete(person: Person, transaction_id: str, query: str = "") -> httpx.Response:
    """The results page once every seller answered (a browser reloading it)."""
    from .portail_support import eventually

    def done() -> httpx.Response | None:
        page = person.get(f"/portail/recherche/{transaction_id}{query}")
        assert page.status_code == 200, page.text
        return page if "Recherche terminée" in page.text else None

    return eventually(done)


def test_the_search_page_asks_for_a_session(shared_world: SharedWorld) -> None:
    with httpx.Client(base_url=shared_world.buyer_url) as anonymous:
        page = anonymous.get("/portail/recherche?text=sirop", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/portail/connexion?suivant=")


def test_the_form_offers_the_filters_the_service_supports(marie: Person) -> None:
    page = marie.get("/portail/recherche")
    assert page.status_code == 200
    assert page.headers["vary"] == "HX-Request"
    html = page.text
    for name in ("text", "region", "category", "certification", "conservation", "unit"):
        assert f'name="{name}"' in html
        assert f'for="champ-{name}"' in html  # each field has its label
    assert 'name="max_unit_price"' in html and 'name="sort"' in html
    assert "Cuisine centrale Limoilou" in html  # the organisation's site, to deliver to
    assert 'value="aliments_prepares_au_quebec"' in html and 'value="biologique_quebec"' in html
    assert 'value="unit_price"' in html


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"max_unit_price": "beaucoup"}, "max_unit_price", "Entrez un nombre"),
        ({"max_unit_price": "20"}, "unit", "Choisissez l'unité"),
        ({"sort": "unit_price"}, "unit", "compare dans une unité"),
        ({"region": "QC-99"}, "region", None),
        ({"certification": "miel"}, "certification", None),
    ],
)
def test_a_refused_field_shows_the_form_again(
    marie: Person, params: dict[str, str], field: str, message: str | None
) -> None:
    page = marie.get("/portail/recherche", params={"text": "sirop", **params})
    assert page.status_code == 400
    assert 'class="field-error"' in page.text
    if message:
        assert message in unescape(page.text)
    assert f'id="champ-{field}"' in page.text


def test_a_search_reaches_every_pole_and_shows_its_cards(
    shared_world: SharedWorld, marie: Person, organisation: dict[str, Any]
) -> None:
    transaction_id, first = search(marie, text="sirop", region=f"site:{organisation['site']}")
    assert first.status_code == 200
    page = complete(marie, transaction_id, f"?site={organisation['site']}")
    html = page.text
    # both seller nodes answered; each holds pôle Capitale's syrup
    assert "2 nœud(s) de pôles sur 2 ont répondu" in html
    syrup_cards = {card_key(bpp, CAPITALE, SYRUP) for bpp in shared_world.sellers.values()}
    assert syrup_cards <= set(cards_of(page))
    # the card: product, pôle, origin, badges, pack, prices, taxes, delivery, next date
    card = html[
        html.index(f'id="offre-{card_key(shared_world.sellers["capitale"], CAPITALE, SYRUP)}"') :
    ]
    card = card[: card.index("</footer>")]
    assert "Sirop d'érable biologique 540 ml" in unescape(card)
    assert "Pôle agroalimentaire de la Capitale" in card
    assert "Chaudière-Appalaches" in card and "Érablière du Rang 4" in card
    assert "badge-aq" in card and "Aliments du Québec" in card and "badge-bio" in card
    assert "540 ml" in card
    assert "12,50\u00a0$" in card  # the pack
    assert "23,15\u00a0$ / l" in card  # per litre
    assert "Non taxable" in card
    assert "Livraison produits secs" in card and "15,00\u00a0$" in card
    assert "minimum 6" in card and 'min="6"' in card and 'value="6"' in card
    assert "Ajouter au panier" in card and 'name="csrf_token"' in card
    # the site chose the region; the form shows what was asked
    with shared_world.factory() as session:
        from reseau_poles.buyer.repositories import searches as repo

        params = repo.get_search(session, transaction_id)["params"]
    assert params["region"] == "QC-03" and params["postal_code"] == "G1J 1Z4"
    assert 'value="sirop"' in html
    assert ("recherche.lancee", transaction_id) in [
        (action, target)
        for action, target, _ in audit_actions(shared_world.factory, organisation["id"])
    ]


def test_filters_and_the_unit_price_sort(marie: Person) -> None:
    transaction_id, _ = search(marie, text="", certification="aliments_du_quebec")
    page = complete(marie, transaction_id, "?certification=aliments_du_quebec")
    names = re.findall(r"<h3>([^<]+)</h3>", page.text)
    assert names and all("Croustilles" not in name for name in names)  # no certification
    assert any("Fromage en grains" in name for name in names)
    assert 'value="aliments_du_quebec" selected' in page.text

    by_price = marie.get(f"/portail/recherche/{transaction_id}?unit=kg&sort=unit_price")
    prices = [
        Decimal(value.replace(",", "."))
        for value in re.findall(r'class="money price">([\d,]+)\u00a0\$ / kg', by_price.text)
    ]
    assert prices == sorted(prices) and len(prices) >= 2
    assert 'value="kg" selected' in by_price.text

    capped = marie.get(f"/portail/recherche/{transaction_id}?unit=kg&max_unit_price=5")
    assert "Fromage en grains" not in capped.text  # 18,75 $ / kg

    bad = marie.get(f"/portail/recherche/{transaction_id}?sort=au_hasard")
    assert bad.status_code == 400 and "filtres de résultats" in bad.text


def test_the_stream_sends_html_cards_then_the_end(marie: Person) -> None:
    transaction_id, _ = search(marie, text="sirop")
    complete(marie, transaction_id)
    with marie.http.stream(
        "GET", f"/portail/recherche/{transaction_id}/flux", params={"last_event_id": "0"}
    ) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        body = "".join(stream.iter_text())
    events = [block for block in body.split("\n\n") if block.startswith("event:")]
    names = [block.splitlines()[0] for block in events]
    assert names.count("event: resultats") == 2 and names[-1] == "event: fin"
    first = events[0]
    assert re.search(r"^id: \d+$", first, re.M)
    data = "\n".join(line[6:] for line in first.splitlines() if line.startswith("data: "))
    assert '<li class="card offre"' in data and 'hx-swap-oob="innerHTML"' in data
    # The first answer's cards go at the top; the second's where each belongs.
    assert 'hx-swap-oob="afterbegin:#offres"' in data
    second = events[1]
    assert re.search(r'hx-swap-oob="(afterbegin:#offres|afterend:#offre-[0-9a-f]+)"', second)
    end = events[-1]
    # The end says so and draws nothing again: the list is already in order.
    assert "Recherche terminée" in end and 'class="card offre"' not in end
    # resumed after the last event: only the end
    last = re.findall(r"^id: (\d+)$", body, re.M)[-1]
    with marie.http.stream(
        "GET", f"/portail/recherche/{transaction_id}/flux", headers={"Last-Event-ID": last}
    ) as stream:
        resumed = "".join(stream.iter_text())
    assert "event: resultats" not in resumed and "event: fin" in resumed


def test_with_htmx_the_page_holds_the_first_answer_and_its_stream_the_rest(
    marie: Person,
) -> None:
    # htmx's boosted form gets the page at once: the cards of the first answer only, however
    # many came; each other answer is an event of its stream, then the whole list.
    transaction_id, _ = search(marie, text="sirop")
    whole = cards_of(complete(marie, transaction_id))
    boosted = marie.get(
        f"/portail/recherche/{transaction_id}",
        headers={"HX-Request": "true", "HX-Boosted": "true"},
    )
    assert boosted.status_code == 200
    shown = cards_of(boosted)
    assert shown and set(shown) < set(whole)
    found = re.search(r'sse-connect="([^"]+)"', boosted.text)
    assert found is not None, "the rest comes by the stream"
    with marie.http.stream("GET", unescape(found.group(1))) as stream:
        body = "".join(stream.iter_text())
    events = [block for block in body.split("\n\n") if block.startswith("event:")]
    arrivals = [block for block in events if block.startswith("event: resultats")]
    assert len(arrivals) == 1 and events[-1].startswith("event: fin")
    streamed = re.findall(r'<li class="card offre" id="offre-([0-9a-f]+)"', arrivals[0])
    assert streamed and not set(streamed) & set(shown)
    assert set(shown) | set(streamed) == set(whole)
    # Placed as the events say, the cards are in the order of the whole page.
    assert placed(shown, arrivals) == whole


def test_cards_the_page_did_not_draw_come_first_on_its_stream(marie: Person) -> None:
    # The boosted page draws the first cards of the first answer only (a screenful); its
    # stream's URL says how many, and the stream sends the others at once, before any other
    # answer, placed after them, with the page's last answer as id (a reconnection, which
    # says Last-Event-ID, has them all). Every product: the first answer brings several.
    transaction_id, _ = search(marie)
    whole = cards_of(complete(marie, transaction_id))
    boosted = marie.get(
        f"/portail/recherche/{transaction_id}",
        headers={"HX-Request": "true", "HX-Boosted": "true"},
    )
    found = re.search(r'sse-connect="([^"]+)"', boosted.text)
    assert found is not None
    url = unescape(found.group(1))
    query = parse_qs(urlsplit(url).query)
    last, drawn = query["last_event_id"][0], int(query["montrees"][0])
    first_answer = cards_of(boosted)
    assert 1 < len(first_answer) <= drawn
    # As if the page had drawn only the first card of that answer:
    with marie.http.stream("GET", url.replace(f"montrees={drawn}", "montrees=1")) as stream:
        body = "".join(stream.iter_text())
    events = [block for block in body.split("\n\n") if block.startswith("event:")]
    opening = events[0]
    assert opening.startswith("event: resultats") and f"\nid: {last}\n" in opening
    assert placed(first_answer[:1], [opening]) == first_answer
    assert placed(first_answer[:1], events) == whole
    # A reconnection: nothing is sent twice.
    with marie.http.stream(
        "GET", url.replace(f"montrees={drawn}", "montrees=1"), headers={"Last-Event-ID": last}
    ) as stream:
        again = "".join(stream.iter_text())
    assert not set(re.findall(r'id="offre-([0-9a-f]+)"', again)) & set(first_answer)
    bad = marie.get(url.replace(f"montrees={drawn}", "montrees=beaucoup"))
    assert bad.status_code == 400


def placed(page: list[str], events: list[str]) -> list[str]:
    """What htmx does with the events' out-of-band parts: remove, then insert each run after
    the card it names (or at the top)."""
    page = list(page)
    for event in events:
        data = "\n".join(line[6:] for line in event.splitlines() if line.startswith("data: "))
        gone = re.findall(r'<li id="offre-([0-9a-f]+)" hx-swap-oob="delete">', data)
        page = [key for key in page if key not in gone]
        runs = re.findall(
            r'<div hx-swap-oob="(afterbegin:#offres|afterend:#offre-[0-9a-f]+)">(.*?)</div>\n',
            data,
            re.S,
        )
        for where, html in runs:
            at = 0 if where.startswith("afterbegin") else page.index(where[16:]) + 1
            page[at:at] = re.findall(r'<li class="card offre" id="offre-([0-9a-f]+)"', html)
    return page


def test_a_live_page_points_its_stream_after_what_it_shows(marie: Person) -> None:
    _, page = search(marie, text="fromage")
    found = re.search(r'sse-connect="([^"]+)"', page.text)
    if found is None:  # every seller answered within the page's wait: nothing left to stream
        assert "Recherche terminée" in page.text
        return
    query = parse_qs(urlsplit(found.group(1).replace("&amp;", "&")).query)
    assert int(query["last_event_id"][0]) >= 0
    assert 'sse-close="fin"' in page.text and 'sse-swap="resultats"' in page.text


def test_unknown_or_foreign_searches_are_404(shared_world: SharedWorld, marie: Person) -> None:
    assert marie.get("/portail/recherche/nulle-part").status_code == 404
    _, key = shared_world.organisation("autre")
    started = shared_world.api("POST", "/api/searches", key=key, json={"text": "sirop"})
    foreign = started.json()["transaction_id"]
    page = marie.get(f"/portail/recherche/{foreign}")
    assert page.status_code == 404 and "Recherche inconnue" in page.text
    assert marie.get(f"/portail/recherche/{foreign}/flux").status_code == 404


def test_streams_beyond_the_organisation_limit_are_refused(
    shared_world: SharedWorld, marie: Person, organisation: dict[str, Any]
) -> None:
    transaction_id, _ = search(marie, text="pommes")
    streams = shared_world.buyer_app.state.streams
    taken = 0
    while streams.take(organisation["id"]):
        taken += 1
    try:
        refused = marie.get(f"/portail/recherche/{transaction_id}/flux")
        assert refused.status_code == 429
        assert refused.headers["retry-after"]
        assert "Trop de recherches" in refused.text
    finally:
        for _ in range(taken):
            streams.give_back(organisation["id"])


def test_adding_an_offer_makes_and_fills_the_current_cart(
    shared_world: SharedWorld, marie: Person, organisation: dict[str, Any]
) -> None:
    transaction_id, _ = search(marie, text="")  # the whole catalogue
    page = complete(marie, transaction_id)
    here = f"/portail/recherche/{transaction_id}"
    line = {
        "bpp_id": shared_world.sellers["estrie"],
        "provider_id": CAPITALE,
        "item_id": CURDS,
        "quantity": "3",
        "suivant": here,
    }
    added = marie.post("/portail/paniers/lignes", line)
    assert added.status_code == 303 and added.headers["location"] == here
    cart_id = marie.http.cookies.get("rp_panier")
    assert cart_id
    back = marie.get(here)
    assert "Ajouté au panier" in back.text
    assert f'<option value="{cart_id}" selected' in back.text

    # htmx: the line of text the card shows; the same cart (its cookie)
    again = marie.post(
        "/portail/paniers/lignes",
        {**line, "item_id": CHIPS, "quantity": "2"},
        headers={"HX-Request": "true"},
    )
    assert again.status_code == 200 and "Ajouté au panier" in again.text
    assert "<html" not in again.text
    cart = shared_world.api("GET", f"/api/carts/{cart_id}", key=organisation["key"]).json()
    assert [(ln["item_id"], ln["quantity"]) for ln in cart["lines"]] == [(CURDS, 3), (CHIPS, 2)]
    assert cart["billing"] == {"name": f"Organisation {organisation['id']}"}

    # refused: below the item's minimum (6 for the syrup), an unknown item, no CSRF token
    low = marie.post(
        "/portail/paniers/lignes",
        {**line, "item_id": SYRUP, "quantity": "2"},
        headers={"HX-Request": "true"},
    )
    assert low.status_code == 400 and "commande minimale 6" in low.text
    unknown = marie.post("/portail/paniers/lignes", {**line, "item_id": "licorne"})
    assert unknown.status_code == 303
    assert "absent du catalogue" in marie.get(here).text
    zero = marie.post(
        "/portail/paniers/lignes", {**line, "quantity": "0"}, headers={"HX-Request": "true"}
    )
    assert zero.status_code == 400
    forged = marie.http.post("/portail/paniers/lignes", data=line)
    assert forged.status_code == 403
    assert page.status_code == 200
    actions = [
        a
        for a, target, _ in audit_actions(shared_world.factory, organisation["id"])
        if target == cart_id
    ]
    assert actions.count("panier.ligne_ajoutee") == 2 and "panier.cree" in actions


def test_the_search_in_english(marie: Person) -> None:
    transaction_id, _ = search(marie, text="sirop")
    page = marie.get(f"/portail/recherche/{transaction_id}", params={"lang": "en"})
    html = unescape(page.text)
    assert page.headers["content-language"] == "en-CA"
    assert "Search every hub" in html and "Deliver to" in html
    assert "Add to cart" in html and "Pack price" in html
    assert "$12.50" in html and "$23.15 / L" in html
