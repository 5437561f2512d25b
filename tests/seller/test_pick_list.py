"""The pick list of a delivery day through the real seller node: the orders to deliver that
Québec day (not cancelled, not another day's, not those without a window), each with its
buyer, site, window, PO number and lines, the totals per product; as JSON, CSV (French
headers, BOM, formulas neutralised) and a printable fr-CA HTML page (every text escaped).
Québec's day bounds under hypothesis, across the DST changes. The CLI's ``pick-list``."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import date, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update
from typer.testing import CliRunner

from reseau_poles.cli import app
from reseau_poles.network import NetworkSettings, NodeNetwork
from reseau_poles.network import migrate as migrate_network
from reseau_poles.seller.app import migrate
from reseau_poles.seller.services.order_view import TIME_ZONE, day_bounds
from reseau_poles.seller.services.protocol import SellerService
from reseau_poles.seller.settings import SellerSettings
from reseau_poles.seller.tables import providers
from reseau_poles.storage import make_engine

from .conftest import Network
from .support import CAPITALE, CHIPS, ESTRIE, SYRUP, load_catalog
from .test_concurrency import confirm_body
from .test_lifecycle import api, api_key
from .test_order_view import BEFORE, DAY, NEXT, beckn_order, place

PICK = f"/api/providers/{CAPITALE}/pick-list"


def test_pick_list_of_a_day_as_json_csv_and_html(network: Network) -> None:
    key = api_key(network)
    # 8:00–10:00 and 14:00–16:00 on 1 December in Québec (UTC−5), and 22:00 that evening
    # (3:00 UTC on the 2nd): three orders of the 1st.
    _t, morning = place(
        network,
        beckn_order(
            (SYRUP, 6),
            (CHIPS, 2),
            window=(f"{DAY}T13:00:00Z", f"{DAY}T15:00:00Z"),
            billing={"name": '=HYPERLINK("http://x")'},
            instructions="<script>alert(1)</script>",
        ),
    )
    _t, afternoon = place(
        network,
        beckn_order(
            (SYRUP, 12),
            po="BC-77",
            window=(f"{DAY}T14:00:00-05:00", f"{DAY}T16:00:00-05:00"),
        ),
    )
    _t, evening = place(
        network,
        beckn_order((CHIPS, 1), po="BC-78", window=(f"{NEXT}T03:00:00Z", f"{NEXT}T04:00:00Z")),
    )
    _t, cancelled = place(network, beckn_order((SYRUP, 6), po="BC-annulee"))
    answer = api(
        network,
        "POST",
        f"/api/providers/{CAPITALE}/orders/{cancelled['id']}/cancel",
        key,
        {"reason_code": "x"},
    )
    assert answer.status_code == 200
    place(
        network,
        beckn_order(
            (SYRUP, 6), po="BC-lendemain", window=(f"{NEXT}T13:00:00Z", f"{NEXT}T15:00:00Z")
        ),
    )
    place(network, beckn_order((SYRUP, 6), po="BC-sans-plage", window=None))

    data = api(network, "GET", f"{PICK}?date={DAY}", key).json()
    assert data["date"] == f"{DAY}" and data["time_zone"] == "America/Toronto"
    assert data["provider"] == {"id": CAPITALE, "name": "Pôle agroalimentaire de la Capitale"}
    assert [o["id"] for o in data["orders"]] == [morning["id"], afternoon["id"], evening["id"]]
    first = data["orders"][0]
    assert first["purchase_order_number"] == "BC-2026-0042"
    assert first["delivery"]["site"] == "École primaire des Berges — cuisine"
    assert first["delivery"]["window"]["start"] == f"{DAY}T13:00:00.000Z"
    assert first["buyer"]["name"] == '=HYPERLINK("http://x")'
    assert first["lines"] == [
        {
            "sku": SYRUP,
            "name": "Sirop d'érable biologique 540 ml",
            "quantity": 6,
            "unit": "ml",
            "format": "540 mL",
        },
        {
            "sku": CHIPS,
            "name": "Croustilles à l'ÉRABLE",
            "quantity": 2,
            "unit": "unite",
            "format": "1 unité",
        },
    ]
    assert data["totals"] == [
        {
            "sku": CHIPS,
            "name": "Croustilles à l'ÉRABLE",
            "unit": "unite",
            "format": "1 unité",
            "quantity": 3,
            "orders": 2,
        },
        {
            "sku": SYRUP,
            "name": "Sirop d'érable biologique 540 ml",
            "unit": "ml",
            "format": "540 mL",
            "quantity": 18,
            "orders": 2,
        },
    ]
    assert api(network, "GET", f"{PICK}?date={BEFORE}", key).json()["orders"] == []

    # CSV: asked by format or by Accept; one row per line, Québec times, PO, buyer, site.
    by_format = api(network, "GET", f"{PICK}?date={DAY}&format=csv", key)
    by_accept = network.http.get(
        f"{network.seller_url}{PICK}?date={DAY}",
        headers={"X-API-Key": key, "Accept": "text/csv"},
    )
    assert by_format.content == by_accept.content
    assert by_format.headers["content-type"] == "text/csv; charset=utf-8"
    assert f"preparation_pole-capitale_{DAY}.csv" in by_format.headers["content-disposition"]
    assert by_format.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(by_format.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == [
        "Date de livraison",
        "Début de la plage",
        "Fin de la plage",
        "Commande",
        "Bon de commande",
    ]
    assert rows[0][-4:] == ["SKU", "Produit", "Quantité", "Format"]
    assert len(rows) == 1 + 4
    assert rows[1][:5] == [f"{DAY}", "08:00", "10:00", morning["id"], "BC-2026-0042"]
    assert rows[1][5] == '\'=HYPERLINK("http://x")'  # not a formula in a spreadsheet
    assert rows[1][-4:] == [SYRUP, "Sirop d'érable biologique 540 ml", "6", "540 mL"]
    assert rows[3][1:5] == ["14:00", "16:00", afternoon["id"], "BC-77"]
    assert rows[4][1:3] == ["22:00", "23:00"]

    # HTML: a printable page, French, self-contained, the buyer's text escaped.
    page = api(network, "GET", f"{PICK}?date={DAY}&format=html", key)
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    text = page.text
    assert text.startswith("<!DOCTYPE html>") and '<html lang="fr-CA">' in text
    assert f"Liste de préparation du {DAY} — Pôle agroalimentaire de la Capitale" in text
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "BC-2026-0042" in text and "08:00 – 10:00" in text and "Totaux par produit" in text
    assert "http" not in text.replace('"http://x"', "").replace("&quot;http://x&quot;", "")
    empty = api(network, "GET", f"{PICK}?date={BEFORE}&format=html", key).text
    assert "Aucune commande à livrer ce jour-là." in empty


def test_pick_list_refusals(network: Network) -> None:
    key = api_key(network)
    for query, path in (
        ("", "query.date"),
        ("?date=2026-12-32", "query.date"),
        (f"?date={DAY}&format=pdf", "query.format"),
        (f"?date={DAY}&jour=lundi", "query.jour"),
    ):
        answer = api(network, "GET", f"{PICK}{query}", key)
        assert answer.status_code == 400, (query, answer.text)
        assert answer.json()["error"]["path"] == path
    other = api(network, "GET", f"/api/providers/{ESTRIE}/pick-list?date={DAY}", key)
    assert other.status_code == 403
    assert network.http.get(f"{network.seller_url}{PICK}?date={DAY}").status_code == 401


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_quebec_day_bounds(day: date) -> None:
    start, end = day_bounds(day)
    local = start.astimezone(TIME_ZONE)
    assert (local.date(), local.hour, local.minute) == (day, 0, 0)
    assert end.astimezone(TIME_ZONE).date() == day + timedelta(days=1)
    assert end - start in (timedelta(hours=23), timedelta(hours=24), timedelta(hours=25))
    assert day_bounds(day + timedelta(days=1))[0] == end


def test_pick_list_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vendeur.sqlite'}"
    engine = make_engine(url)
    migrate(engine)
    migrate_network(engine)
    load_catalog(engine)
    network = NodeNetwork(
        subscriber_id="vendeur.example",
        role="BPP",
        signer=None,
        settings=NetworkSettings(registry_url="http://127.0.0.1:9", transcript_database=False),
        engine=engine,
        run_outbox=False,
    )
    service = SellerService(SellerSettings(subscriber_id="vendeur.example"), engine, network)
    body = confirm_body("acheteur.example")
    # A buyer's name that would be markup for rich is printed as it is.
    body["message"]["order"] = beckn_order(
        (SYRUP, 6), (CHIPS, 3), billing={"name": "CPE [/fin] Les Bourgeons"}
    )
    # The seller takes a confirm only after its select and init, on one transaction.
    for action in ("select", "init", "confirm"):
        step = {**body, "context": {**body["context"], "action": action}}
        step["context"]["message_id"] = str(uuid.uuid4())
        order_id = getattr(service, f"handle_{action}")(step)
    engine.dispose()

    runner = CliRunner()
    base = ["seller", "pick-list", "--provider", CAPITALE, "--database-url", url]
    shown = runner.invoke(app, [*base, "--date", f"{DAY}"])
    assert shown.exit_code == 0, shown.output
    assert f"Préparation du {DAY}" in shown.output and order_id in shown.output
    assert "BC-2026-0042" in shown.output and "Totaux par produit" in shown.output
    assert "CPE [/fin] Les Bourgeons" in " ".join(shown.output.split())
    written = runner.invoke(app, [*base, "-d", f"{DAY}", "-f", "csv", str(tmp_path / "p.csv")])
    assert written.exit_code == 0, written.output
    assert f"1 commande(s) du {DAY}" in written.output
    rows = list(csv.reader(io.StringIO((tmp_path / "p.csv").read_text("utf-8-sig")), delimiter=";"))
    assert [row[-4:] for row in rows[1:]] == [
        [SYRUP, "Sirop d'érable biologique 540 ml", "6", "540 mL"],
        [CHIPS, "Croustilles à l'ÉRABLE", "3", "1 unité"],
    ]
    as_json = runner.invoke(app, [*base, "-d", f"{DAY}", "-f", "json"])
    assert json.loads(as_json.stdout)["orders"][0]["id"] == order_id
    for wrong in (["-d", "1er décembre"], ["-d", f"{DAY}", "-f", "pdf"]):
        refused = runner.invoke(app, [*base, *wrong])
        assert refused.exit_code == 1 and "Erreur" in refused.output
    # A pôle withdrawn from the network has no pick list (the API answers 404): a message,
    # not a traceback.
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(update(providers).where(providers.c.id == CAPITALE).values(active=False))
    engine.dispose()
    withdrawn = runner.invoke(app, [*base, "-d", f"{DAY}"])
    assert withdrawn.exit_code == 1 and isinstance(withdrawn.exception, SystemExit), repr(
        withdrawn.exception
    )
    assert f"pôle « {CAPITALE} » inactif" in " ".join(withdrawn.output.split())
