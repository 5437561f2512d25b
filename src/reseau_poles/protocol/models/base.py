"""The base of every Beckn object: unknown fields kept, ``None`` meaning "absent".

Two rules make a message from another Beckn implementation survive our nodes:

1. Fields we do not know (ONDC's ``@ondc/org/…``, a newer minor version's additions) are
   kept as they came (``extra="allow"``) and written back out.
2. Only what was given is written out, and a declared field given as ``None`` counts as not
   given: the output never carries ``null`` where the Beckn schema wants an object, and never
   grows defaults the sender did not write. Unknown fields keep their ``null``s.

Serialise with :func:`reseau_poles.protocol.models.codec.to_bytes`, which relies on rule 2
(``exclude_unset``). Rule 2 is applied when a model is written out (a serializer that drops
the declared ``None``s from an ``exclude_unset`` dump), not when one is read: reading runs for
every object of every inbound message, and a per-object Python hook there cost a third of
the time of parsing a catalogue.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)


class BecknModel(BaseModel):
    """A Beckn object: open to unknown fields, validated on assignment, aliases on output."""

    model_config = ConfigDict(
        extra="allow",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        validate_assignment=True,
        protected_namespaces=(),
    )

    # No return annotation: pydantic would take it for the JSON schema of the model, which
    # stays the one of its fields.
    @model_serializer(mode="wrap")
    def _without_given_nulls(  # type: ignore[no-untyped-def]
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ):
        data = handler(self)
        # Only an ``exclude_unset`` dump (the wire's) leaves out what was not given; a full
        # dump keeps every field, ``None`` included, as pydantic's does.
        if not info.exclude_unset or type(data) is not dict or None not in data.values():
            return data
        get = self.__dict__.get
        keys = _wire_keys(type(self)) if info.by_alias else None
        for name in self.__pydantic_fields_set__:
            if get(name, 0) is None:
                data.pop(keys.get(name, name) if keys else name, None)
        return data

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if value is None and name in type(self).model_fields:
            self.__pydantic_fields_set__.discard(name)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """As pydantic's, but ``update={"field": None}`` removes the field, as assignment does.

        (``update`` is not validated: pass values of the right type, or assign instead.)
        """
        copied = super().model_copy(update=update, deep=deep)
        for name, value in (update or {}).items():
            if value is None and name in type(self).model_fields:
                copied.__pydantic_fields_set__.discard(name)
        return copied

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # A Beckn object has dozens of optional fields; show only those that were given.
        for name, value in super().__repr_args__():
            if (
                name is None
                or name in self.__pydantic_fields_set__
                or name not in type(self).model_fields
            ):
                yield name, value


@cache
def _wire_keys(model: type[BaseModel]) -> dict[str, str]:
    """Field name → the key it is written under with ``by_alias`` (only those that differ)."""
    keys = {}
    for name, field in model.model_fields.items():
        alias = field.serialization_alias or field.alias
        if alias and alias != name:
            keys[name] = alias
    return keys
