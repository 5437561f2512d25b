"""A portal's home page: a door to each section the signed-in person may open.

Each role lists its sections (:data:`Section`) and answers with :func:`home_page`; the words
are the catalogue's ``{portal.section}.accueil.*`` (title, greeting, the organisation's
line) and each section's own title and text keys.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from fastapi.responses import HTMLResponse

from .accounts import User
from .templating import render

# (title key, text key, path under the portal's prefix, roles that see it: empty for all)
Section = tuple[str, str, str, tuple[str, ...]]


def home_page(
    request: Request, user: User, prefix: str, sections: Iterable[Section]
) -> HTMLResponse:
    shown = [
        (title, text, prefix + path)
        for title, text, path, roles in sections
        if not roles or user.has_role(*roles)
    ]
    return render(request, "home.html", {"sections": shown})
