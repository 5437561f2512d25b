"""JSON read defensively: what a signed body may look like before any route sees it.

A valid signature says who sent a message, not that it is reasonable: a registered but
hostile (or buggy) participant can sign a JSON bomb. Under the body size limit, these are
still refused here, with the JSON path at fault:

* nesting deeper than ``max_depth`` (Python's parser would otherwise raise ``RecursionError``
  around 1,000 levels, and every recursive walk after it too);
* a string longer than ``max_string`` characters (keys included);
* an array longer than ``max_array`` elements;
* a member name twice in one object: parsers disagree on which copy wins (Python keeps the
  last, others the first), so a message with two ``context`` members could be verified on
  one reading and acted upon on another.

Beckn messages are shallow (a catalogue is about 12 levels deep) and a seller's
``on_search`` is bounded by its own item limit; the defaults leave a wide margin.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from reseau_poles.protocol.jsonfast import has_digit_run, loads_exact
from reseau_poles.protocol.jsonpath import json_path

MAX_DEPTH = 64
MAX_STRING = 100_000
MAX_ARRAY = 10_000


class JsonShapeError(ValueError):
    """The body is JSON but not an acceptable one; ``path`` says where."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class _DuplicateMember(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for name, _value in pairs:
            if name in seen:
                raise _DuplicateMember(name)
            seen.add(name)
    return result


def loads_guarded(
    body: bytes | str,
    *,
    max_depth: int = MAX_DEPTH,
    max_string: int = MAX_STRING,
    max_array: int = MAX_ARRAY,
) -> Any:
    """``json.loads`` that refuses duplicate members, excessive nesting, huge strings and
    huge arrays with :class:`JsonShapeError`; malformed JSON still raises ``ValueError``."""
    try:
        value = json.loads(body, object_pairs_hook=_unique_members)
    except _DuplicateMember as exc:
        raise JsonShapeError(
            f"membre JSON en double : {exc.name[:80]!r} (ambigu, refusé)", "$"
        ) from None
    except RecursionError:
        raise JsonShapeError(f"JSON trop imbriqué (plus de {max_depth} niveaux)", "$") from None
    check_shape(value, max_depth=max_depth, max_string=max_string, max_array=max_array)
    return value


class _Numbers:
    """Hooks for ``json.loads`` noting a number that is not finite once read (``NaN``,
    ``Infinity``, ``1e999``): the models' own check for them (a second parse of the body,
    see :func:`reseau_poles.protocol.models.codec.parse_as`) is needed only then."""

    __slots__ = ("suspect",)

    def __init__(self) -> None:
        self.suspect = False

    def constant(self, name: str) -> float:
        self.suspect = True
        return float(name)

    def float(self, text: str) -> float:
        value = float(text)
        if value - value != 0.0:  # inf or nan
            self.suspect = True
        return value


_ALL_FINITE = _Numbers()


# Digits in a row that the models' parser may read as a float overflowing to infinity.
_LONG_DIGITS = 300


def has_long_digit_run(body: bytes) -> bool:
    """Whether ``body`` holds 300 ASCII digits in a row."""
    return has_digit_run(body, _LONG_DIGITS)


def loads_inbound(
    body: bytes,
    *,
    max_depth: int = MAX_DEPTH,
    max_string: int = MAX_STRING,
    max_array: int = MAX_ARRAY,
) -> tuple[Any, bool]:
    """:func:`loads_guarded` for an inbound body, plus whether every number in it is finite
    (``True``: the models need not look for NaN/Infinity again).

    Every inbound message goes through here, so duplicate members are found without a Python
    hook per object (which cost three times the parse). In JSON a ``:`` outside strings
    separates a member name from its value, so the body's ``:`` bytes number the members
    written plus the ``:`` inside strings. The parsed value counts the members kept (a
    duplicate keeps one) and the ``:`` in its strings: the two tallies agree exactly when no
    member was written twice, since whatever a duplicate hides (its name, its value) only
    adds bytes to the body's count. A ``:`` written as ``\\u003a`` would be counted on the
    parsed side only, and a body that is not UTF-8 counts other bytes, so either one takes
    the slow way (the hook), as does any disagreement, which then names the duplicate.
    """
    fast = loads_exact(body)
    if fast is not None:
        # orjson read it: every number is finite (it refuses NaN, Infinity and 1e999) and
        # no integer is long enough to differ from json's reading.
        value, numbers = fast[0], _ALL_FINITE
    else:
        numbers = _Numbers()
        try:
            value = json.loads(body, parse_constant=numbers.constant, parse_float=numbers.float)
        except RecursionError:
            raise JsonShapeError(f"JSON trop imbriqué (plus de {max_depth} niveaux)", "$") from None
    colons = None
    if fast is not None:
        colons = _quick_census(value, body, max_depth, max_string, max_array)
    if colons is None:
        colons = check_shape(value, max_depth=max_depth, max_string=max_string, max_array=max_array)
    if (
        colons != body.count(b":")
        or b"\\u003a" in body
        or b"\\u003A" in body
        or b"\x00" in body[:4]
    ):
        try:
            json.loads(body, object_pairs_hook=_unique_members)
        except _DuplicateMember as exc:
            raise JsonShapeError(
                f"membre JSON en double : {exc.name[:80]!r} (ambigu, refusé)", "$"
            ) from None
    return value, not numbers.suspect and (numbers is _ALL_FINITE or not has_long_digit_run(body))


def _quick_census(
    value: Any, body: bytes, max_depth: int, max_string: int, max_array: int
) -> int | None:
    """:func:`check_shape`'s count for a body orjson read, at C speed where the body's size
    proves a limit cannot be reached; ``None``: walk it all (:func:`check_shape` then names
    the excess).

    * The ``:`` count: orjson writes the value back with one ``:`` per member and the ``:``
      of names and strings as they are (it never escapes them), which is the census's tally.
    * No string is longer than the body, and an array of ``n`` elements holds ``n - 1``
      commas: below those sizes the two limits cannot be crossed, only the depth is walked."""
    if len(body) > max_string or body.count(b",") >= max_array:
        return None
    try:
        _within_depth(value, max_depth)
        return orjson.dumps(value).count(b":")
    except (_Excess, orjson.JSONEncodeError):
        return None


def _within_depth(item: Any, depth: int) -> None:
    """Raise :class:`_Excess` when containers nest deeper than ``depth``."""
    if depth <= 0:
        raise _Excess("")
    for member in item.values() if type(item) is dict else item:
        kind = type(member)
        if kind is dict or kind is list:
            _within_depth(member, depth - 1)


class _Census:
    """:func:`check_shape`'s walk, which also counts, for :func:`loads_inbound`, the members
    and the ``:`` characters in names and strings."""

    __slots__ = ("colons",)

    def __init__(self) -> None:
        self.colons = 0

    def walk(self, item: Any, depth: int, max_string: int, max_array: int) -> None:
        if depth <= 0:
            raise _Excess("")
        colons = 0
        if isinstance(item, dict):
            colons = len(item)
            for name, member in item.items():
                if len(name) > max_string:
                    raise _Excess(f"nom de membre trop long ({len(name)} caractères)")
                if ":" in name:
                    colons += name.count(":")
                kind = type(member)
                if kind is str:
                    if ":" in member:
                        colons += member.count(":")
                    if len(member) > max_string:
                        raise _too_long(member, name, max_string)
                elif kind is dict or kind is list:
                    try:
                        self.walk(member, depth - 1, max_string, max_array)
                    except _Excess as exc:
                        exc.path.append(name)
                        raise
        elif isinstance(item, list):
            if len(item) > max_array:
                raise _Excess(f"tableau trop long ({len(item)} éléments, limite {max_array})")
            for index, member in enumerate(item):
                kind = type(member)
                if kind is str:
                    if ":" in member:
                        colons += member.count(":")
                    if len(member) > max_string:
                        raise _too_long(member, index, max_string)
                elif kind is dict or kind is list:
                    try:
                        self.walk(member, depth - 1, max_string, max_array)
                    except _Excess as exc:
                        exc.path.append(index)
                        raise
        elif isinstance(item, str):
            colons = item.count(":")
            if len(item) > max_string:
                raise _Excess(f"chaîne trop longue ({len(item)} caractères, limite {max_string})")
        self.colons += colons


def _too_long(member: str, at: str | int, limit: int) -> _Excess:
    error = _Excess(f"chaîne trop longue ({len(member)} caractères, limite {limit})")
    error.path.append(at)
    return error


def check_shape(
    value: Any,
    *,
    max_depth: int = MAX_DEPTH,
    max_string: int = MAX_STRING,
    max_array: int = MAX_ARRAY,
) -> int:
    """Raise :class:`JsonShapeError` at the first excess in ``value``. Recursion stops at
    ``max_depth``, so it never goes deep; the path is built only on the way out of an error.
    Returns the number of members plus the ``:`` in names and strings (see
    :func:`loads_inbound`)."""
    census = _Census()
    try:
        census.walk(value, max_depth, max_string, max_array)
    except _Excess as exc:
        message = exc.message or f"JSON trop imbriqué (plus de {max_depth} niveaux)"
        raise JsonShapeError(message, _render(tuple(reversed(exc.path)))) from None
    return census.colons


class _Excess(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        self.path: list[str | int] = []


def _render(path: tuple[str | int, ...]) -> str:
    return json_path(path, style="indexed")[:300]
