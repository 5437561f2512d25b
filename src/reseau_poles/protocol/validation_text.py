"""A pydantic validation error said in French, for whoever reads a refusal.

One function, :func:`french_message`, for every place a pydantic error reaches a user: the
nodes' ``/api`` (``reseau_poles.participant.api``), the seller's management API and CSV import,
the registry's NACKs and the protocol codec's refusals. It lives in ``protocol/`` (no I/O,
pydantic only) so that every role and the codec can use it without importing another role.

- A built-in pydantic error type gets a French sentence, with its limits (``au plus 64
  caractères``, ``doit être au moins 0``).
- ``value_error`` (a validator's ``ValueError``): the validator's own message, which our
  validators write in French.
- An error of our own (``PydanticCustomError``: a type pydantic does not know, or a known
  type with a non-ASCII message other than pydantic's): its own message, French already.
- Any other built-in type: a generic French sentence that still quotes pydantic's message.

Never raises, whatever the error dictionary holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, get_args

from pydantic_core import PydanticKnownError
from pydantic_core.core_schema import ErrorType

_BUILTIN_TYPES = frozenset(get_args(ErrorType))

_DATE = "date AAAA-MM-JJ attendue"
_DATETIME = "date-heure RFC 3339 attendue, par ex. 2026-05-01T12:00:00Z"
_TIME = "heure HH:MM attendue"
_OBJECT = "objet JSON attendu"
_LIST = "liste attendue"
_INTEGER = "nombre entier attendu"
_NUMBER = "nombre attendu"
_BOOLEAN = "oui ou non attendu (booléen true ou false)"

_MESSAGES: dict[str, str] = {
    "missing": "champ obligatoire absent",
    "extra_forbidden": "champ inconnu",
    "string_type": "texte attendu",
    "string_sub_type": "texte attendu",
    "string_unicode": "texte Unicode attendu",
    "bytes_type": "texte attendu",
    "string_too_long": "trop long (au plus {max_length} caractères)",
    "string_pattern_mismatch": "format invalide",
    "too_short": "trop peu d'éléments (au moins {min_length})",
    "too_long": "trop d'éléments (au plus {max_length})",
    "int_type": _INTEGER,
    "int_parsing": _INTEGER,
    "int_from_float": _INTEGER,
    "int_parsing_size": "nombre entier trop grand",
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_max_digits": "nombre trop grand",
    "decimal_whole_digits": "nombre trop grand",
    "decimal_max_places": "au plus {decimal_places} décimales",
    "finite_number": "nombre fini attendu",
    "bool_type": _BOOLEAN,
    "bool_parsing": _BOOLEAN,
    "greater_than": "doit être supérieur à {gt}",
    "greater_than_equal": "doit être au moins {ge}",
    "less_than": "doit être inférieur à {lt}",
    "less_than_equal": "doit être au plus {le}",
    "multiple_of": "doit être un multiple de {multiple_of}",
    "literal_error": "valeur non permise (attendu : {expected})",
    "enum": "valeur non permise (attendu : {expected})",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": "date sans heure attendue (AAAA-MM-JJ)",
    "date_past": "la date doit être passée",
    "date_future": "la date doit être à venir",
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "datetime_past": "la date-heure doit être passée",
    "datetime_future": "la date-heure doit être à venir",
    "timezone_aware": "fuseau horaire attendu (…Z ou -05:00)",
    "timezone_naive": "date-heure sans fuseau horaire attendue",
    "timezone_offset": "décalage horaire non permis",
    "time_type": _TIME,
    "time_parsing": _TIME,
    "time_delta_type": "durée attendue",
    "time_delta_parsing": "durée attendue",
    "json_type": "texte JSON attendu",
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dataclass_type": _OBJECT,
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "frozen_set_type": _LIST,
    "iterable_type": _LIST,
    "set_item_not_hashable": "élément non permis dans un ensemble",
    "none_required": "valeur nulle (null) attendue",
    "url_type": "adresse URL attendue",
    "url_parsing": "adresse URL invalide",
    "url_syntax_violation": "adresse URL invalide",
    "url_too_long": "adresse URL trop longue (au plus {max_length} caractères)",
    "url_scheme": "schéma d'URL non permis (attendu : {expected_schemes})",
    "uuid_type": "UUID attendu",
    "uuid_parsing": "UUID attendu",
    "uuid_version": "UUID de version {expected_version} attendu",
    "union_tag_invalid": "type « {tag} » inconnu (attendu : {expected_tags})",
    "union_tag_not_found": "le champ « {discriminator} » est obligatoire",
    "frozen_field": "champ non modifiable",
    "frozen_instance": "valeur non modifiable",
    "callable_type": "valeur invalide",
    "is_instance_of": "valeur d'un type inattendu",
    "no_such_attribute": "champ inconnu",
    "recursion_loop": "structure récursive refusée",
}
# Pydantic's prefixes around a validator's own message.
_OWN_MESSAGE = {"value_error": "Value error, ", "assertion_error": "Assertion failed, "}
_JSON_POSITION = re.compile(r"line (\d+) column (\d+)")
_LAST_OR = re.compile(r" or (?=[^,]*$)")


class _Context(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"


def _shown(value: Any) -> str:
    text = str(value)
    return _LAST_OR.sub(" ou ", text) if isinstance(value, str) else text


def _ours(kind: str, ctx: Mapping[str, Any] | None, msg: str) -> bool:
    """Whether ``msg`` is a message of ours (a ``PydanticCustomError`` in French) rather than
    pydantic's English: a type pydantic does not know, or a known one (our ``decimal_type``,
    ``date_type``…) whose message is not pydantic's and is not plain ASCII. Pydantic words a
    few messages differently from JSON (``model_type``: "Input should be an object"), so
    differing from the default alone does not make a message ours."""
    if kind not in _BUILTIN_TYPES:
        return True
    if msg.isascii():
        return False
    try:
        default = PydanticKnownError(kind, dict(ctx) if ctx else None).message()  # type: ignore[arg-type]
    except Exception:  # a context pydantic would not build
        return True
    return default != msg


def french_message(error: Mapping[str, Any]) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) as a French message."""
    try:
        return _french(error)
    except Exception:  # a malformed error dictionary: still an answer
        return "valeur invalide"


def _french(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    msg = str(error.get("msg") or "").strip()
    raw_ctx = error.get("ctx")
    ctx = raw_ctx if isinstance(raw_ctx, Mapping) else {}
    if kind in _OWN_MESSAGE:
        own = msg.removeprefix(_OWN_MESSAGE[kind]).strip()
        return own or "valeur invalide"
    if kind == "json_invalid":
        found = _JSON_POSITION.search(str(ctx.get("error", msg)))
        return f"JSON invalide (ligne {found[1]}, colonne {found[2]})" if found else "JSON invalide"
    if msg and _ours(kind, ctx, msg):
        return msg
    if kind == "string_too_short":
        minimum = ctx.get("min_length")
        if minimum in (None, 1):
            return "valeur requise"
        return f"trop court (au moins {minimum} caractères)"
    template = _MESSAGES.get(kind)
    if template is None:
        return f"valeur invalide ({msg})" if msg else "valeur invalide"
    return template.format_map(_Context({str(k): _shown(v) for k, v in ctx.items()}))
