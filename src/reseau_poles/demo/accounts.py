"""The demonstration's people on the portal: an institution's buyer and approver on the buyer
node (``/portail``), and one coordinator per pôle on its seller node (``/gestion``).

Made at first run (or at the first run of a demo folder made before the portal), with one
random password for them all, kept in ``state.json`` (0600) and printed at each start: a
demonstration on this machine's loopback, not a way to run a node.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from .network import DemoNetwork, Participant

BUYER_PORTAL = "/portail/"
SELLER_PORTAL = "/gestion/"
# (address, name, roles) of the institution's people.
BUYER_PEOPLE = (
    ("acheteur@css-demo.example", "Alex Acheteur", ("acheteur",)),
    ("approbateur@css-demo.example", "Camille Approbatrice", ("approbateur", "admin")),
)
POLE_ROLES = ("gestion", "preparation", "admin")


def pole_email(pole_id: str) -> str:
    return f"gestion@{pole_id}.example"


def prepare_accounts(net: DemoNetwork, organisation: str) -> dict[str, Any]:
    """The accounts, in each node's database (migrated first); what ``state.json`` keeps."""
    from reseau_poles.portal.accounts import hash_password

    password = "demo-" + secrets.token_urlsafe(9)
    hashed = hash_password(password)
    _add(
        net.buyer,
        "buyer",
        [(email, name, roles, organisation) for email, name, roles in BUYER_PEOPLE],
        hashed,
    )
    for seller in net.sellers:
        people = [
            (pole_email(pole.id), f"Coordination — {pole.provider.name}", POLE_ROLES, pole.id)
            for pole in seller.poles
        ]
        _add(seller, "seller", people, hashed)
    return {
        "password": password,
        "buyer": [email for email, _, _ in BUYER_PEOPLE],
        "poles": {pole.id: pole_email(pole.id) for seller in net.sellers for pole in seller.poles},
    }


def _add(
    node: Participant,
    role: str,
    people: Sequence[tuple[str, str, tuple[str, ...], str]],
    hashed: str,
) -> None:
    import importlib

    from reseau_poles.storage import make_engine, make_session_factory, write_session

    app = importlib.import_module(f"reseau_poles.{role}.app")
    accounts = importlib.import_module(f"reseau_poles.{role}.web.portal").ACCOUNTS
    engine = make_engine(node.database_url)
    try:
        app.migrate(engine)
        with write_session(make_session_factory(engine)) as session:
            for email, name, roles, organisation in people:
                if accounts.user_by_email(session, email) is None:
                    accounts.create_user(
                        session,
                        organisation_id=organisation,
                        email=email,
                        name=name,
                        roles=roles,
                        password_hash=hashed,
                    )
    finally:
        engine.dispose()


def print_portals(console: Console, net: DemoNetwork) -> None:
    """The portal's addresses and the demonstration's accounts."""
    accounts = net.state.get("accounts")
    if not accounts:
        return

    def say(text: str) -> None:
        console.print(text, highlight=False, soft_wrap=True, markup=False)

    console.print("[bold]Le portail (pages web, français ou anglais) :[/]")
    say(f"  Établissements : {net.buyer.url}{BUYER_PORTAL}")
    for email, _, roles in BUYER_PEOPLE:
        say(f"    {email} ({', '.join(roles)})")
    say("  Gestion des pôles (un compte par pôle, sur le nœud vendeur du pôle) :")
    for seller in net.sellers:
        emails = ", ".join(accounts["poles"][pole.id] for pole in seller.poles)
        say(f"    {seller.url}{SELLER_PORTAL} : {emails}")
    say(f"  Mot de passe de ces comptes de démonstration : {accounts['password']}")
