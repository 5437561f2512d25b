"""``GET /gestion/``: the pôle's home, a door to each section."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from reseau_poles.portal.auth import CurrentUser
from reseau_poles.portal.home import Section, home_page

from .portal import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)

SECTIONS: tuple[Section, ...] = (
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
    return home_page(request, user, PREFIX, SECTIONS)
