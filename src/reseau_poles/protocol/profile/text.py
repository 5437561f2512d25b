"""Text normalisation for search: "erable" must find « Sirop d'ÉRABLE ».

:func:`normalize_text` folds what a person typing on a phone does not distinguish:

1. typographic apostrophes and quotes (’ ‘ ʼ ´ `) become ``'``, dashes (– — ‑) become ``-``;
2. :func:`transliterate` spells letters in plain ASCII: ligatures and letters that have no
   decomposition are spelled out (œ → oe, æ → ae, ß → ss, ø → o, ł → l, þ → th …), then
   compatibility decomposition (NFKD) splits accented letters and turns non-breaking and
   narrow spaces into plain spaces; combining marks (the accents) are dropped;
3. case folding (stronger than ``lower``), then runs of white space collapse to one space.

:func:`tokenize` cuts normalised text into words: letters and digits, with French elisions
(``l'``, ``d'``, ``qu'`` …) removed, so « l'érable » gives ``["erable"]``. :func:`search_key`
also folds plurals (a final ``s`` or ``x`` on words of four letters or more), and
:func:`text_matches` says whether every word of a query starts some word of the texts, which
is how the seller node matches ``intent.item.descriptor.name``.

:func:`transliterate` alone (case kept) is also what category codes are made from
(``Bœuf haché`` → ``boeuf-hache``, see ``seller.csv_io.slug``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

_TYPOGRAPHY: Final = str.maketrans(
    {
        "\u2019": "'",  # ’ right single quotation mark, the usual French apostrophe
        "\u2018": "'",  # ‘
        "\u02bc": "'",  # ʼ modifier letter apostrophe
        "\u00b4": "'",  # ´ acute accent typed as an apostrophe
        "`": "'",
        "\u2032": "'",  # ′ prime
        "\u2010": "-",  # ‐ hyphen
        "\u2011": "-",  # ‑ non-breaking hyphen
        "\u2012": "-",  # ‒ figure dash
        "\u2013": "-",  # – en dash (Saguenay–Lac-Saint-Jean)
        "\u2014": "-",  # — em dash
        "\u2212": "-",  # − minus sign
    }
)
# Letters of Latin-1 and Latin Extended-A that NFKD does not bring down to ASCII letters.
_LETTERS: Final = str.maketrans(
    {
        "œ": "oe",
        "Œ": "Oe",
        "æ": "ae",
        "Æ": "Ae",
        "ß": "ss",
        "ø": "o",
        "Ø": "O",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "Th",
        "đ": "d",
        "Đ": "D",
        "ħ": "h",
        "Ħ": "H",
        "ı": "i",
        "ĸ": "k",
        "ŀ": "l",  # l with middle dot (Catalan l·l): NFKD would leave the dot
        "Ŀ": "L",
        "ł": "l",
        "Ł": "L",
        "ŉ": "n",  # NFKD would give an apostrophe before the n
        "ŋ": "ng",
        "Ŋ": "Ng",
        "ŧ": "t",
        "Ŧ": "T",
        "µ": "u",  # micro sign: NFKD gives the Greek mu
    }
)
_SPACES: Final = re.compile(r"\s+")
_WORD: Final = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# Elided articles and pronouns: l'érable, d'Abitibi, qu'on, jusqu'à, lorsqu'il, puisqu'.
_ELISION: Final = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)'")

STOPWORDS: Final = frozenset(
    {"a", "au", "aux", "de", "des", "du", "en", "et", "la", "le", "les", "ou", "sur", "un", "une"}
)
"""Short French words that :func:`tokenize` drops on request (``drop_stopwords=True``)."""


def transliterate(text: str) -> str:
    """``text`` with its Latin letters spelled in ASCII, case kept (other scripts unchanged).

    >>> transliterate("Œufs, Bœuf haché, Smørrebrød, Łódź, Straße")
    'Oeufs, Boeuf hache, Smorrebrod, Lodz, Strasse'
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def normalize_text(text: str) -> str:
    """Case-, accent- and typography-insensitive form of ``text``.

    >>> normalize_text("Sirop d’ÉRABLE  Œuvre")
    "sirop d'erable oeuvre"
    """
    bare = transliterate(text.translate(_TYPOGRAPHY))
    # Case folding may produce new composed forms (rare); a second pass keeps the result stable.
    folded = unicodedata.normalize("NFKD", bare.casefold())
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    return _SPACES.sub(" ", folded).strip()


def tokenize(text: str, *, drop_stopwords: bool = False) -> list[str]:
    """The words of ``text``, normalised, without elisions, in order (duplicates kept).

    >>> tokenize("Sirop d'érable de l'Estrie, 540 ml")
    ['sirop', 'erable', 'de', 'estrie', '540', 'ml']
    """
    words: list[str] = []
    for match in _WORD.finditer(normalize_text(text)):
        for part in _ELISION.sub("", match.group()).split("'"):
            if part and not (drop_stopwords and part in STOPWORDS):
                words.append(part)
    return words


def search_key(word: str) -> str:
    """A normalised word with a plural ``s`` or ``x`` folded: « Pommes » and « pomme » meet."""
    word = normalize_text(word)
    if len(word) >= 4 and word[-1] in "sx" and not word[-2].isdigit():
        return word[:-1]
    return word


def text_matches(query: str, *texts: str | None) -> bool:
    """Whether every word of ``query`` begins some word of ``texts`` (plurals folded).

    Empty queries match everything; stop words in the query are ignored so that
    « sirop de bouleau » finds « Sirop du bouleau ».
    """
    wanted = [search_key(word) for word in tokenize(query, drop_stopwords=True)]
    if not wanted:
        return True
    have = {search_key(word) for text in texts if text for word in tokenize(text)}
    return all(any(word.startswith(prefix) for word in have) for prefix in wanted)


def search_keys(texts: Iterable[str | None]) -> frozenset[str]:
    """Every search key of ``texts``: what an index stores for exact-word lookups."""
    return frozenset(search_key(word) for text in texts if text for word in tokenize(text))


COMPOUND_NOUNS: Final = frozenset(
    {
        ("pomme", "terre"),  # pommes de terre: potatoes, not apples
        ("noix", "coco"),  # noix de coco: coconut
        ("beurre", "arachide"),  # beurre d'arachide: peanut butter
        ("creme", "glacee"),  # crème glacée: ice cream
    }
)
"""Words that name one thing together (search keys, stop words and elisions dropped): in
« Pommes de terre », « pommes » is not the apples a search for « pommes » wants first."""


def compound_positions(keys: list[str]) -> set[int]:
    """Indexes of ``keys`` (search keys, stop words dropped) that belong to a compound noun
    of :data:`COMPOUND_NOUNS`."""
    found: set[int] = set()
    for index in range(len(keys) - 1):
        if (keys[index], keys[index + 1]) in COMPOUND_NOUNS:
            found.update((index, index + 1))
    return found
