"""The words of the life cycle: the request actions, the phases of a transaction, Beckn's
``Order.status``, who cancels and what cancelling costs."""

from __future__ import annotations

from enum import StrEnum

from ..errors import ProtocolError
from ..profile.vocabulary import LabelledCode, describe


class Action(LabelledCode):
    """The request actions of Beckn 1.1 (``context.action``)."""

    SEARCH = "search", "recherche"
    SELECT = "select", "sélection"
    INIT = "init", "initialisation"
    CONFIRM = "confirm", "confirmation"
    STATUS = "status", "demande d'état"
    TRACK = "track", "suivi de livraison"
    UPDATE = "update", "modification"
    CANCEL = "cancel", "annulation"
    RATING = "rating", "évaluation"
    SUPPORT = "support", "demande de soutien"


class Phase(LabelledCode):
    """Where a transaction stands."""

    NEW = "new", "Nouvelle transaction"
    SEARCHING = "searching", "Recherche"
    SELECTED = "selected", "Sélection (devis)"
    INITIALIZED = "initialized", "Initialisation (conditions)"
    CONFIRMED = "confirmed", "Commande confirmée"
    COMPLETED = "completed", "Commande terminée"
    CANCELLED = "cancelled", "Commande annulée"


class OrderStatus(LabelledCode):
    """``Order.status`` of Beckn 1.1."""

    ACTIVE = "ACTIVE", "En cours"
    COMPLETE = "COMPLETE", "Terminée"
    CANCELLED = "CANCELLED", "Annulée"


describe(Action, noun="action")
describe(Phase, noun="étape")
describe(OrderStatus, noun="statut de commande")


class Canceller(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"


class CancellationPolicy(StrEnum):
    """What cancelling a fulfilment in a given state costs the buyer."""

    FREE = "free"
    WITH_FEE = "with_fee"
    REFUSED = "refused"


def parse_action(name: object, *, path: str = "context.action") -> tuple[Action, bool]:
    """``(action, is_callback)`` from ``"select"`` or ``"on_select"``."""
    text = name.strip() if isinstance(name, str) else ""
    callback = text.startswith("on_")
    try:
        return Action.parse(text[3:] if callback else text, path=path), callback
    except ProtocolError:
        raise ProtocolError(f"Action inconnue « {name} ».", path=path) from None
