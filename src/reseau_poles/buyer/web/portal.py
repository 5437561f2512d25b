"""The buyer node's portal: ``/portail``, its accounts (one organisation each), its navigation.

:func:`make_portal` is what ``create_app`` installs; :data:`ACCOUNTS` and
:func:`organisation_name` serve the pages and ``reseau-poles buyer accounts …`` alike.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.portal.accounts import BUYER_ROLES, Accounts
from reseau_poles.portal.site import NavLink, Portal

from ..tables import organisations, portal_accounts

PREFIX = "/portail"
TEMPLATES = Path(__file__).parent / "templates"
ACCOUNTS = Accounts(portal_accounts, BUYER_ROLES)

# The header's links; the pages behind them come feature by feature.
NAV = (
    NavLink("portail.nav.accueil", f"{PREFIX}/"),
    NavLink("portail.nav.recherche", f"{PREFIX}/recherche"),
    NavLink("portail.nav.paniers", f"{PREFIX}/paniers"),
    NavLink("portail.nav.commandes", f"{PREFIX}/commandes"),
    NavLink("portail.nav.guides", f"{PREFIX}/guides"),
    NavLink("portail.nav.rapport", f"{PREFIX}/rapport"),
    NavLink("portail.nav.comptes", f"{PREFIX}/comptes", ("admin",)),
    NavLink("cart.organisation.nav", f"{PREFIX}/organisation", ("admin",)),
)


def organisation_name(session: Session, organisation_id: str) -> str | None:
    """The name of an active organisation; ``None``: unknown or inactive (its people cannot
    sign in)."""
    return session.scalar(
        select(organisations.c.name).where(
            organisations.c.id == organisation_id, organisations.c.active.is_(True)
        )
    )


def make_portal(factory: sessionmaker[Session], public_url: str) -> Portal:
    return Portal(
        prefix=PREFIX,
        section="portail",
        accounts=ACCOUNTS,
        factory=factory,
        organisation_name=organisation_name,
        nav=NAV,
        templates_dir=TEMPLATES,
        secure_cookies=public_url.startswith("https://"),
    )
