"""What a role tells the frame about its portal: :class:`Portal`.

The buyer node builds one for ``/portail`` (organisations' people), the seller node one for
``/gestion`` (pôles' staff); :func:`reseau_poles.portal.routes.install_portal` puts it on the
application (``app.state.portal``) with the frame's routes, and every dependency and
:func:`~reseau_poles.portal.templating.render` finds it there (:func:`portal_of`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from .accounts import Accounts, User

if TYPE_CHECKING:
    from fastapi import Request

    from .templating import Templates


@dataclass(frozen=True)
class NavLink:
    """An entry of the header's navigation: its label (a catalogue key), its path, and the
    roles that see it (empty: every signed-in person)."""

    key: str
    path: str
    roles: tuple[str, ...] = ()

    def shown_to(self, user: User | None) -> bool:
        return user is not None and (not self.roles or user.has_role(*self.roles))


@dataclass(frozen=True)
class LoginLimits:
    """Failed sign-ins allowed within ``window``, per account (the address typed) and per
    client address; past either, 429 until the oldest failure leaves the window."""

    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass
class Portal:
    """One role's portal.

    ``prefix``: ``/portail`` or ``/gestion``. ``section``: ``portail`` or ``gestion``, the
    catalogue's prefix for the portal's own words (``{section}.nom``: its name in the
    header). ``organisation_name(session, organisation_id)``: the organisation's name, or
    ``None`` when there is no such organisation (users are refused then). ``nav``: the
    header's links. ``templates_dir``: the role's templates, searched before the frame's.
    ``secure_cookies``: cookies marked ``Secure`` even over http (the node's public URL is
    https, behind a proxy that ends TLS)."""

    prefix: str
    section: str
    accounts: Accounts
    factory: sessionmaker[Session]
    organisation_name: Callable[[Session, str], str | None]
    nav: Sequence[NavLink] = ()
    templates_dir: Path | None = None
    secure_cookies: bool = False
    idle: timedelta = timedelta(hours=12)
    lifetime: timedelta = timedelta(days=7)
    login_limits: LoginLimits = field(default_factory=LoginLimits)
    # Filled by __post_init__.
    templates: Templates = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from .templating import Templates

        self.prefix = "/" + self.prefix.strip("/")
        self.templates = Templates(self.templates_dir)

    @property
    def roles(self) -> tuple[str, ...]:
        return self.accounts.roles

    def url(self, path: str = "/") -> str:
        """``/portail`` + ``path``: ``url("/connexion")``."""
        return self.prefix + (path if path.startswith("/") else "/" + path)

    @property
    def home(self) -> str:
        return self.prefix + "/"

    @property
    def login_url(self) -> str:
        return self.url("/connexion")

    def safe_next(self, target: str | None) -> str:
        """Where to go after signing in: a path of this portal (never another site, nor
        the sign-in page itself), else its home."""
        if (
            not target
            or not target.startswith(self.prefix)
            or target.startswith("//")
            or "\\" in target
            or any(ord(c) < 32 for c in target)
            or len(target) > 2000
        ):
            return self.home
        rest = target[len(self.prefix) :]
        if rest and rest[0] not in "/?":
            return self.home
        if target.split("?", 1)[0].rstrip("/") == self.login_url:
            return self.home
        return target

    def nav_for(self, user: User | None) -> list[NavLink]:
        return [link for link in self.nav if link.shown_to(user)]


def portal_of(request: Request) -> Portal:
    """The application's portal (set by ``install_portal``)."""
    portal: Any = getattr(request.app.state, "portal", None)
    if portal is None:
        raise RuntimeError("aucun portail installé sur cette application (install_portal)")
    return portal
