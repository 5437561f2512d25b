"""The seller node's SQL, one module per feature (SQLAlchemy Core on the tables of
:mod:`..tables`). No protocol, no HTTP.

Every function takes the caller's ``Session`` (a search page's reads also take a
``Connection``): the service decides what one transaction is. Functions return ``None`` /
``False`` for "not found" and raise :class:`Conflict` when the database's state forbids the
change; the HTTP layer turns both into its 4xx answers.
"""

from __future__ import annotations


class Conflict(Exception):
    """The change contradicts what is stored (a location still used, a stock gone below 0)."""

    def __init__(self, message: str, path: str, *, available: int | None = None) -> None:
        super().__init__(message)
        self.message, self.path, self.available = message, path, available
