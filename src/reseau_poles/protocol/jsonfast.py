"""JSON written and read fast, with exactly what the standard library would give.

A buyer node writes every catalogue it receives twice (the stored results, the event stream)
and reads every inbound body once; with :mod:`json` that was a fifth of its CPU. orjson (a
compiled, widely used library) does the same work about ten times faster. It differs from
:mod:`json` at the edges, so each function here takes orjson's answer only where the two
agree, and asks :mod:`json` otherwise:

* writing: integers beyond 64 bits, keys that are not strings and anything orjson refuses go
  through :func:`json.dumps`; ``datetime`` values and dataclasses, which orjson would write
  and :func:`json.dumps` refuses, are refused here too (a date is formatted by the caller,
  :func:`reseau_poles.protocol.models.format_datetime`). A float that is not finite is
  written ``null`` (none of ours is: amounts are decimal strings). A lone surrogate (which
  :func:`json.loads` reads from ``"\\ud800"``) is written escaped, so the bytes are always
  UTF-8;
* reading (:func:`loads_exact`): orjson reads an integer of more than 64 bits as a float, and
  refuses lone surrogates, ``NaN``/``Infinity``, a byte-order mark and UTF-16/32; every
  such body is read by :func:`json.loads`, so the value is always the standard library's.

The output of :func:`dumps` is compact JSON with non-ASCII characters as they are (the form
of ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``); floats may be written
differently (``1e16`` for ``1e+16``), which is the same number.

:func:`dumps` is never used for a body that is sent: a model's bytes come from the models' own
serialiser (:func:`reseau_poles.protocol.models.to_bytes`), and every other JSON body a role
sends, signs or hashes (a dict posted to a peer, a NACK, a registry answer) from :func:`wire`,
which writes exactly the standard library's bytes (floats included), since a signature is
computed on bytes.
"""

from __future__ import annotations

import json
from typing import Any, Final

import orjson

_SEPARATORS: Final = (",", ":")
_OPTIONS: Final = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _refuse(value: Any) -> Any:
    # orjson's hook for a type it does not know: refuse it so json.dumps decides (and raises).
    raise TypeError


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of ``value``; raises ``TypeError``/``ValueError`` as
    :func:`json.dumps` does."""
    try:
        return orjson.dumps(value, default=_refuse, option=_OPTIONS)
    except orjson.JSONEncodeError:
        pass  # an integer past 64 bits, a key that is not a string, a foreign type…
    text = json.dumps(value, ensure_ascii=False, separators=_SEPARATORS)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate ("\\ud800" read from a peer): escaped
        return json.dumps(value, separators=_SEPARATORS).encode()


def wire(value: Any, *, ascii_only: bool = False) -> bytes:
    """The wire form of a JSON body: compact, UTF-8, byte for byte
    ``json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()``, or with
    non-ASCII characters escaped (``\\u00e9``) under ``ascii_only``. A lone surrogate (which
    UTF-8 cannot hold) is written escaped rather than raising."""
    text = json.dumps(value, ensure_ascii=ascii_only, separators=_SEPARATORS)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(value, separators=_SEPARATORS).encode()


def dumps_text(value: Any) -> str:
    """:func:`dumps` as text (what a database driver's JSON column takes)."""
    return dumps(value).decode()


# Every digit mapped to "9" and anything else to a space, then a substring search: the same
# answer as the regular expression ``[0-9]{n}``, at a twentieth of its cost.
_DIGITS_ONLY: Final = bytes(0x39 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
# Digits in a row from which orjson may read an integer differently (past 64 bits: a float).
_LONG_INTEGER: Final = 19


def has_digit_run(body: bytes, length: int) -> bool:
    """Whether ``body`` holds ``length`` ASCII digits in a row."""
    return len(body) >= length and b"9" * length in body.translate(_DIGITS_ONLY)


def loads_exact(body: bytes) -> Any:
    """``json.loads(body)`` exactly (same value, same types), faster; ``None`` in place of an
    answer when orjson cannot be trusted with this body, for the caller to use :mod:`json`.

    Returns ``(value,)`` on success so that a JSON ``null`` is told from "no answer"."""
    if type(body) is not bytes or has_digit_run(body, _LONG_INTEGER):
        return None
    try:
        return (orjson.loads(body),)
    except orjson.JSONDecodeError:
        return None  # malformed, or one of the forms only json reads: json says which


__all__ = ["dumps", "dumps_text", "has_digit_run", "loads_exact", "wire"]
