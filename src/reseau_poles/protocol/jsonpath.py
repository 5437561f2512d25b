"""Where in a JSON document something is, as text: the one renderer of JSON paths.

A location is a sequence of member names and array indexes, as pydantic gives it (an error's
``loc``) or as a walk over a parsed value builds it. Every refusal that names a path (a NACK's
``error.path``, a 400's ``path``, a command line's list of problems) writes it here, in one
of three forms:

* ``"dotted"``: every part joined by ``.`` (``items.0.quantity``); the form of the nodes' and
  the seller's APIs and of FastAPI's validation errors;
* ``"indexed"``: an index in brackets, a name after a ``.`` (``regions[1]``,
  ``message.order.items[0].id``); the registry's and the JSON guard's form;
* ``"quoted"``: ``"indexed"``, with a name that could be read as path syntax (a ``.``, a
  bracket, a quote, a space, or empty) written as a quoted index (``tags['a.b']``); the
  protocol models' form, which reads back unambiguously.

An empty location is written ``root`` (``$`` unless the caller says otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final, Literal

Style = Literal["dotted", "indexed", "quoted"]

# Names written after a dot in the "quoted" form: anything that cannot be mistaken for syntax.
_PLAIN_NAME: Final = re.compile(r"[^.\[\]'\"\s]+")


def json_path(location: Iterable[object], *, style: Style = "dotted", root: str = "$") -> str:
    """``location`` as a path in ``style``; ``root`` when it is empty.

    >>> json_path(("items", 0, "quantity"))
    'items.0.quantity'
    >>> json_path(("regions", 1), style="indexed")
    'regions[1]'
    >>> json_path(("tags", "a.b", 0), style="quoted")
    "tags['a.b'][0]"
    >>> json_path(())
    '$'
    """
    if style == "dotted":
        path = ".".join(str(part) for part in location)
    else:
        path = ""
        for part in location:
            if isinstance(part, int):
                path += f"[{part}]"
            elif style == "quoted" and not _PLAIN_NAME.fullmatch(str(part)):
                path += f"[{part!r}]"
            else:
                path += f".{part}" if path else str(part)
    return path or root


__all__ = ["Style", "json_path"]
