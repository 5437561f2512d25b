"""Small helpers shared by the profile modules: turning models into plain data, and the
``oui``/``non`` convention of tag values.

The profile never imports the pydantic models of ``reseau_poles.protocol.models``: it takes
plain dicts, or anything with a ``model_dump()`` method, so that it works on raw JSON as well
as on validated messages, and so that neither module depends on the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

YES = "oui"
NO = "non"

# Values accepted for booleans. We write "oui"/"non"; we read what other Beckn tools write too.
_TRUE = frozenset({"oui", "o", "true", "vrai", "yes", "y", "1"})
_FALSE = frozenset({"non", "n", "false", "faux", "no", "0"})


def plain(obj: Any) -> Any:
    """``obj`` as plain JSON-like data: a model is dumped (by alias, without ``None`` fields),
    anything else is returned as is."""
    kind = type(obj)
    if kind is dict or kind is list or kind is str:  # parsed JSON: most calls, no lookup
        return obj
    dump = getattr(obj, "model_dump", None)
    if dump is None or isinstance(obj, type):
        return obj
    try:
        return dump(by_alias=True, exclude_none=True)
    except TypeError:  # a duck-typed object whose model_dump takes no keyword
        return dump()


def as_mapping(obj: Any) -> Mapping[str, Any] | None:
    """``obj`` as a mapping, or ``None`` when it is not one (a malformed message)."""
    if type(obj) is dict:  # parsed JSON: no model to dump, no ABC check
        return obj
    data = plain(obj)
    return data if isinstance(data, Mapping) else None


def as_list(obj: Any) -> list[Any] | None:
    """``obj`` as a list, or ``None`` when it is not one. Strings and mappings are not lists."""
    if type(obj) is list:
        return list(obj)
    data = plain(obj)
    if isinstance(data, list | tuple):
        return list(data)
    return None


def parse_yes_no(text: str) -> bool | None:
    """``True`` for oui/true/yes/1, ``False`` for non/false/no/0 (any case), else ``None``."""
    word = text.strip().casefold()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


_SHOWN_MAX = 40


def shown(value: object) -> str:
    """``value`` as quoted in an error message: short, so that a huge or hostile value does not
    come back whole in the NACK."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"


def yes_no(flag: bool) -> str:
    return YES if flag else NO
