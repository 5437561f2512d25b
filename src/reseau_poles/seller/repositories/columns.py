"""How lists of codes and search text are stored in a column: ``,a,b,`` (LIKE-searchable) and
the folded search keys of an item.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reseau_poles.protocol.profile import search_key, tokenize


def codes(values: Iterable[Any]) -> str:
    """``,a,b,``: a list of codes as one LIKE-searchable text (``,,`` when empty)."""
    return "," + ",".join(str(value) for value in values) + ","


def split_codes(text: str | None) -> list[str]:
    return [part for part in (text or "").split(",") if part]


def search_text(*texts: str | None) -> str:
    """Each search key preceded by a space: `` sirop erable biologique 540 ml``."""
    keys: list[str] = []
    for text in texts:
        if text:
            keys.extend(search_key(word) for word in tokenize(text))
    return "".join(" " + key for key in dict.fromkeys(keys))
