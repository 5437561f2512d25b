"""Beckn 1.1 tag groups as plain dicts: the shape, and the machinery the profile's groups share.

A tag group on the wire::

    {"descriptor": {"code": "certifications", "name": "Certifications"},
     "list": [{"descriptor": {"code": "aliments_du_quebec", "name": "Aliments du Québec"},
               "value": "oui"}]}

Builders write the code (for machines) and a French ``name`` (for the generic Beckn apps that
render tags as name–value pairs). Readers follow three rules:

* **Lenient on what they do not know.** Unknown groups and unknown tags are skipped, so that
  another network's tags, or a later version of ours, never break a catalog.
* **Strict on what they know.** A known tag with a bad value is a :class:`ProtocolError`
  carrying the precise JSON path of the value (``…tags[1].list[0].value``), built from the
  path of the tag array that the caller passes in.
* **Models or dicts.** Anything with ``model_dump()`` (the pydantic models) is dumped first.

A known group that appears twice is read as one group; a tag that appears twice with two
different values is an error (which one would be true?).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import ErrorCode, ProtocolError
from ._plain import as_list, as_mapping, parse_yes_no, shown


def tag(code: str, value: str, *, name: str | None = None) -> dict[str, Any]:
    """One Beckn 1.1 ``Tag``."""
    descriptor: dict[str, str] = {"code": str(code)}
    if name:
        descriptor["name"] = name
    return {"descriptor": descriptor, "value": str(value)}  # str(): no enum members on the wire


def tag_group(
    code: str,
    tags: Iterable[dict[str, Any]],
    *,
    name: str | None = None,
    display: bool | None = None,
) -> dict[str, Any]:
    """One Beckn 1.1 ``TagGroup`` holding ``tags``."""
    descriptor: dict[str, str] = {"code": code}
    if name:
        descriptor["name"] = name
    group: dict[str, Any] = {"descriptor": descriptor, "list": list(tags)}
    if display is not None:
        group["display"] = display
    return group


@dataclass(slots=True)
class TagValue:
    """A tag of a known group as found in a message: its code, its raw value, and the JSON
    path of that value (for errors; written out only when asked for).

    Read-only by convention, not frozen: a frozen dataclass is built four times slower, and
    a buyer reads thousands of these per search."""

    code: str
    value: Any
    at: tuple[str, int, int]  # the tags array's path, the group's index, the tag's index

    @property
    def path(self) -> str:
        base, group, tag = self.at
        return f"{base}[{group}].list[{tag}].value"


@dataclass(slots=True)
class FoundGroup:
    """A known group as found in a message: the path of its first occurrence and its tags
    (those of every occurrence, in message order)."""

    path: str
    tags: list[TagValue]

    def single(
        self, code: str, *, error_code: ErrorCode = ErrorCode.INVALID_REQUEST
    ) -> TagValue | None:
        return single(self.tags, code, error_code=error_code)

    def require(self, code: str, *, error_code: ErrorCode = ErrorCode.INVALID_REQUEST) -> TagValue:
        """The tag ``code``, which the group must hold."""
        value = self.single(code, error_code=error_code)
        if value is None:
            raise ProtocolError(
                f"Étiquette « {code} » manquante dans ce groupe.",
                code=error_code,
                path=f"{self.path}.list",
            )
        return value


def _code_of(obj: Any) -> str | None:
    if type(obj) is dict:  # parsed JSON: the common case, without a helper per level
        descriptor = obj.get("descriptor")
        if type(descriptor) is dict:
            code = descriptor.get("code")
            return _folded(code) if type(code) is str else None
    data = as_mapping(obj)
    if data is None:
        return None
    descriptor = as_mapping(data.get("descriptor"))
    code = descriptor.get("code") if descriptor is not None else None
    return _folded(code) if type(code) is str else None


@lru_cache(maxsize=4096)
def _folded(code: str) -> str:
    """A tag code as compared: the same few codes come back in every item."""
    return code.strip().casefold()


def collect(
    tags: Any,
    groups: Iterable[str],
    *,
    path: str,
    error_code: ErrorCode = ErrorCode.INVALID_REQUEST,
) -> dict[str, FoundGroup]:
    """The tags of the ``groups`` asked for, by group code, in message order.

    ``tags`` is the ``tags`` array of an item, provider, fulfilment or payment (or ``None``);
    ``path`` is its JSON path. Groups not asked for are skipped without a look inside.
    """
    wanted = groups if type(groups) is frozenset else frozenset(groups)
    found: dict[str, FoundGroup] = {}
    if tags is None:
        return found
    entries = tags if type(tags) is list else as_list(tags)
    if entries is None:
        raise ProtocolError(
            "Liste de groupes d'étiquettes (tags) attendue.", code=error_code, path=path
        )
    for group_index, group in enumerate(entries):
        data = group if type(group) is dict else as_mapping(group)
        if data is None:
            raise ProtocolError(
                "Groupe d'étiquettes attendu (objet).",
                code=error_code,
                path=f"{path}[{group_index}]",
            )
        group_code = _code_of(data)
        if group_code is None or group_code not in wanted:
            continue
        group_path = f"{path}[{group_index}]"
        bucket = found.setdefault(group_code, FoundGroup(group_path, [])).tags
        raw_list = data.get("list")
        if raw_list is None:
            continue
        items = raw_list if type(raw_list) is list else as_list(raw_list)
        if items is None:
            raise ProtocolError(
                "Liste d'étiquettes attendue.", code=error_code, path=f"{group_path}.list"
            )
        for tag_index, item in enumerate(items):
            tag_data = item if type(item) is dict else as_mapping(item)
            if tag_data is None:
                raise ProtocolError(
                    "Étiquette attendue (objet).",
                    code=error_code,
                    path=f"{group_path}.list[{tag_index}]",
                )
            tag_code = _code_of(tag_data)
            if tag_code is None:
                continue
            bucket.append(TagValue(tag_code, tag_data.get("value"), (path, group_index, tag_index)))
    return found


def single(
    values: Iterable[TagValue],
    code: str,
    *,
    error_code: ErrorCode = ErrorCode.INVALID_REQUEST,
) -> TagValue | None:
    """The one tag ``code`` among ``values``; repeats must agree."""
    chosen: TagValue | None = None
    for value in values:
        if value.code != code:
            continue
        if chosen is not None and value.value != chosen.value:
            raise ProtocolError(
                f"Étiquette « {code} » répétée avec deux valeurs différentes.",
                code=error_code,
                path=value.path,
            )
        chosen = chosen or value
    return chosen


def text_value(value: TagValue, *, error_code: ErrorCode = ErrorCode.INVALID_REQUEST) -> str:
    """The value as non-empty text, stripped."""
    if not isinstance(value.value, str) or not value.value.strip():
        raise ProtocolError(
            f"Étiquette « {value.code} » : texte non vide attendu.",
            code=error_code,
            path=value.path,
        )
    return value.value.strip()


def flag_value(value: TagValue, *, error_code: ErrorCode = ErrorCode.INVALID_REQUEST) -> bool:
    """The value as a yes/no flag (``oui``/``non``; ``true``/``false`` accepted)."""
    flag = parse_yes_no(value.value) if isinstance(value.value, str) else None
    if flag is None:
        raise ProtocolError(
            f"Étiquette « {value.code} » : « oui » ou « non » attendu, reçu « {shown(value.value)} ».",
            code=error_code,
            path=value.path,
        )
    return flag
