"""A pôle's product list as CSV: import (all rows or nothing) and export (that re-imports
identically).

The file
--------
UTF-8 (with or without BOM), separator ``,`` or ``;`` (or tab; detected on the header line),
one header line then one product per line. Column names are case- and accent-insensitive
(``Catégorie`` = ``categorie``). Only ``sku`` is required in the header; a product new to
the pôle also needs ``nom``, ``categorie`` and ``prix``.

==================  =========================================================================
colonne             contenu
==================  =========================================================================
sku                 identifiant du produit chez le pôle (1 à 64 : lettres, chiffres, ``. _ -``)
nom                 nom en français
description         description courte en français
description_longue  description longue en français
nom_en              nom en anglais (facultatif)
description_en      description courte en anglais (facultatif)
categorie           catégorie (« Produits de l'érable »)
categorie_code      code de la catégorie (sinon tiré du nom : ``produits-de-l-erable``, ``boeuf-hache``)
unite               kg, g, l, ml, unite, douzaine, botte, caisse
format              taille de l'unité vendue (``540`` pour 540 ml ; défaut 1)
prix                prix unitaire en dollars canadiens (``3,50`` ou ``3.50`` ; « $ » permis)
quantite_min        commande minimale (défaut 1)
quantite_max        commande maximale (vide : aucune)
taxable             oui / non (TPS et TVQ ; défaut non, produit alimentaire de base détaxé)
certifications      codes séparés par ``|`` (aliments_du_quebec|biologique_canada)
conservation        ambiant, refrigere, congele
producteur          ferme ou entreprise qui a fait le produit
region_origine      région administrative (``QC-05`` ou « Estrie »)
saison              mois offerts : ``6-9``, ``11-2``, ``5|6|9`` ou noms (``juin-septembre``)
stock               quantité en stock (vide : inchangée ; 0 pour un nouveau produit)
image_url           adresse https d'une photo
==================  =========================================================================

For a SKU the pôle already has, a column left out of the file keeps the stored value; an
empty cell clears an optional value (except ``stock``: unchanged). Errors are reported by
line (the header is line 1), column and message; if any line is bad nothing is written.

This module reads and writes the format only: it depends on no other part of the CSV import or
export (they use it, not the other way round) and does no SQL.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from pydantic import ValidationError

from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.profile import parse_region_name, transliterate
from reseau_poles.protocol.validation_text import french_message

from ..requests import ItemIn

MAX_CSV_BYTES = 20_000_000
LIST_SEPARATOR = "|"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    field: str


COLUMNS: tuple[Column, ...] = (
    Column("sku", "sku"),
    Column("nom", "name"),
    Column("description", "short_desc"),
    Column("description_longue", "long_desc"),
    Column("nom_en", "name_en"),
    Column("description_en", "short_desc_en"),
    Column("categorie", "category_name"),
    Column("categorie_code", "category_id"),
    Column("unite", "unit"),
    Column("format", "pack_size"),
    Column("prix", "price"),
    Column("quantite_min", "minimum_quantity"),
    Column("quantite_max", "maximum_quantity"),
    Column("taxable", "taxable"),
    Column("certifications", "certifications"),
    Column("conservation", "conservation"),
    Column("producteur", "producer"),
    Column("region_origine", "origin_region"),
    Column("saison", "season_months"),
    Column("stock", "stock"),
    Column("image_url", "image_url"),
)
BY_NAME = {column.name: column for column in COLUMNS}
BY_FIELD = {column.field: column for column in COLUMNS}
HEADER = [column.name for column in COLUMNS]
REQUIRED_FOR_NEW = ("nom", "categorie", "prix")

_ALIASES = {
    "name": "nom",
    "produit": "nom",
    "nom_fr": "nom",
    "description_fr": "description",
    "category": "categorie",
    "categorie_id": "categorie_code",
    "code_categorie": "categorie_code",
    "unit": "unite",
    "unites": "unite",
    "pack_size": "format",
    "price": "prix",
    "prix_cad": "prix",
    "prix_unitaire": "prix",
    "quantite_minimale": "quantite_min",
    "minimum": "quantite_min",
    "commande_min": "quantite_min",
    "quantite_maximale": "quantite_max",
    "taxe": "taxable",
    "taxes": "taxable",
    "certification": "certifications",
    "producer": "producteur",
    "region": "region_origine",
    "origine": "region_origine",
    "mois": "saison",
    "inventaire": "stock",
    "quantite": "stock",
    "image": "image_url",
    "photo": "image_url",
}


def _plain(text: str) -> str:
    return transliterate(text).casefold()


def _header_key(text: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", _plain(text)).strip("_")
    return _ALIASES.get(key, key)


def slug(text: str) -> str:
    """``Produits de l'érable`` → ``produits-de-l-erable``, ``Bœuf haché`` → ``boeuf-hache``
    (a category code)."""
    return re.sub(r"[^a-z0-9]+", "-", _plain(text)).strip("-")[:64] or "divers"


# --- cells ----------------------------------------------------------------------------------


class CellError(ValueError):
    pass


_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def parse_decimal(text: str) -> Decimal:
    """``3,50``, ``3.50``, ``1 234,50 $`` → Decimal; refuses ``1,234.50`` (ambiguous)."""
    cleaned = _SPACES.sub("", text).removesuffix("$").removeprefix("$")
    if "," in cleaned and "." in cleaned:
        raise CellError(f"nombre ambigu « {text} » : une seule marque décimale (3,50 ou 3.50)")
    cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned):
        raise CellError(f"nombre attendu, pas « {text} »")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise CellError(f"nombre attendu, pas « {text} »") from None


def parse_int(text: str) -> int:
    cleaned = _SPACES.sub("", text)
    if not re.fullmatch(r"[+-]?\d{1,12}", cleaned):
        raise CellError(f"nombre entier attendu, pas « {text} »")
    return int(cleaned)


_YES = {"oui", "o", "vrai", "true", "1", "x", "yes", "y", "taxable"}
_NO = {"non", "n", "faux", "false", "0", "no", "detaxe", "exonere"}


def parse_bool(text: str) -> bool:
    key = _plain(text.strip())
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise CellError(f"oui ou non attendu, pas « {text} »")


def split_list(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[|;,]", text) if part.strip()]


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("janvier", "janv", "jan"),
            ("fevrier", "fevr", "fev"),
            ("mars", "mar"),
            ("avril", "avr"),
            ("mai",),
            ("juin",),
            ("juillet", "juil"),
            ("aout",),
            ("septembre", "sept", "sep"),
            ("octobre", "oct"),
            ("novembre", "nov"),
            ("decembre", "dec"),
        ),
        start=1,
    )
    for name in names
}


def _month(text: str) -> int:
    key = _plain(text.strip()).rstrip(".")
    if key.isdigit() and 1 <= int(key) <= 12:
        return int(key)
    if key in _MONTHS:
        return _MONTHS[key]
    raise CellError(f"mois inconnu « {text.strip()} » (1 à 12 ou janvier … décembre)")


def parse_season(text: str) -> list[int]:
    """``6-9``, ``11-2`` (across the new year), ``5|6|9``, ``juin-septembre``."""
    months: set[int] = set()
    for part in split_list(text):
        if "-" in part:
            start_text, _, end_text = part.partition("-")
            start, end = _month(start_text), _month(end_text)
            month = start
            while True:
                months.add(month)
                if month == end:
                    break
                month = month % 12 + 1
        else:
            months.add(_month(part))
    return sorted(months)


def format_season(months: Sequence[int]) -> str:
    """Sorted months as ranges: ``[1, 2, 3, 7]`` → ``1-3|7``."""
    runs: list[list[int]] = []
    for month in sorted(set(months)):
        if runs and month == runs[-1][-1] + 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    return LIST_SEPARATOR.join(
        f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs
    )


def parse_region_cell(text: str) -> str:
    try:
        return str(parse_region_name(text.strip()))
    except ProtocolError:
        raise CellError(f"région inconnue « {text.strip()} » (QC-01 … QC-17 ou son nom)") from None


_CELL_PARSERS: dict[str, Callable[[str], Any]] = {
    "pack_size": parse_decimal,
    "price": parse_decimal,
    "minimum_quantity": parse_int,
    "maximum_quantity": parse_int,
    "stock": parse_int,
    "taxable": parse_bool,
    "certifications": split_list,
    "season_months": parse_season,
    "origin_region": parse_region_cell,
}
# An empty cell: the field's "nothing" (None, or the model's default).
_EMPTY: dict[str, Any] = {"certifications": [], "taxable": False}


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str | None
    message: str

    @property
    def path(self) -> str:
        return f"ligne {self.row}" + (f".{self.column}" if self.column else "")

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One product line: its line number and the model fields its cells give."""

    line: int
    values: dict[str, Any]
    # Fields whose cell could not be read (already reported).
    failed: frozenset[str] = frozenset()


@dataclass
class ParsedCsv:
    columns: list[str] = field(default_factory=list)
    rows: list[CsvRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    delimiter: str = ","


def decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CellError(
            f"fichier non UTF-8 (octet {exc.start}) : enregistrez-le en « CSV UTF-8 »"
        ) from None


def sniff_delimiter(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


Source = bytes | str | IO[bytes]


def text_stream(data: Source) -> IO[str]:
    """The file as text read as it goes (UTF-8, BOM dropped): bytes, text or a binary file
    (an upload's spool file) are never decoded whole."""
    if isinstance(data, str):
        return io.StringIO(data.removeprefix("\ufeff"), newline="")
    binary: IO[bytes] = io.BytesIO(data) if isinstance(data, bytes) else data
    # A byte that is not UTF-8 becomes a lone surrogate, reported on its line and column.
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")


class CsvRows:
    """The file's product lines, read one at a time: iterate to get each :class:`CsvRow`;
    every cell that cannot be read goes to ``on_error`` (and its line, if the SKU is missing
    or repeated, is not yielded). Only the SKUs seen so far are kept (for the duplicates)."""

    def __init__(self, data: Source, on_error: Callable[[RowError], None]) -> None:
        self._data, self._error = data, on_error
        self.columns: list[str] = []
        self.delimiter = ","
        self.line = 1

    def __iter__(self) -> Iterator[CsvRow]:
        stream = text_stream(self._data)
        try:
            first_line = stream.readline()
        except UnicodeDecodeError:
            self._error(RowError(1, None, _NOT_UTF8))
            return
        self.delimiter = sniff_delimiter(first_line)
        reader = csv.reader(
            itertools.chain([first_line], stream), delimiter=self.delimiter, strict=True
        )
        try:
            names = self._header(next(reader, None))
            if names is None:
                return
            seen: dict[str, int] = {}
            for cells in reader:
                self.line = reader.line_num
                if _NOT_UTF8_BYTE.search("".join(cells)):
                    self._not_utf8(names, cells, reader.line_num)
                    continue
                row = self._row(names, cells, reader.line_num, seen)
                if row is not None:
                    yield row
        except csv.Error as exc:
            self._error(RowError(reader.line_num, None, f"CSV illisible : {exc}"))
        except UnicodeDecodeError:
            self._error(RowError(reader.line_num + 1, None, _NOT_UTF8))

    def _not_utf8(self, names: Sequence[str | None], cells: list[str], line: int) -> None:
        at = next(n for n, cell in enumerate(cells) if _NOT_UTF8_BYTE.search(cell))
        self._error(RowError(line, names[at] if at < len(names) else None, _NOT_UTF8))

    def _header(self, header: list[str] | None) -> list[str | None] | None:
        if header is None or not any(cell.strip() for cell in header):
            self._error(RowError(1, None, "fichier vide : ligne d'en-tête attendue"))
            return None
        if _NOT_UTF8_BYTE.search("".join(header)):
            self._error(RowError(1, None, _NOT_UTF8))
            return None
        names: list[str | None] = []
        bad = False
        for cell in header:
            key = _header_key(cell)
            if not key:
                names.append(None)
            elif key not in BY_NAME:
                self._error(
                    RowError(1, cell.strip(), f"colonne inconnue ; permises : {', '.join(HEADER)}")
                )
                names.append(None)
                bad = True
            elif key in names:
                self._error(RowError(1, key, "colonne en double"))
                names.append(None)
                bad = True
            else:
                names.append(key)
        if "sku" not in names:
            self._error(RowError(1, "sku", "colonne « sku » obligatoire"))
            bad = True
        self.columns = [name for name in names if name]
        return None if bad else names

    def _row(
        self, names: list[str | None], cells: list[str], line: int, seen: dict[str, int]
    ) -> CsvRow | None:
        if not any(cell.strip() for cell in cells):
            return None
        if len(cells) > len(names) and any(cell.strip() for cell in cells[len(names) :]):
            self._error(RowError(line, None, f"{len(cells)} cellules pour {len(names)} colonnes"))
            return None
        values: dict[str, Any] = {}
        failed: set[str] = set()
        for name, cell in zip(names, cells, strict=False):
            if name is None:
                continue
            fieldname = BY_NAME[name].field
            cell = cell.strip()
            if not cell:
                values[fieldname] = _EMPTY.get(fieldname)
                continue
            parser = _CELL_PARSERS.get(fieldname)
            try:
                values[fieldname] = parser(cell) if parser else restore_formula(cell)
            except CellError as exc:
                self._error(RowError(line, name, str(exc)))
                failed.add(fieldname)
        for name in names[len(cells) :]:
            if name is not None:  # a short line: the missing cells are empty
                values[BY_NAME[name].field] = _EMPTY.get(BY_NAME[name].field)
        sku = values.get("sku")
        if not sku:
            self._error(RowError(line, "sku", "SKU manquant"))
            return None
        if sku in seen:
            self._error(RowError(line, "sku", f"SKU « {sku} » déjà à la ligne {seen[sku]}"))
            return None
        seen[sku] = line
        return CsvRow(line, values, frozenset(failed))


_NOT_UTF8 = "fichier non UTF-8 : enregistrez-le en « CSV UTF-8 »"
_NOT_UTF8_BYTE = re.compile("[\udc80-\udcff]")


def parse_csv(data: Source) -> ParsedCsv:
    """Read the whole file into rows of model fields; every cell that cannot be read is an
    error. Nothing is validated against the model here (that needs the stored item, if any).
    The import reads the file with :class:`CsvRows` instead, a line at a time."""
    parsed = ParsedCsv()
    rows = CsvRows(data, parsed.errors.append)
    parsed.rows = list(rows)
    parsed.columns, parsed.delimiter = rows.columns, rows.delimiter
    return parsed


def build_item(
    row: CsvRow, stored: ItemIn | None, categories: Mapping[str, str] | None = None
) -> tuple[ItemIn | None, list[RowError]]:
    """The row's product: the stored one (if any) with the row's cells over it. Without a
    ``categorie_code``, a category takes the code the pôle already uses for that name
    (``categories``), else one made from the name."""
    values = dict(row.values)
    if values.get("stock") is None:
        values.pop("stock", None)
    errors: list[RowError] = []
    if stored is None:
        errors = [
            RowError(row.line, name, "valeur requise pour un nouveau produit")
            for name in REQUIRED_FOR_NEW
            if values.get(BY_NAME[name].field) in (None, "")
            and BY_NAME[name].field not in row.failed
        ]
        base: dict[str, Any] = {}
    else:
        base = stored.model_dump(warnings=False)
    name = values.get("category_name")
    if values.get("category_id") is None and name:
        if stored is not None and name == stored.category_name:
            values["category_id"] = stored.category_id
        else:
            values["category_id"] = (categories or {}).get(name) or slug(name)
    merged = {**base, **values}
    merged = {
        key: value for key, value in merged.items() if value is not None or key not in _DEFAULTED
    }
    try:
        item = ItemIn.model_validate(merged)
    except ValidationError as exc:
        reported = {error.column for error in errors}
        for error in exc.errors():
            loc = error.get("loc", ())
            field_name = str(loc[0]) if loc else ""
            if field_name in row.failed:
                continue  # its cell's error is already in the report
            column = BY_FIELD[field_name].name if field_name in BY_FIELD else None
            if column in reported:
                continue
            errors.append(RowError(row.line, column, french_message(error)))
        if any(error.column == "categorie" for error in errors):  # its code follows from it
            errors = [error for error in errors if error.column != "categorie_code"]
        return None, errors
    return (None, errors) if errors or row.failed else (item, [])


# Fields whose empty cell means "the default" (or "required": the model says so), not "none".
_DEFAULTED = {
    "unit",
    "pack_size",
    "minimum_quantity",
    "conservation",
    "taxable",
    "stock",
    "sku",
    "name",
    "category_id",
    "category_name",
    "price",
}


# --- spreadsheet formulas -------------------------------------------------------------------

# A text cell a spreadsheet would run as a formula (=, +, -, @) leaves with a ' in front
# (OWASP's CSV injection advice); the import takes that ' off again. Cells already starting
# with quotes before such a character get one more, so every text comes back as it was.
_FORMULA = re.compile(r"^'*[=+\-@]")


def neutralise_formula(text: str) -> str:
    return "'" + text if _FORMULA.match(text) else text


def restore_formula(text: str) -> str:
    return text[1:] if text.startswith("'") and _FORMULA.match(text[1:]) else text
