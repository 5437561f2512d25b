"""``GET /portail/``: the institution's home, a door to each section."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from reseau_poles.portal.auth import CurrentUser
from reseau_poles.portal.home import Section, home_page

from .portal import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)

SECTIONS: tuple[Section, ...] = (
    ("portail.nav.recherche", "portail.accueil.recherche", "/recherche", ()),
    ("portail.nav.paniers", "portail.accueil.paniers", "/paniers", ()),
    ("portail.nav.commandes", "portail.accueil.commandes", "/commandes", ()),
    ("portail.nav.guides", "portail.accueil.guides", "/guides", ()),
    ("portail.nav.rapport", "portail.accueil.rapport", "/rapport", ()),
    ("portail.nav.comptes", "portail.accueil.comptes", "/comptes", ("admin",)),
)


@router.get("/", name="portail_home")
async def home(request: Request, user: CurrentUser) -> HTMLResponse:
    return home_page(request, user, PREFIX, SECTIONS)
