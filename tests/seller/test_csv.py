"""CSV import and export of a pôle's products: the sample catalogue, row-by-row errors with
nothing written, re-import by SKU, the HTTP endpoints, and the round trip (hypothesis)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from reseau_poles.protocol.profile import Certification, Conservation, Region, Unit
from reseau_poles.seller.app import migrate
from reseau_poles.seller.repositories import products as product_repo
from reseau_poles.seller.repositories import stock as stock_repo
from reseau_poles.seller.requests import ItemIn
from reseau_poles.seller.services.csv_export import export_csv, items_to_csv
from reseau_poles.seller.services.csv_import import import_csv
from reseau_poles.seller.services.csv_io import (
    build_item,
    format_season,
    parse_csv,
    parse_decimal,
    parse_season,
    slug,
)
from reseau_poles.seller.tables import items, stock
from reseau_poles.storage import make_engine, make_session_factory, read_session, write_session

from .support import CAPITALE, CHIPS, ESTRIE, SYRUP, load_catalog
from .test_api import Management, api, error_of  # noqa: F401  (fixture)

SAMPLE = Path(__file__).parents[2] / "seller_node" / "exemples" / "catalogue.csv"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    load_catalog(engine)
    yield engine
    engine.dispose()


def snapshot(engine: Engine) -> list[tuple[Any, ...]]:
    """Every item and stock row, to check that a refused import wrote nothing."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(items, stock.c.quantity)
            .join(stock, stock.c.item_id == items.c.id)
            .order_by(items.c.id)
        ).all()
    return [tuple(row) for row in rows]


def stored(engine: Engine, sku: str, provider_id: str = CAPITALE) -> ItemIn:
    with read_session(make_session_factory(engine)) as session:
        row = product_repo.item(session, provider_id, sku)
        assert row is not None
        return product_repo.item_in_from_row(row)


def test_sample_catalogue_imports_and_round_trips(engine: Engine) -> None:
    factory = make_session_factory(engine)
    data = SAMPLE.read_bytes()
    report = import_csv(factory, CAPITALE, data)
    assert report.errors == [] and report.written
    # The sample has 28 products; the syrup and the curds were already in the pôle's catalog.
    assert (report.rows, report.created, report.updated) == (28, 26, 2)
    apples = stored(engine, "pommes-cortland-18kg")
    assert apples.unit == Unit.CAISSE and apples.pack_size == 18
    assert apples.season_months == [1, 2, 3, 9, 10, 11, 12]  # 9-3: across the new year
    assert stored(engine, "sirop-erable-4l").origin_region == "QC-12"  # by its name
    assert stored(engine, "fraises-4l").season_months == [6, 7]  # juin-juillet
    potatoes = stored(engine, "pommes-de-terre-jaunes-22kg")
    assert potatoes.pack_size == Decimal("22.7") and potatoes.price == Decimal("21.00")
    syrup = stored(engine, SYRUP)
    assert syrup.price == Decimal("12.50") and syrup.stock == 240
    assert syrup.category_id == "produits-erable"  # the code the pôle already used
    assert stored(engine, "sirop-erable-4l").category_id == "produits-erable"
    assert stored(engine, "miel-trefle-3kg").category_id == "miel"
    pies = stored(engine, "tourtiere-6")
    assert pies.taxable and pies.conservation == Conservation.CONGELE
    # Export, then re-import: nothing changes, and the second export is the same file.
    with read_session(factory) as session:
        first = export_csv(session, CAPITALE, delimiter=";")
    before = snapshot(engine)
    again = import_csv(factory, CAPITALE, first.encode())
    assert again.errors == [] and (again.created, again.updated) == (0, 29)
    after = snapshot(engine)
    assert [row[:-3] + row[-1:] for row in after] == [row[:-3] + row[-1:] for row in before]
    with read_session(factory) as session:
        assert export_csv(session, CAPITALE, delimiter=";") == first
        assert export_csv(session, ESTRIE).count("\n") == 2  # the other pôle: untouched


BAD = """sku,nom,categorie,prix,unite,taxable,saison,stock,region_origine,certifications
ok-1,Bon produit,Fruits,"3,50",kg,oui,6-9,10,QC-05,aliments_du_quebec
bad-price,Prix négatif,Fruits,-2,kg,non,,5,,
bad-unit,Unité inconnue,Fruits,2,boisseau,non,,5,,
bad-many,Plusieurs erreurs,Fruits,"1,234.50",kg,peut-être,13,-1,Atlantide,bio-ish
,Sans SKU,Fruits,2,kg,non,,1,,
ok-1,Doublon,Fruits,2,kg,non,,1,,
no-name,,Fruits,2,kg,non,,1,,
"""


def test_bad_rows_are_all_reported_and_nothing_is_written(engine: Engine) -> None:
    factory = make_session_factory(engine)
    before = snapshot(engine)
    report = import_csv(factory, CAPITALE, BAD)
    assert not report.written
    found = {(e.row, e.column) for e in report.errors}
    assert found == {
        (3, "prix"),
        (4, "unite"),
        (5, "prix"),
        (5, "taxable"),
        (5, "saison"),
        (5, "region_origine"),
        (5, "certifications"),
        (5, "stock"),
        (6, "sku"),
        (7, "sku"),
        (8, "nom"),
    }, report.errors
    messages = {(e.row, e.column): e.message for e in report.errors}
    assert messages[(3, "prix")] == "doit être au moins 0"
    assert "ambigu" in messages[(5, "prix")]
    assert "déjà à la ligne 2" in messages[(7, "sku")]
    assert messages[(8, "nom")] == "valeur requise pour un nouveau produit"
    assert [e.row for e in report.errors] == sorted(e.row for e in report.errors)
    assert snapshot(engine) == before
    with read_session(factory) as session:
        assert product_repo.item(session, CAPITALE, "ok-1") is None


def test_header_and_encoding_errors(engine: Engine) -> None:
    factory = make_session_factory(engine)
    before = snapshot(engine)
    cases: list[tuple[bytes | str, tuple[int, str | None]]] = [
        (b"", (1, None)),
        ("nom,prix\nA,1\n", (1, "sku")),
        ("sku,nom,couleur\na,A,bleu\n", (1, "couleur")),
        ("sku,nom,Nom\na,A,B\n", (1, "nom")),
        (b"sku;nom;prix\n" + b"caf\xe9;Caf\xe9;3\n", (2, "sku")),  # its line and column
        ('sku,nom,categorie,prix\na,"non fermé,Fruits,2\n', (2, None)),
        ("sku,nom,categorie,prix\na,A,Fruits,2,en trop\n", (2, None)),
    ]
    for data, where in cases:
        report = import_csv(factory, CAPITALE, data)
        assert not report.written and report.errors, data
        assert (report.errors[0].row, report.errors[0].column) == where, report.errors
    assert "UTF-8" in import_csv(factory, CAPITALE, b"sku\n\xff\xfe\n").errors[0].message
    unknown = import_csv(factory, "pole-inconnu", "sku,nom,categorie,prix\na,A,B,1\n")
    assert not unknown.written and "inconnu" in unknown.errors[0].message
    assert snapshot(engine) == before


def test_reimport_updates_in_place_by_sku(engine: Engine) -> None:
    factory = make_session_factory(engine)
    # A BOM, semicolons, decimal commas, headers spelled as people do.
    first = (
        "\ufeffSKU;Nom;Catégorie;Prix;Format;Unité;Stock\nmiel-3kg;Miel 3 kg;Miel;45,00;3;kg;20\n"
    )
    report = import_csv(factory, CAPITALE, first.encode("utf-8"))
    assert report.errors == [] and (report.created, report.updated) == (1, 0)
    honey = stored(engine, "miel-3kg")
    assert (honey.price, honey.stock, honey.category_id) == (Decimal("45.00"), 20, "miel")
    # Some orders come in: the stock moves on its own.
    with write_session(factory) as session:
        assert stock_repo.take_stock(
            session, product_repo.item(session, CAPITALE, "miel-3kg")["id"], 5
        )
    # A price list: only sku and prix. Everything else stays, the stock too.
    prices = "sku,prix\nmiel-3kg,47.5\n" + f"{SYRUP},13\n"
    report = import_csv(factory, CAPITALE, prices)
    assert report.errors == [] and (report.created, report.updated) == (0, 2)
    honey = stored(engine, "miel-3kg")
    assert honey.price == Decimal("47.50") and honey.stock == 15 and honey.name == "Miel 3 kg"
    assert stored(engine, SYRUP).producer == "Érablière du Rang 4"
    # An inventory count: stock set; an empty stock cell leaves it alone.
    counted = f"sku,stock\nmiel-3kg,30\n{CHIPS},\n"
    assert import_csv(factory, CAPITALE, counted).errors == []
    assert stored(engine, "miel-3kg").stock == 30 and stored(engine, CHIPS).stock == 50
    # A new SKU in a file without nom/categorie/prix: refused, and nothing of the file written.
    mixed = "sku,stock\nmiel-3kg,99\nnouveau,1\n"
    report = import_csv(factory, CAPITALE, mixed)
    assert {(e.row, e.column) for e in report.errors} == {
        (3, "nom"),
        (3, "categorie"),
        (3, "prix"),
    }
    assert stored(engine, "miel-3kg").stock == 30
    # Dry run: validated, counted, not written.
    report = import_csv(factory, CAPITALE, "sku,prix\nmiel-3kg,1\n", dry_run=True)
    assert report.errors == [] and report.updated == 1 and not report.written
    assert stored(engine, "miel-3kg").price == Decimal("47.50")
    # A withdrawn product comes back when re-imported.
    with write_session(factory) as session:
        assert product_repo.deactivate_item(session, CAPITALE, "miel-3kg")
    assert import_csv(factory, CAPITALE, "sku,prix\nmiel-3kg,48\n").errors == []
    with read_session(factory) as session:
        assert product_repo.item(session, CAPITALE, "miel-3kg")["active"] is True


def test_http_import_and_export(api: Management) -> None:  # noqa: F811
    base = f"/api/providers/{CAPITALE}/products"
    csv_headers = {"Content-Type": "text/csv; charset=utf-8"}
    done = api.call("POST", f"{base}/import", content=SAMPLE.read_bytes(), headers=csv_headers)
    assert done.status_code == 200, done.text
    assert done.json()["report"]["created"] == 26 and done.json()["report"]["written"]
    refused = api.call("POST", f"{base}/import", content=BAD.encode(), headers=csv_headers)
    error = error_of(refused, 400)
    assert error["code"] == "csv_invalide" and error["path"] == "ligne 3.prix"
    report = refused.json()["report"]
    assert not report["written"] and len(report["errors"]) == 11
    assert report["errors"][0] == {"row": 3, "column": "prix", "message": "doit être au moins 0"}
    assert api.call("GET", f"{base}/ok-1").status_code == 404
    wrong_type = api.call(
        "POST", f"{base}/import", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert error_of(wrong_type, 415)["path"] == "headers.Content-Type"
    foreign = api.call(
        "POST",
        f"{base}/import",
        content=SAMPLE.read_bytes(),
        headers=csv_headers,
        key=api.other_key,
    )
    assert error_of(foreign, 403)["code"] == "acces_refuse"
    dry = api.call("POST", f"{base}/import?dry_run=true", content=b"sku,prix\nfraises-4l,99\n")
    assert dry.status_code == 200 and not dry.json()["report"]["written"]
    exported = api.call("GET", f"{base}/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.startswith("sku,nom,description,")
    assert (
        'fraises-4l,"Fraises du Québec, panier de 4 L",' in exported.text
        and ",16.00," in exported.text
    )
    semicolons = api.call("GET", f"{base}/export", params={"delimiter": ";"})
    assert ";16,00;" in semicolons.text
    assert error_of(api.call("GET", f"{base}/export", params={"delimiter": "|"}), 400)
    again = api.call("POST", f"{base}/import", content=semicolons.content, headers=csv_headers)
    assert again.status_code == 200 and again.json()["report"]["updated"] == 29
    assert api.call("GET", f"{base}/export").text == exported.text


def test_http_import_as_a_form_upload(api: Management) -> None:  # noqa: F811
    """``curl -F file=@produits.csv``: the same import as a raw text/csv body."""
    base = f"/api/providers/{CAPITALE}/products"
    sample = ("produits.csv", SAMPLE.read_bytes(), "text/csv")
    dry = api.call("POST", f"{base}/import?dry_run=oui", files={"file": sample})
    assert dry.status_code == 200, dry.text
    assert dry.json()["report"]["created"] == 26 and not dry.json()["report"]["written"]
    done = api.call("POST", f"{base}/import", files={"file": sample}, data={"note": "semaine 49"})
    assert done.status_code == 200, done.text
    assert done.json()["report"]["created"] == 26 and done.json()["report"]["written"]
    # The only file of a form, whatever its field's name; a text field named file.
    renamed = api.call("POST", f"{base}/import", files={"catalogue": sample})
    assert renamed.status_code == 200 and renamed.json()["report"]["updated"] == 28
    text_field = {"file": (None, b"sku,prix\nfraises-4l,17\n")}  # curl -F file=<produits.csv
    as_text = api.call("POST", f"{base}/import", files=text_field)
    assert as_text.status_code == 200 and as_text.json()["report"]["updated"] == 1
    # What is wrong with the form is said, with what to send.
    no_file = {"note": (None, b"semaine 49")}
    empty = error_of(api.call("POST", f"{base}/import", files=no_file), 400)
    assert empty["code"] == "fichier_manquant" and empty["path"] == "file"
    assert "curl -F file=@produits.csv" in empty["message"]
    two = api.call("POST", f"{base}/import", files=[("file", sample), ("autre", sample)])
    assert error_of(two, 400)["code"] == "formulaire_invalide"
    # A bad SKU in an uploaded file: the allowed format, on its line.
    bad = ("produits.csv", b"sku,nom,categorie,prix\nmiel 500g,Miel,Miel,9\n", "text/csv")
    refused = api.call("POST", f"{base}/import", files={"file": bad})
    assert error_of(refused, 400)["path"] == "ligne 2.sku"
    assert refused.json()["report"]["errors"] == [
        {
            "row": 2,
            "column": "sku",
            "message": "SKU invalide (« miel 500g ») : 1 à 64 caractères parmi A-Z a-z 0-9 . _ -",
        }
    ]


# --- cells and the round trip (no database) -------------------------------------------------


def test_cells() -> None:
    assert parse_decimal("3,50") == parse_decimal("3.50 $") == Decimal("3.50")
    assert parse_decimal("1\u202f234,5") == Decimal("1234.5")
    assert parse_season("novembre-février") == [1, 2, 11, 12]
    assert parse_season("5|6|9") == [5, 6, 9]
    assert format_season([1, 2, 3, 7, 11, 12]) == "1-3|7|11-12"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Produits de l'érable", "produits-de-l-erable"),
        ("Œufs", "oeufs"),
        ("Bœuf haché", "boeuf-hache"),
        ("Cæsar", "caesar"),
        ("Smørrebrød", "smorrebrod"),
        ("Straße", "strasse"),
        ("Łódź", "lodz"),
        ("Þorskur", "thorskur"),
        ("!!!", "divers"),
    ],
)
def test_category_codes_spell_every_letter(name: str, code: str) -> None:
    assert slug(name) == code


# Every letter of Latin-1 and Latin Extended-A (U+00C0–U+017F, plus ª µ º).
LATIN_LETTERS = [chr(c) for c in range(0xA0, 0x180) if chr(c).isalpha()]


@given(
    st.lists(
        st.sampled_from(LATIN_LETTERS) | st.sampled_from([" ", "'", "-", "’", "/"]),
        max_size=30,
    )
)
def test_every_latin_letter_survives_as_ascii_letters_in_a_slug(chars: list[str]) -> None:
    """No letter is lost: each becomes one or more ASCII letters, in order."""
    code = slug("".join(chars))
    assert code.isascii() and code == code.lower()
    letters = [char for char in chars if char.isalpha()]
    if not letters:
        assert code == "divers"
        return
    spelled = [slug(char) for char in letters]
    assert all(part.isalpha() and part.isascii() for part in spelled), spelled
    assert code.replace("-", "") == "".join(spelled)  # 60 letters at most: no truncation


@given(st.lists(st.integers(1, 12), min_size=1, unique=True))
def test_season_round_trip(months: list[int]) -> None:
    assert parse_season(format_season(months)) == sorted(months)


_TEXT = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"))
        | st.sampled_from(["\n", ";", ",", '"', "|", "é", "$", "=", "+", "-", "@", "'"]),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
_CODE = st.from_regex(r"[A-Za-z0-9._-]{1,24}", fullmatch=True)


@st.composite
def products(draw: st.DrawFn) -> ItemIn:
    minimum = draw(st.integers(1, 500))
    return ItemIn(
        sku=draw(_CODE),
        name=draw(_TEXT),
        short_desc=draw(st.none() | _TEXT),
        long_desc=draw(st.none() | _TEXT),
        name_en=draw(st.none() | _TEXT),
        short_desc_en=draw(st.none() | _TEXT),
        category_id=draw(_CODE),
        category_name=draw(_TEXT),
        unit=draw(st.sampled_from(Unit)),
        pack_size=draw(st.decimals(Decimal("0.001"), Decimal("999999"), places=3)),
        price=draw(st.decimals(Decimal(0), Decimal("9999999"), places=2)),
        minimum_quantity=minimum,
        maximum_quantity=draw(st.none() | st.integers(minimum, 10_000)),
        taxable=draw(st.booleans()),
        certifications=draw(st.lists(st.sampled_from(Certification), unique=True, max_size=3)),
        conservation=draw(st.sampled_from(Conservation)),
        producer=draw(st.none() | _TEXT),
        origin_region=draw(st.none() | st.sampled_from([r.value for r in Region])),
        season_months=draw(st.none() | st.lists(st.integers(1, 12), min_size=1, unique=True)),
        image_url=draw(st.none() | _CODE.map(lambda c: f"https://exemple.ca/{c}.jpg")),
        stock=draw(st.integers(0, 1_000_000)),
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(products(), max_size=6, unique_by=lambda item: item.sku),
    st.sampled_from([",", ";"]),
    st.booleans(),
)
def test_export_reimports_identically(catalog: list[ItemIn], delimiter: str, bom: bool) -> None:
    text = items_to_csv(catalog, delimiter=delimiter, bom=bom)
    parsed = parse_csv(text.encode("utf-8"))
    assert parsed.errors == [] and parsed.delimiter == delimiter
    back = []
    for row in parsed.rows:
        item, errors = build_item(row, None)
        assert errors == [] and item is not None
        back.append(item)
    assert back == catalog
    assert items_to_csv(back, delimiter=delimiter, bom=bom) == text


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x")', "+1", "-sel", "@SUM(A1)", "'=déjà", "''+x", "'simple"]
)
def test_formulas_leave_neutralised_and_come_back_as_they_were(name: str) -> None:
    catalog = [ItemIn(sku="F1", name=name, category_id="c", category_name=name, price=1)]
    text = items_to_csv(catalog)
    cells = text.splitlines()[1].split(",")
    assert not any(cell.lstrip('"')[:1] in ("=", "+", "-", "@") for cell in cells)
    row = parse_csv(text).rows[0]
    item, errors = build_item(row, None)
    assert errors == [] and item is not None and item.name == item.category_name == name


def test_sample_file_is_valid_without_a_database() -> None:
    parsed = parse_csv(SAMPLE.read_bytes())
    assert parsed.errors == [] and parsed.delimiter == ";" and len(parsed.rows) == 28
    built = [build_item(row, None) for row in parsed.rows]
    assert all(item is not None and not errors for item, errors in built)


def test_bulk_write_matches_the_repository(engine: Engine) -> None:
    """The import writes many items at once (management.save_items); the rows must be the
    ones repository.upsert_item writes, whatever that function learns later."""
    factory = make_session_factory(engine)
    product = ItemIn(
        sku="un",
        name="Sirop d'ÉRABLE « Rang 4 » 540 ml",
        short_desc="Ambré, goût riche",
        long_desc="Récolte du printemps",
        name_en="Maple syrup",
        short_desc_en="Amber",
        category_id="produits-erable",
        category_name="Produits de l'érable",
        unit="ml",
        pack_size=Decimal(540),
        price=Decimal("12.50"),
        minimum_quantity=6,
        maximum_quantity=60,
        taxable=True,
        certifications=["aliments_du_quebec", "biologique_canada"],
        conservation="refrigere",
        producer="Érablière du Rang 4",
        origin_region="QC-12",
        season_months=[3, 4],
        image_url="https://exemple.ca/sirop.jpg",
        stock=7,
    )
    twin = product.model_copy(update={"sku": "deux"})
    with write_session(factory) as session:
        product_repo.upsert_item(session, CAPITALE, product)
        product_repo.save_items(
            session, CAPITALE, [product_repo.ItemWrite(twin, None, keep_stock=False)]
        )

    def row(sku: str) -> dict[str, Any]:
        with read_session(factory) as session:
            found = product_repo.item(session, CAPITALE, sku)
            assert found is not None
            skip = {"id", "sku", "created_at", "updated_at"}
            return {key: value for key, value in found.items() if key not in skip}

    assert row("deux") == row("un")
    # And an update through each path.
    changed = product.model_copy(update={"name": "Autre nom", "price": Decimal("1"), "stock": 3})
    with write_session(factory) as session:
        product_repo.upsert_item(session, CAPITALE, changed)
        twin_id = product_repo.item(session, CAPITALE, "deux")["id"]
        update = changed.model_copy(update={"sku": "deux"})
        product_repo.save_items(
            session, CAPITALE, [product_repo.ItemWrite(update, twin_id, keep_stock=False)]
        )
    assert row("deux") == row("un")


_CSVISH = st.text(
    alphabet=st.sampled_from(list('sku,nom;prix"\n\r\t é1-|categorie$')), max_size=200
)


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=300)
    | _CSVISH.map(str.encode)
    | _CSVISH.map(lambda t: "sku,nom,categorie,prix\n" + t)
)
def test_any_input_gets_a_report_never_an_exception(data: bytes | str) -> None:
    parsed = parse_csv(data)
    for error in parsed.errors:
        assert error.row >= 1 and error.message
    for row in parsed.rows:
        item, errors = build_item(row, None)
        assert (item is None) == bool(errors) or row.failed


@given(st.decimals(Decimal(0), Decimal("99999999"), places=2), st.booleans())
def test_decimal_cells_round_trip(value: Decimal, comma: bool) -> None:
    text = f"{value:.2f}"
    assert parse_decimal(text.replace(".", ",") if comma else text) == value
