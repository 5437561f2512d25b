"""The orders' pages (``/portail/commandes``) on a real network (registry, two seller nodes,
the buyer node; SQLite and PostgreSQL): the list and its filters, an order's page, its
follow-up streamed when the pôle moves it, and its cancellation with the fee shown first."""

from __future__ import annotations

import html
import queue
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest

from reseau_poles.buyer.repositories import orders as order_repo
from reseau_poles.buyer.services.sse import StreamSlots
from reseau_poles.storage import utcnow, write_session

from ..conftest import SharedWorld
from .support import Person, audit_actions, csrf_of, move, sign_in, wait_until


@pytest.fixture
def person(shared_world: SharedWorld) -> Iterator[Person]:
    someone = sign_in(shared_world, ("acheteur",))
    yield someone
    someone.close()


def test_the_list_shows_the_orders_with_their_state_and_filters_them(
    shared_world: SharedWorld, person: Person
) -> None:
    confirmed = person.confirmed()
    quoted = person.order(purchase_order_number="BC-2026-0099")

    page = person.get("/portail/commandes")
    assert page.status_code == 200, page.text
    assert page.headers["vary"] == "HX-Request"
    assert "2 commande(s)" in page.text
    assert f"/portail/commandes/{confirmed['id']}" in page.text
    assert f"/portail/commandes/{quoted}" in page.text
    assert 'data-state="confirmed"' in page.text and "Devis reçu" in page.text
    assert "Pôle de la Capitale" in page.text or "pole-capitale" in page.text

    only = person.get("/portail/commandes", params={"etat": "confirmed"})
    assert "1 commande(s)" in only.text and confirmed["id"] in only.text and quoted not in only.text
    by_po = person.get("/portail/commandes", params={"bc": "BC-2026-0099"})
    assert quoted in by_po.text and confirmed["id"] not in by_po.text
    by_pole = person.get("/portail/commandes", params={"pole": "pole-inconnu"})
    assert "Aucune commande ne correspond" in by_pole.text
    today = utcnow().date()
    dated = person.get(
        "/portail/commandes",
        params={"du": today.isoformat(), "au": (today + timedelta(days=1)).isoformat()},
    )
    assert "2 commande(s)" in dated.text
    future = person.get("/portail/commandes", params={"du": "2099-01-01"})
    assert "0 commande(s)" in future.text

    # htmx asks for the results only.
    fragment = person.get(
        "/portail/commandes", params={"etat": "confirmed"}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "1 commande(s)" in fragment.text and 'id="resultats"' not in fragment.text


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"du": "2026-13-01"}, "du", "Date invalide"),
        ({"au": "demain"}, "au", "Date invalide"),
        ({"du": "2026-05-02", "au": "2026-05-01"}, "au", "précède son début"),
        ({"etat": "perdue"}, "etat", "Choisissez une des valeurs"),
        ({"bc": "x" * 65}, "bc", "trop long"),
    ],
)
def test_a_filter_that_cannot_be_read_is_named_beside_its_field(
    person: Person, params: dict[str, str], field: str, message: str
) -> None:
    page = person.get("/portail/commandes", params=params)
    assert page.status_code == 400
    assert f'id="filtre-{field}-erreur"' in page.text
    assert message.lower() in page.text.lower()
    # htmx gets the form again (its errors) in place of the page's content.
    swapped = person.get("/portail/commandes", params=params, headers={"HX-Request": "true"})
    assert swapped.status_code == 400 and swapped.headers["hx-retarget"] == "#contenu"
    assert f'id="filtre-{field}-erreur"' in swapped.text and "<html" not in swapped.text


def test_the_list_pages_twenty_at_a_time(shared_world: SharedWorld, person: Person) -> None:
    now = utcnow()
    with write_session(shared_world.factory) as session:
        for n in range(23):
            order_repo.insert_order(
                session,
                {
                    "id": str(uuid.uuid4()),
                    "organisation_id": person.organisation,
                    "bpp_id": "vendeur.example",
                    "provider_id": "pole-x",
                    "provider_name": f"Pôle {n:02d}",
                    "domain": "PLA:ALIMENTS",
                    "city_code": "QC-03",
                    "state": "new",
                    "lifecycle": {"version": 1, "phase": "new", "fulfillments": {}},
                    "request": {"items": []},
                    "created_at": now - timedelta(minutes=n),
                    "updated_at": now,
                },
            )
    first = person.get("/portail/commandes")
    assert "23 commande(s)" in first.text and "Page 1 sur 2" in first.text
    assert first.text.count("/portail/commandes/") == 20
    assert 'rel="next"' in first.text and "Pôle 00" in first.text
    second = person.get("/portail/commandes", params={"page": "2"})
    assert second.text.count("/portail/commandes/") >= 3 and "Pôle 22" in second.text
    assert "Pôle 00" not in second.text
    assert "Pôle" in person.get("/portail/commandes", params={"page": "99999999"}).text


def test_the_order_page_shows_lines_totals_taxes_delivery_and_timeline(
    shared_world: SharedWorld, person: Person
) -> None:
    order = person.confirmed()
    page = person.get(f"/portail/commandes/{order['id']}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "BC-2026-0042" in text and "École des Berges" in text and "porte 3" in text
    assert "Sirop" in text and "TPS" in text and "TVQ" in text
    total = order["total"]["value"].replace(".", ",")
    assert f"{total}\u00a0$" in text.replace("\u202f", "")
    assert "Commande créée" in text and "Confirmée par le pôle" in text
    assert re.search(r'<li aria-current="step">\s*Confirmée par le pôle', text)
    assert "Emballée" in text  # a step still to come
    assert f'sse-connect="/portail/commandes/{order["id"]}/flux?version=' in text
    assert "Actualiser" in text and "Annuler la commande" in text

    fragment = person.get(f"/portail/commandes/{order['id']}/suivi", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'class="timeline"' in fragment.text

    # A delivery given with its address only, billing with a name only: the page says what
    # it knows.
    bare = person.confirmed(
        fulfilment={"type": "livraison", "address": "12, rue Principale", "region": "QC-03"},
        billing={"name": "Cuisine"},
        purchase_order_number=None,
    )
    shown = person.get(f"/portail/commandes/{bare['id']}")
    assert shown.status_code == 200 and "12, rue Principale" in shown.text
    assert "Consignes" not in shown.text and "BC-" not in shown.text

    # Another organisation's person does not see it.
    other = sign_in(shared_world, ("acheteur",), "autre")
    try:
        hidden = other.get(f"/portail/commandes/{order['id']}")
        assert hidden.status_code == 404 and "introuvable" in hidden.text
        assert other.get(f"/portail/commandes/{order['id']}/flux").status_code == 404
    finally:
        other.close()


class EventReader:
    """The stream's events, read in a thread (``event`` name, ``id``, data)."""

    def __init__(self, person: Person, path: str) -> None:
        self.events: queue.Queue[tuple[str, str | None, str]] = queue.Queue()
        self.comments: list[str] = []
        self.status = 0
        self._client = httpx.Client(
            base_url=person.world.buyer_url, cookies=person.http.cookies, timeout=30
        )
        self._stream = self._client.stream("GET", path)
        self._response = self._stream.__enter__()
        self.status = self._response.status_code
        self.headers = self._response.headers
        self._thread = threading.Thread(target=self._read, daemon=True)
        if self.status == 200:
            self._thread.start()

    def _read(self) -> None:
        name, event_id, data = "message", None, []
        try:
            for line in self._response.iter_lines():
                if line.startswith(":"):
                    self.comments.append(line)
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line == "" and (data or name != "message"):
                    self.events.put((name, event_id, "\n".join(data)))
                    name, event_id, data = "message", None, []
        except httpx.HTTPError:
            pass

    def next(self, timeout: float = 15) -> tuple[str, str | None, str]:
        return self.events.get(timeout=timeout)

    def close(self) -> None:
        self._client.close()


def test_the_timeline_streams_each_move_of_the_pole_then_ends(
    shared_world: SharedWorld, person: Person
) -> None:
    order = person.confirmed()
    page = person.get(f"/portail/commandes/{order['id']}")
    version = re.search(r"flux\?version=([0-9a-f]+)", page.text)
    assert version
    shared_world.buyer_app.state.sse_heartbeat_seconds = 0.3
    reader = EventReader(person, f"/portail/commandes/{order['id']}/flux?version={version[1]}")
    try:
        assert reader.status == 200
        assert reader.headers["content-type"].startswith("text/event-stream")
        # The page shows this version already: nothing but pings until the pôle moves.
        with pytest.raises(queue.Empty):
            reader.next(timeout=0.8)
        assert ": ping" in reader.comments

        move(shared_world, order, "Packed")
        name, event_id, data = reader.next()
        assert name == "suivi" and event_id and event_id != version[1]
        assert 'aria-current="step">\n    Emballée' in data or re.search(
            r'aria-current="step">\s*Emballée', data
        )
        assert 'id="suivi-annonce" hx-swap-oob="innerHTML"' in data
        assert "État de la commande : Emballée" in data

        move(shared_world, order, "Out-for-delivery")
        assert "En cours de livraison" in reader.next()[2]
        move(shared_world, order, "Order-delivered")
        name, _, data = reader.next()
        while name == "suivi" and "Terminée" not in data:
            name, _, data = reader.next()
        assert "Livrée" in data and "Terminée" in data
        assert reader.next()[0] == "fin"
    finally:
        reader.close()
        shared_world.buyer_app.state.sse_heartbeat_seconds = 15.0
    # A finished order's page opens no stream.
    done = person.get(f"/portail/commandes/{order['id']}")
    assert "sse-connect" not in done.text and "Annuler la commande" not in done.text


def test_a_stream_past_the_organisations_limit_is_refused(
    shared_world: SharedWorld, person: Person
) -> None:
    order = person.confirmed()
    saved = shared_world.buyer_app.state.streams
    shared_world.buyer_app.state.streams = StreamSlots(1)
    first = EventReader(person, f"/portail/commandes/{order['id']}/flux")
    try:
        assert first.status == 200
        assert first.next()[0] == "suivi"  # no version given: the current one at once
        second = EventReader(person, f"/portail/commandes/{order['id']}/flux")
        try:
            assert second.status == 429 and second.headers["retry-after"]
        finally:
            second.close()
    finally:
        first.close()
        shared_world.buyer_app.state.streams = saved


def test_cancelling_shows_the_fee_then_cancels_at_the_pole(
    shared_world: SharedWorld, person: Person
) -> None:
    order = person.confirmed()
    path = f"/portail/commandes/{order['id']}/annulation"
    free = person.get(path)
    assert free.status_code == 200 and "Annulation sans frais" in free.text

    move(shared_world, order, "Packed")
    wait_until(lambda: person.read(order["id"])["fulfillment"]["state"] == "Packed", what="Packed")
    page = person.get(path)
    assert page.status_code == 200, page.text
    fee = (Decimal(order["total"]["value"]) / 10).quantize(Decimal("0.01"), ROUND_HALF_UP)
    shown = f"{fee:.2f}".replace(".", ",")
    assert f'id="frais-montant">{shown}\u00a0$' in page.text.replace("\u202f", "")
    assert "10\u00a0% du total" in page.text or "10 % du total" in page.text
    assert "Emballée" in page.text, page.text
    assert "Conditions d'annulation du pôle" in html.unescape(page.text)

    token = csrf_of(page)
    missing = person.http.post(path, data={"csrf_token": token, "frais_vus": f"{fee:.2f}"})
    assert missing.status_code == 400 and 'id="champ-raison-erreur"' in missing.text
    stale = person.http.post(
        path, data={"csrf_token": token, "frais_vus": "0.00", "raison": "besoin_change"}
    )
    assert stale.status_code == 409 and "La commande a avancé" in stale.text
    no_csrf = person.http.post(path, data={"frais_vus": f"{fee:.2f}", "raison": "autre"})
    assert no_csrf.status_code == 403

    done = person.http.post(
        path,
        data={
            "csrf_token": token,
            "frais_vus": f"{fee:.2f}",
            "raison": "besoin_change",
            "precision": "Cuisine fermée pour travaux.",
        },
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/portail/commandes/{order['id']}"
    after = person.get(done.headers["location"])
    assert "Annulation demandée au pôle" in after.text
    cancelled = wait_until(
        lambda: (d := person.read(order["id"]))["state"] == "cancelled" and d, what="annulée"
    )
    assert cancelled["status"] == "CANCELLED"
    actions = audit_actions(shared_world, person.organisation)
    _, target, detail = next(a for a in actions if a[0] == "commande.annulation")
    assert target == order["id"]
    assert detail == {
        "raison": "besoin_change",
        "frais": f"{fee:.2f}",
        "pourcentage": "10",
        "etat": "Packed",
    }
    again = person.get(path)
    assert again.status_code == 409 and "ne peut plus être annulée" in again.text


def test_cancelling_needs_a_buyers_role_and_a_confirmed_order(shared_world: SharedWorld) -> None:
    admin = sign_in(shared_world, ("admin",), "admin")
    try:
        order = admin.confirmed()
        page = admin.get(f"/portail/commandes/{order['id']}/annulation")
        assert page.status_code == 200
        refused = admin.post(
            f"/portail/commandes/{order['id']}/annulation",
            {"frais_vus": "0.00", "raison": "autre"},
        )
        assert refused.status_code == 403
        quoted = admin.order()
        early = admin.get(f"/portail/commandes/{quoted}/annulation")
        assert early.status_code == 409 and "pas encore confirmée" in early.text
    finally:
        admin.close()
