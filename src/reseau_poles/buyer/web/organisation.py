"""The organisation's settings (``/portail/organisation``, role ``admin``): whether each cart
needs an approver's approval before it is ordered (``reseau-poles buyer approval`` does the
same from the command line).

GET  /portail/organisation     the settings
POST /portail/organisation     change them (audited)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from reseau_poles.portal.accounts import ADMIN, User
from reseau_poles.portal.auth import audit, require_role, see_other
from reseau_poles.portal.forms import read_form
from reseau_poles.portal.site import portal_of
from reseau_poles.portal.templating import render
from reseau_poles.storage import read_session, write_session

from ..repositories import organisations as repo
from .portal import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)

Admin = Annotated[User, Depends(require_role(ADMIN))]


@router.get("/organisation", name="portail_organisation")
async def settings_page(request: Request, user: Admin) -> Response:
    factory = portal_of(request).factory

    def read() -> bool:
        with read_session(factory) as session:
            return repo.requires_approval(session, user.organisation_id)

    required = await run_in_threadpool(read)
    return render(request, "portail/organisation.html", {"requires_approval": required})


@router.post("/organisation", name="portail_organisation_change")
async def change_settings(request: Request, user: Admin) -> Response:
    form = await read_form(request)
    required = form.get("requires_approval") == "oui"
    factory = portal_of(request).factory

    def write() -> None:
        with write_session(factory) as session:
            repo.set_requires_approval(session, user.organisation_id, required)

    await run_in_threadpool(write)
    await audit(
        request, user, "organisation.approbation", user.organisation_id, {"requise": required}
    )
    return see_other(
        request,
        f"{PREFIX}/organisation",
        ok="cart.organisation.approbation_requise"
        if required
        else "cart.organisation.approbation_libre",
    )
