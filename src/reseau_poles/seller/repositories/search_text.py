"""The words of a search query: letters and digits only (never engine syntax), stop words
dropped, plurals folded, French inflections stemmed (:func:`french_stem`), and each word
quoted for FTS5 (:func:`fts5_query`) or PostgreSQL (:func:`tsquery_terms`). How they are
searched: :mod:`.search`."""

from __future__ import annotations

from typing import Final

from reseau_poles.protocol.profile import search_key, tokenize

MAX_QUERY_WORDS: Final = 12
"""Words of a query kept (the rest ignored): enough for any product name, bounded work."""
MAX_WORD_LENGTH: Final = 64


# Inflectional endings, longest first, each with what replaces it and the shortest stem left.
# Applied after search_key (plurals already folded): feminine forms fold onto the masculine
# stem, which is a prefix of both (fermière → fermi… finds fermier, fermière, fermiers).
_ENDINGS: Final = (
    ("euse", "eu", 3),  # savoureuse → savoureu(x)
    ("iere", "i", 3),  # fermière, laitière → fermi(er), laiti(er)
    ("ier", "i", 3),
    ("elle", "el", 3),  # naturelle → naturel
    ("enne", "en", 3),  # italienne → italien
    ("onne", "on", 3),  # bonne → bon
    ("ive", "i", 3),  # sportive → sporti(f)
    ("if", "i", 3),
    ("ee", "e", 3),  # fumée → fum(é)
    ("au", "a", 4),  # animaux (folded to animau) → anima(l)
    ("e", "", 4),  # fraîche → fraich(e), biologique → biologiqu(e)
)


def french_stem(key: str) -> str:
    """The stem searched as a prefix for a search key: inflectional endings removed.

    Light by design (number and gender, no derivations): a stem must stay a prefix of the
    forms it stands for, and short enough words stay whole (« mure », « lait »).

    >>> [french_stem(w) for w in ("fraiche", "fermiere", "naturelle", "sirop", "mure")]
    ['fraich', 'fermi', 'naturel', 'sirop', 'mure']
    """
    if not key.isalpha():
        return key  # codes and quantities (540, 1kg) are searched as typed
    for ending, replacement, shortest in _ENDINGS:
        if key.endswith(ending) and len(key) - len(ending) >= shortest:
            return key[: -len(ending)] + replacement
    return key


def query_words(text: str | None) -> list[str]:
    """The search keys of a query: letters and digits only, stop words dropped, plurals
    folded, no duplicates, at most :data:`MAX_QUERY_WORDS` words."""
    if not text:
        return []
    keys = (search_key(w)[:MAX_WORD_LENGTH] for w in tokenize(text, drop_stopwords=True))
    return list(dict.fromkeys(keys))[:MAX_QUERY_WORDS]


def whole_word(word: str) -> bool:
    """Numbers (« 2 % », « 540 ml ») and single characters match whole, not as prefixes:
    "2" must not find 250 g, and a one-letter prefix would read most of the index."""
    return word.isdigit() or len(word) < 2


def fts5_query(words: list[str]) -> str:
    """An FTS5 MATCH expression: every stem as a quoted prefix, all required.

    Words hold letters and digits only (:func:`query_words`); the quoting (a ``"`` doubled)
    is there so that nothing a word could hold is ever read as FTS5 syntax.
    """
    return " ".join(
        '"' + french_stem(word).replace('"', '""') + ('"' if whole_word(word) else '"*')
        for word in words
    )


def tsquery_terms(words: list[str], weight: str = "") -> list[tuple[str, str]]:
    """Per word, two ``to_tsquery`` prefix terms, either of which may match: the word for
    ``seller_fr`` (which stems it with Snowball) and its :func:`french_stem` for ``simple``
    (taken as is).

    Snowball stems accented French: once ``unaccent`` has run, « fermière » indexes as
    ``fermier`` and « fermier » as ``fermi``, so ``fermiere:*`` (stemmed to ``fermier:*``)
    alone would miss « fermier ». The light stem (``fermi:*``) finds both; the Snowball term
    keeps what the light stem misses (« biologie » → ``biolog:*`` finds « biologique »).
    Each term is a quoted lexeme: nothing of the word is read as tsquery syntax. ``weight``
    ("A") restricts the terms to the item's name.
    """

    def quoted(word: str) -> str:
        escaped = "'" + word.replace("'", "''").replace("\\", "\\\\") + "'"
        marks = ("" if whole_word(word) else "*") + weight
        return escaped + (":" + marks if marks else "")

    return [(quoted(word), quoted(french_stem(word))) for word in words]
