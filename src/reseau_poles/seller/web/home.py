"""``GET /gestion/``: the pôle's home, a door to each section."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from reseau_poles.portal.auth import CurrentUser
from reseau_poles.portal.templating import render

from .portal import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)

# (title key, text key, path, roles that see it: empty for all)
SECTIONS = (
    ("gestion.nav.produits", "gestion.accueil.produits", "/produits", ("gestion", "admin")),
    ("gestion.nav.commandes", "gestion.accueil.commandes", "/commandes", ()),
    (
        "gestion.nav.integrations",
        "gestion.accueil.integrations",
        "/integrations",
        ("gestion", "admin"),
    ),
    ("gestion.nav.comptes", "gestion.accueil.comptes", "/comptes", ("admin",)),
)


@router.get("/", name="gestion_home")
async def home(request: Request, user: CurrentUser) -> HTMLResponse:
    sections = [
        (title, text, PREFIX + path)
        for title, text, path, roles in SECTIONS
        if not roles or user.has_role(*roles)
    ]
    return render(request, "gestion/home.html", {"sections": sections})
