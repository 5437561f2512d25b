"""The portal's one catalogue: every message in French and English, no key twice, no key used
that it lacks; and numbers, money and dates written as each language writes them.

What counts as « used »: ``t("…")`` in a template, and in the portal's Python code
(``reseau_poles/portal``, ``buyer/web``, ``seller/web``) any string of the form
``<namespace>.<key>`` whose namespace is one of the catalogue's (``champ``, ``erreur``,
``portail`` …), file names aside. Keys of ``portail.toml`` start with ``portail.``, those of ``gestion.toml``
with ``gestion.``; an audit action (``compte.cree``) takes a namespace that is not one."""

from __future__ import annotations

import ast
import re
import string
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import reseau_poles
from reseau_poles.portal import i18n
from reseau_poles.portal.i18n import Catalogue, CatalogueError
from reseau_poles.portal.roles import BUYER_ROLES, SELLER_ROLES

ROOT = Path(reseau_poles.__file__).parent
CODE = [ROOT / "portal", ROOT / "buyer" / "web", ROOT / "seller" / "web"]
TEMPLATE_KEY = re.compile(r"""\bt\(\s*(["'])([^"']+)\1\s*[,)]""")
FILE_NAME = re.compile(r"\.(html|toml|py|css|js)$")


def _namespaces(catalogue: Catalogue) -> set[str]:
    return {key.split(".", 1)[0] for key in catalogue.messages}


def keys_in_templates() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for folder in CODE:
        for path in sorted(folder.rglob("*.html")):
            for match in TEMPLATE_KEY.finditer(path.read_text("utf-8")):
                found.setdefault(match.group(2), []).append(str(path.relative_to(ROOT)))
    return found


def keys_in_code(namespaces: set[str]) -> dict[str, list[str]]:
    pattern = re.compile(rf"^({'|'.join(sorted(namespaces))})(\.[a-z0-9_]+)+$")
    found: dict[str, list[str]] = {}
    for folder in CODE:
        for path in sorted(folder.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                value = node.value if isinstance(node, ast.Constant) else None
                if isinstance(value, str) and pattern.match(value) and not FILE_NAME.search(value):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(value, []).append(where)
    return found


def test_every_message_has_both_languages_and_the_same_placeholders() -> None:
    catalogue = i18n.catalogue()
    assert len(catalogue.messages) > 100
    for key, texts in catalogue.messages.items():
        assert set(texts) == set(i18n.LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key
        fields = {
            lang: {name for _, name, _, _ in string.Formatter().parse(text) if name}
            for lang, text in texts.items()
        }
        assert fields["fr"] == fields["en"], key


def test_each_file_keeps_to_its_namespace() -> None:
    texts = i18n.read_texts()
    assert set(texts) == set(i18n.MESSAGE_FILES)
    for name, text in texts.items():
        keys = {key for key in Catalogue.from_texts({name: text}).messages}
        section = name.removesuffix(".toml")
        if section in ("portail", "gestion"):
            assert all(key.startswith(section + ".") for key in keys), name
        else:
            assert not any(key.startswith(("portail.", "gestion.")) for key in keys), name


def test_every_key_used_is_in_the_catalogue() -> None:
    catalogue = i18n.catalogue()
    used = keys_in_templates()
    used.update(keys_in_code(_namespaces(catalogue)))
    assert len(used) > 50
    missing = {key: where for key, where in used.items() if key not in catalogue}
    assert missing == {}
    # Keys built in templates from a value: each role's name, each portal's own words.
    for role in (*BUYER_ROLES, *SELLER_ROLES):
        assert f"role.{role}" in catalogue
    for section in ("portail", "gestion"):
        assert f"{section}.nom" in catalogue and f"{section}.connexion_intro" in catalogue


def test_the_checker_sees_a_missing_key() -> None:
    """The scan itself: a template's key and a code string are both found."""
    assert "connexion.titre" in keys_in_templates()
    code = keys_in_code(_namespaces(i18n.catalogue()))
    assert "champ.requis" in code and "portail.nav.recherche" in code
    assert "session.ouverte" not in code  # an audit action, not a message


def test_a_duplicate_a_missing_language_or_a_stray_value_is_refused() -> None:
    good = '[a.b]\nfr = "Un"\nen = "One"\n'
    assert Catalogue.from_texts({"x.toml": good}).text("a.b", "en") == "One"
    with pytest.raises(CatalogueError, match="en double"):
        Catalogue.from_texts({"x.toml": good, "y.toml": good})
    with pytest.raises(CatalogueError, match="manquante"):
        Catalogue.from_texts({"x.toml": '[a.b]\nfr = "Un"\n'})
    with pytest.raises(CatalogueError, match="inattendues"):
        Catalogue.from_texts({"x.toml": '[a.b]\nfr = "Un"\nen = "One"\nde = "Eins"\n'})
    with pytest.raises(CatalogueError, match="table"):
        Catalogue.from_texts({"x.toml": 'a = "Un"\n'})
    with pytest.raises(CatalogueError):  # TOML itself refuses a key twice in one file
        Catalogue.from_texts({"x.toml": good + good})


def test_text_fills_placeholders_and_falls_back() -> None:
    catalogue = Catalogue({"a.b": {"fr": "Bonjour, {nom}", "en": "Hello, {nom}"}})
    assert catalogue.text("a.b", "en", nom="Ana") == "Hello, Ana"
    assert catalogue.text("a.b", "fr") == "Bonjour, {nom}"  # no parameters: as written
    assert catalogue.text("a.b", "fr", autre="x") == "Bonjour, {nom}"
    assert catalogue.text("a.inconnue", "fr") == "a.inconnue"
    assert i18n.choose_language("en-CA") == "en" and i18n.choose_language("de") is None


def test_money_numbers_and_dates_per_language() -> None:
    nbsp, nnbsp = "\u00a0", "\u202f"
    assert i18n.format_money(Decimal("12.5"), "fr") == f"12,50{nbsp}$"
    assert i18n.format_money("12.50", "en") == "$12.50"
    assert i18n.format_money(Decimal("1234567.891"), "fr") == f"1{nnbsp}234{nnbsp}567,89{nbsp}$"
    assert i18n.format_money("-1234.5", "en") == "-$1,234.50"
    assert i18n.format_money(None, "fr") == "" and i18n.format_money("abc", "fr") == "abc"
    assert i18n.format_number("0.125", "fr", 2) == "0,13"
    assert i18n.format_number(Decimal("2500"), "en") == "2,500"
    assert i18n.format_date(date(2026, 12, 7), "fr") == f"7{nbsp}déc. 2026"
    assert i18n.format_date(date(2026, 12, 7), "en") == "Dec 7, 2026"
    # A moment in UTC is shown in Québec's time: 2 h UTC on the 8th is the 7th in Québec.
    moment = datetime(2026, 12, 8, 2, 5, tzinfo=UTC)
    assert i18n.format_datetime(moment, "fr") == f"7{nbsp}déc. 2026, 21{nbsp}h{nbsp}05"
    assert i18n.format_datetime(moment, "en") == f"Dec 7, 2026, 9:05{nbsp}p.m."
    assert i18n.format_date("2026-07-01", "fr") == f"1{nbsp}juill. 2026"
    assert i18n.format_date("pas une date", "fr") == "pas une date"
