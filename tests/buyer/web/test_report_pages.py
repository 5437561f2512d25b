"""The local-purchasing report's page (``/portail/rapport``) on a real network (SQLite and
PostgreSQL): the figures of the API's report, drawn as SVG with their tables, in French and
in English; the period read from the address; the CSV of the API's builder."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import pytest

from reseau_poles.buyer.services.reports import TIME_ZONE
from reseau_poles.portal.i18n import format_money

from ..conftest import SharedWorld
from .support import Person, sign_in


@pytest.fixture
def person(shared_world: SharedWorld) -> Iterator[Person]:
    someone = sign_in(shared_world, ("approbateur",), "rapport")
    yield someone
    someone.close()


def today() -> str:
    return datetime.now(TIME_ZONE).date().isoformat()


def test_the_report_shows_the_purchase_as_charts_and_tables(person: Person) -> None:
    empty = person.get("/portail/rapport")
    assert empty.status_code == 200 and "Aucune commande confirmée" in empty.text
    person.confirmed()
    person.order()  # not confirmed: not counted
    period = {"du": today(), "au": today()}
    expected = person.api(
        "GET", "/api/reports/local-purchasing", params={"from": today(), "to": today()}
    ).json()
    assert expected["orders"] == 1

    page = person.get("/portail/rapport", params=period)
    assert page.status_code == 200, page.text
    text = html.unescape(page.text).replace("\u202f", " ")
    food = format_money(expected["totals"]["food_before_tax"]).replace("\u202f", " ")
    assert food in text
    assert "1 commande(s) comptée(s)" in text
    # The charts: SVG with a title and a description, one <title> per bar; the numbers in
    # tables too.
    assert text.count('role="img"') == 3
    assert '<title id="regions-svg-titre">Achats par région d\'origine</title>' in text
    for region in expected["by_region"]:
        label = region["label"] if region["code"] != "hors_quebec_ou_inconnue" else "Hors Québec"
        assert label.split(" ")[0] in text
    share = expected["certifications"]["aliments_du_quebec"]["share"]
    shown = (Decimal(share) * 100).quantize(Decimal("0.1"))
    assert (
        f"{str(shown).replace('.', ',')}\u00a0%" in text
        or f"{str(shown).replace('.', ',')} %" in text
    )
    for total in ("tps", "tvq", "orders_total"):
        assert format_money(expected["totals"][total]).replace("\u202f", " ") in text
    assert f'href="/portail/rapport/csv?du={today()}&amp;au={today()}"' in page.text

    english = person.get("/portail/rapport", params={**period, "lang": "en"})
    assert (
        "Local purchasing report" in english.text
        and "Purchases by region of origin" in html.unescape(english.text)
    )
    assert format_money(expected["totals"]["food_before_tax"], "en") in english.text


def test_the_csv_is_the_apis(person: Person) -> None:
    person.confirmed()
    mine = person.get("/portail/rapport/csv", params={"du": today(), "au": today()})
    assert mine.status_code == 200
    assert mine.headers["content-type"].startswith("text/csv")
    assert mine.headers["content-disposition"].startswith('attachment; filename="achats-locaux_')
    api = person.api(
        "GET",
        "/api/reports/local-purchasing",
        params={"from": today(), "to": today(), "format": "csv"},
    )
    assert mine.content == api.content and mine.content.startswith(b"\xef\xbb\xbf")
    point = person.get(
        "/portail/rapport/csv", params={"du": today(), "au": today(), "decimal": "point"}
    )
    assert point.content.decode("utf-8-sig").splitlines()[0].count(",") == 4
    bad = person.get("/portail/rapport/csv", params={"du": "hier"})
    assert bad.status_code == 400 and "Période invalide" in html.unescape(bad.text)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"du": "2026-02-30"}, "du", "Date invalide"),
        ({"du": "2026-05-02", "au": "2026-05-01"}, "au", "précède son début"),
        ({"au": "0000-01-01"}, "au", "Date invalide"),
    ],
)
def test_a_period_that_cannot_be_read_is_named_beside_its_field(
    person: Person, params: dict[str, str], field: str, message: str
) -> None:
    page = person.get("/portail/rapport", params=params)
    assert page.status_code == 400
    assert f'id="periode-{field}-erreur"' in page.text and message in page.text


def test_the_period_defaults_to_the_year_so_far(person: Person) -> None:
    page = person.get("/portail/rapport")
    year = today()[:4]
    assert re.search(rf'name="du" type="date" value="{year}-01-01"', page.text)
    assert re.search(rf'name="au" type="date" value="{today()}"', page.text)
    assert "Année scolaire" in page.text and "Ce mois-ci" in page.text
