"""The portal's words: ONE catalogue in French and English, and numbers, money and dates
written the way each language writes them.

The catalogue is the TOML files of ``messages/`` (``common.toml`` for the frame,
``portail.toml`` for the buyer's pages, ``gestion.toml`` for the pôle's), merged at load; a
key is the dotted path of a table holding one string per language::

    [connexion.titre]
    fr = "Connexion"
    en = "Sign in"

    [portail.accueil.bonjour]
    fr = "Bonjour, {nom}"
    en = "Hello, {nom}"

The keys of ``portail.toml`` start with ``portail.``, those of ``gestion.toml`` with
``gestion.`` (a page's keys: ``portail.paniers.titre``); ``common.toml`` holds the frame's
(``commun.``, ``champ.``, ``erreur.``, ``connexion.``, ``comptes.``, ``role.``). A key defined
twice (in two files), a language missing, or any other value is an error at load. ``{name}`` placeholders are filled by :meth:`Catalogue.text`'s keyword arguments. In a
template: ``{{ t("accueil.bonjour", nom=user.name) }}``; in code:
``catalogue().text("connexion.titre", lang)``. tests/portal/test_catalogue.py fails on a key
used by a template or by the code (``t("…")``, ``key="…"``) that the catalogue lacks.

French (fr-CA) is the default; ``?lang=en`` (the ``/…/langue`` route) keeps the choice in the
``rp_lang`` cookie.
"""

from __future__ import annotations

import logging
import tomllib
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from reseau_poles.protocol.profile.delivery_window import QUEBEC

log = logging.getLogger(__name__)

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LOCALES = {"fr": "fr-CA", "en": "en-CA"}
LANG_COOKIE = "rp_lang"
MESSAGE_FILES = (
    "common.toml",
    "portail.toml",
    "portail_achat.toml",
    "portail_suivi.toml",
    "gestion.toml",
)

NBSP = "\u00a0"  # between the amount and « $ », and in « 14 h 05 »
NNBSP = "\u202f"  # French thousands separator (narrow no-break space)


class CatalogueError(ValueError):
    """The catalogue's files are not as they must be (the message says where)."""


class Catalogue:
    """Every message, by key, in every language."""

    def __init__(self, messages: dict[str, dict[str, str]]) -> None:
        self.messages = messages

    @classmethod
    def from_texts(cls, texts: dict[str, str]) -> Catalogue:
        """From TOML texts by file name; :class:`CatalogueError` on a duplicate key, a
        missing language or a value that is not a message."""
        messages: dict[str, dict[str, str]] = {}
        origin: dict[str, str] = {}
        for file_name, text in texts.items():
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise CatalogueError(f"{file_name} : {exc}") from None
            for key, value in _flatten(data, file_name):
                if key in messages:
                    raise CatalogueError(f"clé « {key} » en double : {origin[key]} et {file_name}")
                messages[key], origin[key] = value, file_name
        return cls(messages)

    def __contains__(self, key: str) -> bool:
        return key in self.messages

    def text(self, key: str, lang: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
        """The message in ``lang``, its ``{placeholders}`` filled; an unknown key is logged
        and shown as itself (the catalogue's test keeps that from shipping)."""
        entry = self.messages.get(key)
        if entry is None:
            log.warning("message inconnu du catalogue : %s", key)
            return key
        message = entry.get(lang) or entry[DEFAULT_LANGUAGE]
        if not params:
            return message
        try:
            return message.format_map(params)
        except (KeyError, IndexError, ValueError):
            log.warning("message %s : paramètres %s incomplets", key, sorted(params))
            return message


def _flatten(
    data: dict[str, Any], file_name: str, prefix: str = ""
) -> list[tuple[str, dict[str, str]]]:
    found: list[tuple[str, dict[str, str]]] = []
    for name, value in data.items():
        key = f"{prefix}{name}"
        if not isinstance(value, dict):
            raise CatalogueError(f"{file_name} : « {key} » n'est pas une table [clé]")
        texts = {k: v for k, v in value.items() if k in LANGUAGES}
        if texts:
            missing = [lang for lang in LANGUAGES if not isinstance(texts.get(lang), str)]
            others = sorted(set(value) - set(LANGUAGES))
            if missing or others:
                raise CatalogueError(
                    f"{file_name} : [{key}] "
                    + (f"langue(s) manquante(s) : {', '.join(missing)}" if missing else "")
                    + (f" ; valeurs inattendues : {', '.join(others)}" if others else "")
                )
            found.append((key, texts))
        else:
            found.extend(_flatten(value, file_name, key + "."))
    return found


def read_texts() -> dict[str, str]:
    """The catalogue's TOML files, by name (those that exist)."""
    folder = resources.files("reseau_poles.portal").joinpath("messages")
    texts = {}
    for name in MESSAGE_FILES:
        path = folder.joinpath(name)
        if path.is_file():
            texts[name] = path.read_text(encoding="utf-8")
    return texts


@cache
def catalogue() -> Catalogue:
    """The catalogue, loaded once per process."""
    return Catalogue.from_texts(read_texts())


def choose_language(value: str | None) -> str | None:
    """``fr`` or ``en`` from what a person or a browser sent (``en-CA`` → ``en``)."""
    if not value:
        return None
    lang = value.strip().lower()[:2]
    return lang if lang in LANGUAGES else None


# --- numbers, money, dates ------------------------------------------------------------------

_MONTHS = {
    "fr": (
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juill.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def format_number(value: Any, lang: str = DEFAULT_LANGUAGE, places: int | None = None) -> str:
    """``1234.5`` → ``1 234,5`` (fr) or ``1,234.5`` (en); ``places`` rounds (half up).
    Anything not a number is returned as text."""
    number = _decimal(value)
    if number is None:
        return "" if value is None else str(value)
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if number < 0 else ""
    digits = f"{abs(number):f}"
    whole, _, fraction = digits.partition(".")
    group = NNBSP if lang == "fr" else ","
    grouped = ""
    while len(whole) > 3:
        grouped = group + whole[-3:] + grouped
        whole = whole[:-3]
    grouped = whole + grouped
    point = "," if lang == "fr" else "."
    return sign + grouped + (point + fraction if fraction else "")


def format_money(value: Any, lang: str = DEFAULT_LANGUAGE) -> str:
    """A Decimal (or its text) in dollars: ``12,50 $`` (fr-CA), ``$12.50`` (en-CA)."""
    number = _decimal(value)
    if number is None:
        return "" if value is None else str(value)
    text = format_number(abs(number), lang, 2)
    sign = "-" if number < 0 else ""
    return f"{sign}{text}{NBSP}$" if lang == "fr" else f"{sign}${text}"


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _local(moment: datetime) -> datetime:
    return moment.astimezone(QUEBEC) if moment.tzinfo is not None else moment


def format_date(value: date | datetime | str | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """``7 déc. 2026`` (fr) or ``Dec 7, 2026`` (en); a datetime in Québec's time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        parsed = _parse(value)
        if parsed is None:
            return value
        value = parsed
    if isinstance(value, datetime):
        value = _local(value).date()
    month = _MONTHS["en" if lang == "en" else "fr"][value.month - 1]
    if lang == "en":
        return f"{month} {value.day}, {value.year}"
    return f"{value.day}{NBSP}{month} {value.year}"


def format_time(value: datetime, lang: str = DEFAULT_LANGUAGE) -> str:
    """``14 h 05`` (fr) or ``2:05 p.m.`` (en), in Québec's time."""
    local = _local(value)
    if lang == "en":
        hour = local.hour % 12 or 12
        return f"{hour}:{local.minute:02d}{NBSP}{'a.m.' if local.hour < 12 else 'p.m.'}"
    return f"{local.hour}{NBSP}h{NBSP}{local.minute:02d}"


def format_datetime(value: datetime | str | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """The date and the time: ``7 déc. 2026, 14 h 05``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        parsed = _parse(value)
        if parsed is None:
            return value
        value = parsed
    return f"{format_date(value, lang)}, {format_time(value, lang)}"
