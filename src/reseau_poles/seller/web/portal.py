"""The seller node's portal: ``/gestion``, its accounts (one pôle each: ``organisation_id``
is the provider id), its navigation.

:func:`make_portal` is what ``create_app`` installs; :data:`ACCOUNTS` and
:func:`organisation_name` serve the pages and ``reseau-poles seller accounts …`` alike.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.portal.accounts import SELLER_ROLES, Accounts
from reseau_poles.portal.site import NavLink, Portal

from ..tables import portal_accounts, providers

PREFIX = "/gestion"
TEMPLATES = Path(__file__).parent / "templates"
ACCOUNTS = Accounts(portal_accounts, SELLER_ROLES)

# The header's links; the pages behind them come feature by feature.
NAV = (
    NavLink("gestion.nav.accueil", f"{PREFIX}/"),
    NavLink("gestion.nav.produits", f"{PREFIX}/produits", ("gestion", "admin")),
    NavLink("gestion.nav.commandes", f"{PREFIX}/commandes"),
    NavLink("gestion.nav.integrations", f"{PREFIX}/integrations", ("gestion", "admin")),
    NavLink("gestion.nav.comptes", f"{PREFIX}/comptes", ("admin",)),
)


def organisation_name(session: Session, provider_id: str) -> str | None:
    """The name of an active pôle hosted here; ``None``: unknown or inactive (its people
    cannot sign in)."""
    return session.scalar(
        select(providers.c.name).where(providers.c.id == provider_id, providers.c.active.is_(True))
    )


def make_portal(factory: sessionmaker[Session], public_url: str) -> Portal:
    return Portal(
        prefix=PREFIX,
        section="gestion",
        accounts=ACCOUNTS,
        factory=factory,
        organisation_name=organisation_name,
        nav=NAV,
        templates_dir=TEMPLATES,
        secure_cookies=public_url.startswith("https://"),
    )
