"""The approval step of a cart, when its organisation asks for one
(``buyer_organisations.requires_approval``).

A cart is in one of five states: ``brouillon`` (being filled), ``soumis`` (awaiting an
approver: its lines and fields do not change), ``renvoye`` (sent back with a comment, to be
changed and submitted again), ``approuve`` and ``commande`` (checked out: one order per
pôle). :func:`step` is the whole rule, by action and by the person's roles (the portal's
``acheteur`` and ``approbateur``; an API key acts as an ``acheteur``):

===========  ==================================  ========================  ===================
action       from                                who                       to
===========  ==================================  ========================  ===================
modifier     brouillon, renvoye, approuve        acheteur or approbateur   same; approuve →
                                                                           brouillon (approve
                                                                           again)
soumettre    brouillon, renvoye (approval        acheteur                  soumis
             required)
retirer      soumis                              acheteur                  brouillon
approuver    soumis, brouillon, renvoye          approbateur               approuve
renvoyer     soumis (with a comment)             approbateur               renvoye
commander    approuve; or brouillon, renvoye     acheteur or approbateur   commande
             when no approval is required
===========  ==================================  ========================  ===================

Nothing leaves ``commande``. An approver approving a cart on the portal orders it at once
(:meth:`ApprovalService.approve`, then :meth:`CartService.checkout`); a checkout that fails
its checks leaves the cart ``approuve``, to be ordered again. The same
rule guards the client API (:func:`check_editable`, :func:`check_orderable`): a submitted
cart does not change, and an organisation that requires approval orders only approved carts.
Who submitted and who decided (portal user ids), when, and the comment stay on the cart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy.orm import Session

from reseau_poles.participant import ApiError
from reseau_poles.storage import read_session, utcnow, write_session

from ..repositories import carts as repo
from ..repositories import organisations as organisation_repo

if TYPE_CHECKING:
    from .cart_checkout import CartService

BUYER: Final = "acheteur"
APPROVER: Final = "approbateur"
API_ROLES: Final = frozenset({BUYER})
"""What an API key may do: what an ``acheteur`` may."""

STATES: Final = ("brouillon", "soumis", "renvoye", "approuve", "commande")
ACTIONS: Final = ("modifier", "soumettre", "retirer", "approuver", "renvoyer", "commander")
MAX_COMMENT: Final = 500


def _refused(code: str, message: str, status: int = 409) -> ApiError:
    return ApiError(status, code, message, "approval")


def _role(roles: Collection[str], *wanted: str) -> None:
    if not any(role in roles for role in wanted):
        raise _refused("role_requis", f"Réservé au rôle {' ou '.join(wanted)}.", status=403)


def step(state: str, action: str, roles: Collection[str], requires_approval: bool) -> str:
    """The cart's state after ``action`` by a person holding ``roles``; raises
    :class:`ApiError` (403 ``role_requis``, 409 otherwise) when the rule refuses."""
    if state not in STATES or action not in ACTIONS:
        raise ValueError(f"état « {state} » ou action « {action} » inconnus")
    if state == "commande":
        raise _refused("panier_commande", "Ce panier est déjà commandé ; il ne change plus.")
    if action == "modifier":
        _role(roles, BUYER, APPROVER)
        if state == "soumis":
            raise _refused(
                "panier_en_approbation",
                "Ce panier attend une approbation : il ne change pas (retirez la demande "
                "pour le modifier).",
            )
        return "brouillon" if state == "approuve" else state
    if action == "soumettre":
        _role(roles, BUYER)
        if not requires_approval:
            raise _refused(
                "approbation_non_requise",
                "Votre organisation ne demande pas d'approbation : commandez directement.",
            )
        if state not in ("brouillon", "renvoye"):
            raise _refused("transition_refusee", f"Un panier « {state} » ne se soumet pas.")
        return "soumis"
    if action == "retirer":
        _role(roles, BUYER)
        if state != "soumis":
            raise _refused("transition_refusee", "Ce panier n'attend pas d'approbation.")
        return "brouillon"
    if action == "approuver":
        _role(roles, APPROVER)
        if state not in ("soumis", "brouillon", "renvoye"):
            raise _refused("transition_refusee", f"Un panier « {state} » ne s'approuve pas.")
        return "approuve"
    if action == "renvoyer":
        _role(roles, APPROVER)
        if state != "soumis":
            raise _refused("transition_refusee", "Ce panier n'attend pas d'approbation.")
        return "renvoye"
    # commander
    _role(roles, BUYER, APPROVER)
    if state == "soumis":
        raise _refused(
            "panier_en_approbation", "Ce panier attend une approbation : un approbateur décide."
        )
    if requires_approval and state != "approuve":
        raise _refused(
            "approbation_requise",
            "Votre organisation demande qu'un approbateur approuve chaque panier avant la "
            "commande : soumettez-le pour approbation.",
        )
    return "commande"


def state_of(cart: Mapping[str, Any]) -> str:
    """The cart's state in the rule's terms (``commande`` once checked out)."""
    return "commande" if cart["state"] == "commande" else str(cart["approval"])


def requires_approval(session: Session, organisation_id: str) -> bool:
    return organisation_repo.requires_approval(session, organisation_id)


def check_editable(
    session: Session, organisation_id: str, cart: Mapping[str, Any]
) -> dict[str, Any]:
    """An API client (or a person) changes ``cart``: refused while it awaits approval; the
    columns to write with the change (an approved cart goes back to ``brouillon``)."""
    required = requires_approval(session, organisation_id)
    if step(state_of(cart), "modifier", API_ROLES, required) != cart["approval"]:
        return {"approval": "brouillon", "decided_by": None, "decided_at": None}
    return {}


def check_orderable(session: Session, organisation_id: str, cart: Mapping[str, Any]) -> None:
    """The checkout of an open ``cart`` (API or portal): refused while it awaits approval, and
    until it is approved when the organisation requires approval."""
    step(state_of(cart), "commander", API_ROLES, requires_approval(session, organisation_id))


def approval_document(cart: Mapping[str, Any], required: bool) -> dict[str, Any]:
    """What a cart says of its approval (``cart_document``'s ``approval``)."""
    return {
        "state": state_of(cart),
        "required": required,
        "submitted_by": cart["submitted_by"],
        "submitted_at": cart["submitted_at"],
        "decided_by": cart["decided_by"],
        "decided_at": cart["decided_at"],
        "comment": cart["approval_comment"],
    }


def allowed(state: str, roles: Collection[str], required: bool) -> frozenset[str]:
    """The actions ``roles`` may take on a cart in ``state`` (which buttons a page shows)."""
    found = set()
    for action in ACTIONS:
        try:
            step(state, action, roles, required)
        except ApiError:
            continue
        found.add(action)
    return frozenset(found)


class ApprovalService:
    """The portal's approval actions on a cart, each checked by :func:`step` under the cart's
    lock; ``user_id`` is the portal user who acts (recorded on the cart)."""

    def __init__(self, carts: CartService) -> None:
        self.carts = carts
        self.factory = carts.factory

    def _move(
        self,
        organisation_id: str,
        cart_id: str,
        action: str,
        user_id: int,
        roles: Collection[str],
        comment: str | None = None,
    ) -> str:
        from .carts import _cart_row, _plan

        now = utcnow()
        with write_session(self.factory) as session:
            cart = _cart_row(session, organisation_id, cart_id, lock=True)
            required = requires_approval(session, organisation_id)
            after = step(state_of(cart), action, roles, required)
            values: dict[str, Any] = {"approval": after, "updated_at": now}
            if action == "soumettre":
                # What the approver approves must be orderable as it stands: lines, billing,
                # delivery, window (a 400 naming the field otherwise).
                _plan(session, organisation_id, cart)
                values.update(
                    submitted_by=user_id,
                    submitted_at=now,
                    decided_by=None,
                    decided_at=None,
                    approval_comment=None,
                )
            elif action in ("approuver", "renvoyer"):
                values.update(decided_by=user_id, decided_at=now, approval_comment=comment)
            elif action == "retirer":
                values.update(submitted_by=None, submitted_at=None)
            repo.update_cart(session, cart["id"], values)
            return after

    async def submit(
        self, organisation_id: str, cart_id: str, user_id: int, roles: Collection[str]
    ) -> str:
        """``soumettre``; raises :class:`ApiError`, :class:`~.carts.CartNotFound`."""
        return await asyncio.to_thread(
            self._move, organisation_id, cart_id, "soumettre", user_id, roles
        )

    async def withdraw(
        self, organisation_id: str, cart_id: str, user_id: int, roles: Collection[str]
    ) -> str:
        return await asyncio.to_thread(
            self._move, organisation_id, cart_id, "retirer", user_id, roles
        )

    async def send_back(
        self,
        organisation_id: str,
        cart_id: str,
        user_id: int,
        roles: Collection[str],
        comment: str,
    ) -> str:
        """``renvoyer`` with the approver's comment (required, 500 characters at most)."""
        comment = comment.strip()
        if not comment or len(comment) > MAX_COMMENT:
            raise ApiError(
                400,
                "commentaire_requis",
                f"Dites pourquoi le panier est renvoyé ({MAX_COMMENT} caractères au plus).",
                "comment",
            )
        return await asyncio.to_thread(
            self._move, organisation_id, cart_id, "renvoyer", user_id, roles, comment
        )

    async def approve(
        self, organisation_id: str, cart_id: str, user_id: int, roles: Collection[str]
    ) -> str:
        """``approuver``; the portal orders the cart right after (:meth:`CartService.checkout`;
        a checkout refused by its checks leaves it approved, to be ordered once corrected)."""
        return await asyncio.to_thread(
            self._move, organisation_id, cart_id, "approuver", user_id, roles
        )

    async def order(self, organisation_id: str, cart_id: str, roles: Collection[str]) -> None:
        """``commander``: the checkout, when the rule allows it for these roles."""

        def check() -> None:
            from .carts import _cart_row

            with read_session(self.factory) as session:
                cart = _cart_row(session, organisation_id, cart_id)
                step(
                    state_of(cart), "commander", roles, requires_approval(session, organisation_id)
                )

        await asyncio.to_thread(check)
        await self.carts.checkout(organisation_id, cart_id)
