"""The local-purchasing report: figures computed by hand on a small known set of orders (real
registry, two real seller nodes, the buyer node; SQLite and PostgreSQL), the CSV read back in
both styles, the CLI writing the same figures, key revocation from the CLI, and properties of
the aggregation (hypothesis)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from reseau_poles.buyer.repositories import organisations as repo
from reseau_poles.buyer.services import reports
from reseau_poles.cli import app as main_app
from reseau_poles.participant.api_keys import DISPLAY_PREFIX_LENGTH
from reseau_poles.protocol.profile import Certification, Region
from reseau_poles.storage import write_session
from tests.seller.support import CAPITALE, CHIPS, CURDS, SYRUP

from .conftest import SharedWorld
from .test_institutions import BILLING, api, line, new_cart, search

WAIT = {"wait_ms": "15000"}
SCHOOL = {
    "type": "livraison",
    "id": "livraison-froid",
    "address": "1100, boul. de la Cafétéria, Québec (Québec) G1V 4E2",
    "region": "QC-03",
}


def order(world: SharedWorld, key: str, *, confirm: bool, cancel: bool = False) -> str:
    body = {
        "provider": {"bpp_id": world.sellers["capitale"], "id": CAPITALE},
        "items": [{"id": SYRUP, "quantity": 6}],
        "fulfilment": SCHOOL,
        "billing": BILLING,
    }
    response = api(world, key, "POST", "/api/orders", json=body, params=WAIT)
    assert response.status_code == 200 and response.json()["state"] == "selected", response.text
    order_id = str(response.json()["id"])
    if confirm:
        for action in ("init", "confirm"):
            done = api(world, key, "POST", f"/api/orders/{order_id}/{action}", params=WAIT)
            assert done.status_code == 200, done.text
        assert done.json()["state"] == "confirmed"
    if cancel:
        cancelled = api(
            world,
            key,
            "POST",
            f"/api/orders/{order_id}/cancel",
            json={"reason_code": "001"},
            params=WAIT,
        )
        assert cancelled.json()["state"] == "cancelled", cancelled.text
    return order_id


def today() -> str:
    return datetime.now(reports.TIME_ZONE).date().isoformat()


def test_report_figures_match_a_hand_computation(shared_world: SharedWorld, tmp_path: Path) -> None:
    world = shared_world
    organisation_id, key = world.organisation("css")
    search(world, key)
    cart = new_cart(
        world,
        key,
        fulfilment=SCHOOL,
        billing=BILLING,
        payment={"type": "POST-FULFILLMENT", "net_days": 30},
        lines=[
            line(world, "capitale", SYRUP, 12),
            line(world, "capitale", CHIPS, 4),
            line(world, "estrie", CURDS, 2),
        ],
    )
    done = api(world, key, "POST", f"/api/carts/{cart['id']}/checkout", params=WAIT).json()
    assert done["checkout"]["state"] == "complete", done
    totals = sorted(p["total"]["value"] for p in done["poles"])
    # 12 × 12.50 + 4 × 3.49 + 25.00 + taxes on the chips and the delivery (5.83);
    # 2 × 18.75 + 25.00 + taxes on the delivery (3.74)
    assert totals == ["194.79", "66.24"]
    # neither a cancelled order nor one that was only quoted counts
    order(world, key, confirm=True, cancel=True)
    order(world, key, confirm=False)

    day = today()
    response = api(
        world, key, "GET", "/api/reports/local-purchasing", params={"from": day, "to": day}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["organisation_id"] == organisation_id
    assert report["period"]["from"] == day and report["period"]["time_zone"] == "America/Toronto"
    assert (report["orders"], report["lines"], report["lines_without_price"]) == (2, 3, 0)
    # food: 150.00 (syrup, QC-12, AQ + organic) + 13.96 (chips) + 37.50 (curds, AQ)
    assert report["totals"] == {
        "food_before_tax": "201.46",
        "tps": "0.70",
        "tvq": "1.39",
        "taxes": "2.09",
        "food_with_taxes": "203.55",
        "orders_total": "261.03",
        # two deliveries of 25.00 and their taxes (3.74 each)
        "other_charges": "57.48",
    }
    assert report["by_region"] == [
        {"code": "QC-12", "label": "Chaudière-Appalaches", "amount": "150.00", "share": "0.7446"},
        {
            "code": "hors_quebec_ou_inconnue",
            "label": "Hors Québec ou inconnue",
            "amount": "51.46",
            "share": "0.2554",
        },
    ]
    assert report["quebec_origin"] == {"amount": "150.00", "share": "0.7446"}
    shares = {code: (f["amount"], f["share"]) for code, f in report["certifications"].items()}
    assert shares == {
        "aliments_du_quebec": ("187.50", "0.9307"),
        "aliments_prepares_au_quebec": ("0.00", "0.0000"),
        "aliments_quebecois": ("187.50", "0.9307"),
        "biologique": ("150.00", "0.7446"),
    }

    # CSV: « ; » and decimal commas, UTF-8 with a BOM, an attachment
    response = api(
        world,
        key,
        "GET",
        "/api/reports/local-purchasing",
        params={"from": day, "to": day, "format": "csv"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="achats-locaux_{organisation_id}_{day}_{day}.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == list(reports.CSV_HEADERS)
    assert rows[0][2] == "Libellé"
    cells = {(row[0], row[1]): row[2:] for row in rows[1:]}
    assert cells[("Période", "commandes")][0] == "2"
    assert cells[("Totaux", "food_before_tax")][1] == "201,46"
    assert cells[("Région d'origine", "QC-12")] == ["Chaudière-Appalaches", "150,00", "74,46"]
    assert cells[("Certification", "aliments_du_quebec")][1:] == ["187,50", "93,07"]
    assert cells[("Certification", "biologique")][1:] == ["150,00", "74,46"]
    # standard CSV: commas and decimal points
    standard = api(
        world,
        key,
        "GET",
        "/api/reports/local-purchasing",
        params={"from": day, "to": day, "format": "csv", "decimal": "point"},
    )
    table = list(csv.DictReader(io.StringIO(standard.content.decode("utf-8-sig"))))
    by_code = {row["Code"]: row for row in table}
    assert by_code["QC-12"]["Montant avant taxes ($)"] == "150.00"
    assert by_code["QC-12"]["Part des achats (%)"] == "74.46"
    assert by_code["orders_total"]["Montant avant taxes ($)"] == "261.03"

    # an empty period: no orders, shares undefined rather than zero
    yesterday = (datetime.now(reports.TIME_ZONE).date() - timedelta(days=1)).isoformat()
    empty = api(
        world,
        key,
        "GET",
        "/api/reports/local-purchasing",
        params={"from": yesterday, "to": yesterday},
    ).json()
    assert empty["orders"] == 0 and empty["by_region"] == []
    assert empty["certifications"]["aliments_du_quebec"]["share"] is None
    # another organisation sees none of it
    _, other_key = world.organisation("autre")
    other = api(
        world,
        other_key,
        "GET",
        "/api/reports/local-purchasing",
        params={"from": day, "to": day},
    ).json()
    assert other["orders"] == 0

    # the CLI writes the same figures
    runner = CliRunner()
    out = tmp_path / "rapport.json"
    common = ["--organisation", organisation_id, "--from", day, "--to", day]
    db = ["--database-url", world.database_url]
    result = runner.invoke(main_app, ["buyer", "report", *common, "--out", str(out), *db])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8")) == report
    out_csv = tmp_path / "rapport.csv"
    result = runner.invoke(main_app, ["buyer", "report", *common, "--out", str(out_csv), *db])
    assert result.exit_code == 0, result.output
    assert out_csv.read_bytes() == response.content
    result = runner.invoke(main_app, ["buyer", "report", *common, "--decimal", "point", *db])
    assert result.exit_code == 0 and "QC-12,Chaudière-Appalaches,150.00,74.46" in result.stdout
    bad = runner.invoke(
        main_app, ["buyer", "report", "-o", organisation_id, "--from", day, "--to", "hier", *db]
    )
    assert bad.exit_code == 2
    unknown = runner.invoke(main_app, ["buyer", "report", "-o", "personne", *common[2:], *db])
    assert unknown.exit_code == 1


def test_report_parameters_are_checked(shared_world: SharedWorld) -> None:
    world = shared_world
    _, key = world.organisation("hop")
    cases = [
        ({"to": "2026-11-30"}, "from"),
        ({"from": "2026-11-01"}, "to"),
        ({"from": "2026-13-01", "to": "2026-11-30"}, "from"),
        ({"from": "2026-11-1", "to": "2026-11-30"}, "from"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "to"),
        ({"from": "2026-11-01", "to": "2026-11-30", "format": "xml"}, "format"),
        ({"from": "2026-11-01", "to": "2026-11-30", "decimal": "x"}, "decimal"),
        ({"from": "2026-11-01", "to": "2026-11-30", "region": "QC-03"}, "query.region"),
        # The calendar's edges: out of the network's bounds, an answer, not a 500.
        ({"from": "2026-11-01", "to": "9999-12-31"}, "to"),
        ({"from": "0001-01-01", "to": "2026-11-30"}, "from"),
    ]
    for params, path in cases:
        response = api(world, key, "GET", "/api/reports/local-purchasing", params=params)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["path"] == path, (params, response.text)
    anonymous = world.api("GET", "/api/reports/local-purchasing", key="nope")
    assert anonymous.status_code == 401


def test_key_revoke_from_the_cli(shared_world: SharedWorld) -> None:
    world = shared_world
    organisation_id, key = world.organisation("cli")
    with write_session(world.factory) as session:
        spare = repo.create_api_key(session, organisation_id, "seconde")
    assert api(world, key, "GET", "/api/sites").status_code == 200
    runner = CliRunner()
    db = ["--database-url", world.database_url]
    prefix = key[:DISPLAY_PREFIX_LENGTH]
    result = runner.invoke(main_app, ["buyer", "key", "revoke", organisation_id, prefix, *db])
    assert result.exit_code == 0, result.output
    refused = api(world, key, "GET", "/api/sites")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "non_authentifie"
    assert api(world, spare, "GET", "/api/sites").status_code == 200
    again = runner.invoke(main_app, ["buyer", "key", "revoke", organisation_id, prefix, *db])
    assert again.exit_code == 1


# --- properties of the aggregation --------------------------------------------------------------

CODES = [c.value for c in Certification]
amounts = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False)
lines = st.builds(
    reports.ReportLine,
    amount=st.one_of(st.none(), amounts),
    tps=st.decimals(min_value=0, max_value=500, places=2, allow_nan=False),
    tvq=st.decimals(min_value=0, max_value=900, places=2, allow_nan=False),
    certifications=st.frozensets(st.sampled_from(CODES), max_size=4),
    origin_region=st.one_of(
        st.none(), st.sampled_from([r.value for r in Region]), st.just("QC-99")
    ),
)


def _d(value: str) -> Decimal:
    return Decimal(value)


@settings(max_examples=150, deadline=None)
@given(st.lists(lines, max_size=30), amounts)
def test_aggregation_properties(items: list[reports.ReportLine], extra: Decimal) -> None:
    food_expected = sum((i.amount for i in items if i.amount is not None), Decimal(0))
    report: dict[str, Any] = reports.aggregate(items, food_expected + extra)
    food = _d(report["totals"]["food_before_tax"])
    assert food == food_expected
    assert report["lines"] == len(items)
    assert report["lines_without_price"] == sum(1 for i in items if i.amount is None)
    # the regions share out the whole food spend
    assert sum((_d(r["amount"]) for r in report["by_region"]), Decimal(0)) == food
    quebec = _d(report["quebec_origin"]["amount"])
    unknown = sum(
        (_d(r["amount"]) for r in report["by_region"] if r["code"] == reports.UNKNOWN_REGION),
        Decimal(0),
    )
    assert quebec + unknown == food
    shares = [r["share"] for r in report["by_region"]] + [report["quebec_origin"]["share"]]
    shares += [f["share"] for f in report["certifications"].values()]
    for share in shares:
        if food == 0:
            assert share is None
        else:
            assert share is not None and Decimal(0) <= Decimal(share) <= Decimal(1)
    family = {code: _d(f["amount"]) for code, f in report["certifications"].items()}
    assert all(value <= food for value in family.values())
    both = family["aliments_quebecois"]
    assert max(family["aliments_du_quebec"], family["aliments_prepares_au_quebec"]) <= both
    assert both <= family["aliments_du_quebec"] + family["aliments_prepares_au_quebec"]
    taxes = _d(report["totals"]["taxes"])
    assert taxes == _d(report["totals"]["tps"]) + _d(report["totals"]["tvq"])
    assert _d(report["totals"]["food_with_taxes"]) == food + taxes
    assert _d(report["totals"]["other_charges"]) == max(extra - taxes, Decimal(0))
    # the CSV reads back to the same amounts, in both styles
    full = {**report, "organisation_id": "x", "orders": 1, "period": {"from": "a", "to": "b"}}
    for comma in (True, False):
        text = reports.report_csv(full, decimal_comma=comma)
        rows = list(csv.reader(io.StringIO(text), delimiter=";" if comma else ","))
        assert rows[0] == list(reports.CSV_HEADERS)
        read = {row[1]: row[3] for row in rows[1:] if row[0] == "Région d'origine"}
        expected = {r["code"]: r["amount"] for r in report["by_region"]}
        assert {k: v.replace(",", ".") for k, v in read.items()} == expected


@given(st.text(max_size=80))
def test_the_csv_file_name_is_always_safe(organisation_id: str) -> None:
    name = reports.csv_filename(
        {"organisation_id": organisation_id, "period": {"from": "2026-09-01", "to": "2026-11-30"}}
    )
    assert name.startswith("achats-locaux_") and name.endswith("_2026-09-01_2026-11-30.csv")
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)


# --- the database sums as the report did line by line -----------------------------------------

priced = st.one_of(st.none(), st.decimals(min_value=0, max_value=5_000, places=2))


@st.composite
def stored_lines(draw: st.DrawFn) -> dict[str, Any]:
    """An order line as stored: priced by its amount, by unit only, or not at all; its
    certifications as a list in any order (or none)."""
    kind = draw(st.sampled_from(["amount", "unit", "none"]))
    certifications = draw(st.lists(st.sampled_from(CODES), max_size=3, unique=True))
    return {
        "quantity": draw(st.integers(1, 40)),
        "unit_price": draw(st.decimals(min_value=0, max_value=300, places=4))
        if kind != "none"
        else None,
        "amount": draw(st.decimals(min_value=0, max_value=9_000, places=2))
        if kind == "amount"
        else None,
        "tps": draw(priced),
        "tvq": draw(priced),
        "certifications": draw(st.one_of(st.none(), st.just(certifications))),
        "origin_region": draw(st.sampled_from([None, "QC-03", "QC-12", "QC-99"])),
    }


@settings(max_examples=25, deadline=None)
@given(orders=st.lists(st.lists(stored_lines(), min_size=1, max_size=8), min_size=1, max_size=6))
def test_the_summed_report_is_the_line_by_line_one(
    shared_world: SharedWorld, orders: list[list[dict[str, Any]]]
) -> None:
    """The report reads its lines summed by the database (by region and certifications);
    its figures are those of every line counted one by one (``aggregate`` of each line, the
    unit-priced ones rounded line by line), on SQLite and PostgreSQL."""
    from reseau_poles.buyer.repositories import orders as order_repo

    organisation_id, _ = shared_world.organisation("somme")
    confirmed = datetime.now(reports.TIME_ZONE) - timedelta(days=2)
    one_by_one: list[reports.ReportLine] = []
    with write_session(shared_world.factory) as session:
        for lines in orders:
            order_id = str(uuid.uuid4())
            order_repo.insert_order(
                session,
                {
                    "id": order_id,
                    "organisation_id": organisation_id,
                    "bpp_id": "vendeur.example",
                    "provider_id": "pole-x",
                    "domain": "PLA:ALIMENTS",
                    "city_code": "QC-03",
                    "state": "confirmed",
                    "lifecycle": {"version": 1, "phase": "confirmed", "fulfillments": {}},
                    "request": {"items": []},
                    "total": Decimal("10.00"),
                    "created_at": confirmed,
                    "updated_at": confirmed,
                    "confirmed_at": confirmed,
                },
            )
            order_repo.replace_lines(
                session,
                order_id,
                [
                    {"position": n, "item_id": f"article-{n}", **line}
                    for n, line in enumerate(lines)
                ],
            )
            one_by_one += [
                reports.ReportLine(
                    amount=reports.line_amount(line),
                    tps=line["tps"] or Decimal(0),
                    tvq=line["tvq"] or Decimal(0),
                    certifications=frozenset(line["certifications"] or ()),
                    origin_region=line["origin_region"],
                )
                for line in lines
            ]
    day = confirmed.date()
    with write_session(shared_world.factory) as session:
        report = reports.local_purchasing(session, organisation_id, day, day)
    expected = reports.aggregate(one_by_one, Decimal("10.00") * len(orders))
    assert report["orders"] == len(orders)
    assert {k: report[k] for k in expected} == expected
