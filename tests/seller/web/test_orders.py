"""The orders to prepare (/gestion/commandes) and the pick list (/gestion/preparation): by
delivery day with the buyer, site, window and PO number; only the next states the protocol's
state machine allows, as buttons, each move through the seller's service (the buyer told by
an on_status) and audited; the pôle's cancellation; the printable pick list of a day."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from reseau_poles.network.outbox import outbox_table
from reseau_poles.portal.i18n import format_time
from reseau_poles.storage import read_session
from tests.seller.support import CAPITALE, CHIPS, CURDS, SYRUP
from tests.seller.test_order_view import DAY, NEXT

from .conftest import ADMIN, OTHER_POLE, PREPARER, Pole

pytestmark = pytest.mark.anyio


def state_of(pole: Pole, order_id: str) -> str:
    found = pole.services.orders.detail(CAPITALE, order_id)
    assert found is not None
    return str(found["fulfillment"]["state"])


def on_status_count(pole: Pole) -> int:
    with read_session(pole.factory) as session:
        return len(
            session.execute(
                select(outbox_table.c.id).where(outbox_table.c.action == "on_status")
            ).all()
        )


async def test_orders_by_delivery_day_with_buyer_site_window_and_po(pole: Pole) -> None:
    later = pole.order(
        (CURDS, 4), po="BC-LENDEMAIN", window=(f"{NEXT}T13:00:00Z", f"{NEXT}T15:00:00Z")
    )
    first = pole.order((SYRUP, 6), (CHIPS, 2))
    client = await pole.signed_in(PREPARER)
    page = await client.get("/gestion/commandes")
    assert page.status_code == 200
    text = page.text
    # The sooner day first, each day its own table.
    assert text.index(first) < text.index(later)
    assert text.count('<h2 id="jour-') == 2
    start, end = (datetime.fromisoformat(f"{DAY}T{hour}:00:00+00:00") for hour in (13, 15))
    for shown in (
        "Centre de services scolaire de la Capitale",
        "École primaire des Berges — cuisine",
        "BC-2026-0042",
        "BC-LENDEMAIN",
        f"{format_time(start)} – {format_time(end)}",  # in Québec's time: 8 h 00 – 10 h 00
    ):
        assert shown in text, shown
    # Only the next state the machine allows from Pending: Packed.
    row = text[text.index(f'id="commande-{first}"') :]
    row = row[: row.index("</li>")]
    assert 'data-etat="Packed"' in row
    assert 'data-etat="Order-delivered"' not in row and 'data-etat="Out-for-delivery"' not in row
    # Filters: a day, a state, a PO number.
    one_day = await client.get("/gestion/commandes", params={"jour": NEXT})
    assert later in one_day.text and first not in one_day.text
    by_po = await client.get("/gestion/commandes", params={"bon": "BC-2026-0042"})
    assert first in by_po.text and later not in by_po.text
    bad = await client.get("/gestion/commandes", params={"jour": "demain"})
    assert bad.status_code == 422 and "Date AAAA-MM-JJ attendue." in bad.text


async def test_a_button_moves_the_order_and_tells_the_buyer(pole: Pole) -> None:
    order_id = pole.order()
    client = await pole.signed_in(PREPARER)
    before = on_status_count(pole)
    moved = await client.send_form(
        f"/gestion/commandes/{order_id}/etat",
        {"etat": "Packed", "vue": "ligne", "retour": "/gestion/commandes"},
        htmx=True,
    )
    assert moved.status_code == 200, moved.text
    assert moved.text.lstrip().startswith("<li") and "<html" not in moved.text
    assert 'data-state="Packed"' in moved.text
    # Now the buttons are those that may follow Packed in a delivery.
    for allowed in ("Agent-assigned", "Order-picked-up", "Out-for-delivery"):
        assert f'data-etat="{allowed}"' in moved.text, allowed
    assert (
        'data-etat="Packed"' not in moved.text and 'data-etat="Order-delivered"' not in moved.text
    )
    assert state_of(pole, order_id) == "Packed"
    assert on_status_count(pole) == before + 1  # the buyer's unsolicited on_status
    audit = pole.audit()[-1]
    assert audit["action"] == "commande.etat" and audit["target"] == order_id
    assert audit["detail"] == {"de": "Pending", "vers": "Packed"}
    assert audit["organisation_id"] == CAPITALE


async def test_a_state_the_machine_does_not_allow_is_refused(pole: Pole) -> None:
    order_id = pole.order()
    client = await pole.signed_in()
    skipped = await client.send_form(
        f"/gestion/commandes/{order_id}/etat",
        {"etat": "Order-delivered", "vue": "ligne"},
        htmx=True,
    )
    assert skipped.status_code == 409
    assert "Cette étape n&#39;est plus possible" in skipped.text
    assert state_of(pole, order_id) == "Pending"
    # Without JavaScript: back to the list with the message.
    plain = await client.send_form(f"/gestion/commandes/{order_id}/etat", {"etat": "Nimporte"})
    assert plain.status_code == 303 and plain.headers["location"] == "/gestion/commandes"
    after = await client.get("/gestion/commandes")
    assert "Cette étape n&#39;est plus possible" in after.text
    assert not [row for row in pole.audit() if row["action"] == "commande.etat"]


async def test_without_javascript_a_move_returns_to_where_it_was_made(pole: Pole) -> None:
    order_id = pole.order()
    client = await pole.signed_in()
    page = await client.get(f"/gestion/commandes/{order_id}")
    assert page.status_code == 200 and "Mme Tremblay" in page.text
    assert "Quai de réception, porte 3." in page.text and "Sirop d&#39;érable" in page.text
    moved = await client.send_form(
        f"/gestion/commandes/{order_id}/etat",
        {"etat": "Packed", "vue": "fiche", "retour": f"/gestion/commandes/{order_id}"},
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/gestion/commandes/{order_id}"
    again = await client.get(moved.headers["location"])
    assert f"Commande {order_id} : Emballée." in again.text
    assert "En attente → Emballée" in again.text  # the history


async def test_the_pole_cancels_with_a_reason(pole: Pole) -> None:
    order_id = pole.order()
    client = await pole.signed_in()
    form = await client.get(f"/gestion/commandes/{order_id}/annulation")
    assert form.status_code == 200 and 'name="motif"' in form.text
    refused = await client.send_form(f"/gestion/commandes/{order_id}/annulation", {"motif": ""})
    assert refused.status_code == 422 and "Ce champ est obligatoire." in refused.text
    done = await client.send_form(
        f"/gestion/commandes/{order_id}/annulation",
        {"motif": "rupture_de_stock", "note": "Gel au champ."},
    )
    assert done.status_code == 303
    assert state_of(pole, order_id) == "Cancelled"
    assert pole.audit()[-1]["detail"] == {"motif": "rupture_de_stock"}
    page = await client.get(done.headers["location"])
    assert "annulée ; l&#39;acheteur est prévenu" in page.text
    assert "data-etat=" not in page.text  # no button on a finished order
    preparer = await pole.signed_in(PREPARER)
    assert (await preparer.get(f"/gestion/commandes/{order_id}/annulation")).status_code == 403


async def test_roles_and_other_poles(pole: Pole) -> None:
    order_id = pole.order()
    admin = await pole.signed_in(ADMIN)
    page = await admin.get("/gestion/commandes")
    assert order_id in page.text and "data-etat=" not in page.text  # reads, moves nothing
    refused = await admin.send_form(f"/gestion/commandes/{order_id}/etat", {"etat": "Packed"})
    assert refused.status_code == 403
    other = await pole.signed_in(OTHER_POLE)
    assert order_id not in (await other.get("/gestion/commandes")).text
    assert (await other.get(f"/gestion/commandes/{order_id}")).status_code == 404
    moved = await other.send_form(f"/gestion/commandes/{order_id}/etat", {"etat": "Packed"})
    assert moved.status_code == 404
    assert state_of(pole, order_id) == "Pending"


async def test_the_pick_list_of_a_day(pole: Pole) -> None:
    first = pole.order((SYRUP, 6), (CHIPS, 2))
    second = pole.order((SYRUP, 12), po="BC-77", window=(f"{DAY}T19:00:00Z", f"{DAY}T21:00:00Z"))
    pole.order((CURDS, 1), po="BC-LENDEMAIN", window=(f"{NEXT}T13:00:00Z", f"{NEXT}T15:00:00Z"))
    client = await pole.signed_in(PREPARER)
    page = await client.get("/gestion/preparation", params={"jour": DAY})
    assert page.status_code == 200
    text = page.text
    assert text.index(first) < text.index(second) and "BC-LENDEMAIN" not in text
    assert "2 commande(s) à livrer" in text and 'class="tick"' in text
    totals = text[text.index("Totaux par produit") :]
    assert "<strong>18</strong>" in totals  # 6 + 12 jars of syrup
    assert "data-imprimer" in text and "print-only" in text
    csv_file = await client.get("/gestion/preparation.csv", params={"jour": DAY})
    assert csv_file.status_code == 200 and csv_file.content.startswith("\ufeff".encode())
    assert "BC-77" in csv_file.text
    empty = await client.get("/gestion/preparation", params={"jour": "2020-01-01"})
    assert "Aucune commande à livrer ce jour-là." in empty.text
    bad = await client.get("/gestion/preparation", params={"jour": "32/13"})
    assert bad.status_code == 422 and "Date AAAA-MM-JJ attendue." in bad.text
    today = await client.get("/gestion/preparation")
    assert today.status_code == 200 and 'type="date"' in today.text
