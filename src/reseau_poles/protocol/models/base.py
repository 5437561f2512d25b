"""The base of every Beckn object: unknown fields kept, ``None`` meaning "absent".

Two rules make a message from another Beckn implementation survive our nodes:

1. Fields we do not know (ONDC's ``@ondc/org/…``, a newer minor version's additions) are
   kept as they came (``extra="allow"``) and written back out.
2. Only what was given is written out. A declared field set to ``None`` is dropped from the
   "fields set", so the output never carries ``null`` where the Beckn schema wants an object,
   and never grows defaults the sender did not write. Unknown fields keep their ``null``s.

Serialise with :func:`reseau_poles.protocol.models.codec.to_bytes`, which relies on rule 2
(``exclude_unset``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict


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

    def model_post_init(self, context: Any, /) -> None:
        # Runs for every object of every message: plain dict lookups, no getattr. Declared
        # fields live in ``__dict__`` (unknown ones in ``__pydantic_extra__``, left alone).
        # ``None in map(...)`` loops in C; an unknown field also reads as None there, and only
        # then does the exact (slower) pass run.
        fields_set = self.__pydantic_fields_set__
        get = self.__dict__.get
        if None in map(get, fields_set):
            fields_set.difference_update([name for name in fields_set if get(name, 0) is None])

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
