"""The closed vocabularies of the Québec agri-food profile, each with its French label.

Every enumeration here is a :class:`~enum.StrEnum` whose value is the code on the wire and
whose ``label`` is what a person reads (fr-CA). ``Xxx.parse(value, path=…)`` accepts the code
in any case, with or without accents, with ``-``, ``_`` or spaces, plus a few aliases that other
Beckn tools write (``Delivery`` for ``livraison``, Beckn 1.0's ``ON-ORDER``); anything else is a
:class:`ProtocolError` with the JSON path at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar

from ..errors import ErrorCode, ProtocolError
from ._plain import shown
from .text import normalize_text

_SEPARATORS: Final = re.compile(r"[\s_-]+")


@lru_cache(maxsize=4096)
def _key(text: str) -> str:
    # Cached: vocabulary values ("ambiant", "oui", region codes) repeat in every item.
    return _SEPARATORS.sub("_", normalize_text(text)).strip("_")


_Code = TypeVar("_Code", bound="LabelledCode")


def _member(cls: type[_Code], value: str, label: str) -> _Code:
    member = str.__new__(cls, value)
    member._value_ = value
    member.label = label
    return member


class LabelledCode(StrEnum):
    """A code on the wire with a French label; subclasses list ``NAME = "code", "Libellé"``."""

    label: str

    if TYPE_CHECKING:
        # Calling the class looks a member up by its code (``Unit("kg")``); mypy would read
        # that call as one to the ``__new__`` that builds members from (code, label)
        # (python/mypy#10573), so it is shown the lookup's signature.
        def __new__(cls, value: str) -> Self: ...

    else:
        __new__ = _member

    @classmethod
    def parse(
        cls,
        value: object,
        *,
        path: str | None = None,
        error_code: ErrorCode = ErrorCode.INVALID_REQUEST,
    ) -> Self:
        """The member named by ``value``, leniently spelled; :class:`ProtocolError` otherwise."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            member = _lookup_table(cls).get(_key(value))
            if member is not None:
                return member
        expected = ", ".join(member.value for member in cls)
        noun = _NOUNS.get(cls, "code")
        raise ProtocolError(
            f"{noun.capitalize()} : valeur « {shown(value)} » inconnue ; valeurs permises : {expected}.",
            code=error_code,
            path=path,
        )


_TABLES: dict[type, dict[str, Any]] = {}
_ALIASES: dict[type, dict[str, str]] = {}
_NOUNS: dict[type, str] = {}


def describe(cls: type[LabelledCode], *, noun: str, aliases: dict[str, str] | None = None) -> None:
    """Give a vocabulary its French noun (for error messages) and extra spellings that
    :meth:`LabelledCode.parse` accepts. Kept outside the classes: in an enum body, any name
    would become a member."""
    _NOUNS[cls] = noun
    _ALIASES[cls] = dict(aliases or {})
    _TABLES.pop(cls, None)


def _lookup_table(cls: type[_Code]) -> dict[str, _Code]:
    table = _TABLES.get(cls)
    if table is None:
        table = {_key(member.value): member for member in cls}
        for alias, code in _ALIASES.get(cls, {}).items():
            table[_key(alias)] = cls(code)
        _TABLES[cls] = table
    return table


class Domain(LabelledCode):
    """The network's two domains (``context.domain``)."""

    ALIMENTS = "PLA:ALIMENTS", "Aliments"
    LOGISTIQUE = "PLA:LOGISTIQUE", "Logistique partagée (transport et entreposage)"


describe(Domain, noun="domaine")


class Certification(LabelledCode):
    """Certifications and labels buyers filter on (tag group ``certifications``).

    The Aliments du Québec family (the provincial origin brands), the organic labels recognised
    in Québec (Biologique Canada, Bio Québec, attested by a certifier such as Québec Vrai or
    Ecocert), the reserved designations of the CARTV, and the food-safety, fair-trade and
    religious certifications that institutional buyers ask for.
    """

    ALIMENTS_DU_QUEBEC = "aliments_du_quebec", "Aliments du Québec"
    ALIMENTS_DU_QUEBEC_BIO = "aliments_du_quebec_bio", "Aliments du Québec Bio"
    ALIMENTS_PREPARES_AU_QUEBEC = "aliments_prepares_au_quebec", "Aliments préparés au Québec"
    ALIMENTS_PREPARES_AU_QUEBEC_BIO = (
        "aliments_prepares_au_quebec_bio",
        "Aliments préparés au Québec Bio",
    )
    BIOLOGIQUE_CANADA = "biologique_canada", "Biologique Canada"
    BIOLOGIQUE_QUEBEC = "biologique_quebec", "Bio Québec"
    INDICATION_GEOGRAPHIQUE_PROTEGEE = (
        "indication_geographique_protegee",
        "Indication géographique protégée (IGP)",
    )
    APPELLATION_DE_SPECIFICITE = "appellation_de_specificite", "Appellation de spécificité"
    CANADAGAP = "canadagap", "CanadaGAP (salubrité à la ferme)"
    EQUITABLE = "equitable", "Équitable (Fairtrade)"
    HALAL = "halal", "Halal"
    CASHER = "casher", "Casher"

    @property
    def is_organic(self) -> bool:
        return self in _ORGANIC


_ORGANIC: Final = frozenset(
    {
        Certification.ALIMENTS_DU_QUEBEC_BIO,
        Certification.ALIMENTS_PREPARES_AU_QUEBEC_BIO,
        Certification.BIOLOGIQUE_CANADA,
        Certification.BIOLOGIQUE_QUEBEC,
    }
)
describe(
    Certification,
    noun="certification",
    aliases={
        "bio_quebec": "biologique_quebec",
        "quebec_vrai": "biologique_quebec",
        "bio_canada": "biologique_canada",
        "igp": "indication_geographique_protegee",
        "kasher": "casher",
        "kosher": "casher",
    },
)


class Conservation(LabelledCode):
    """How an item must be kept (tag group ``conservation``). The temperatures in the labels
    are the usual food-industry targets, given for people, not checked by code."""

    AMBIANT = "ambiant", "Ambiant"
    REFRIGERE = "refrigere", "Réfrigéré (4 °C ou moins)"
    CONGELE = "congele", "Congelé (−18 °C ou moins)"

    @property
    def needs_cold_chain(self) -> bool:
        """Refrigerated and frozen goods must never leave the cold chain."""
        return self is not Conservation.AMBIANT


describe(
    Conservation,
    noun="classe de conservation",
    aliases={
        "ambient": "ambiant",
        "sec": "ambiant",
        "refrigerated": "refrigere",
        "frais": "refrigere",
        "frozen": "congele",
        "surgele": "congele",
    },
)


class LegalForm(LabelledCode):
    """Legal form of a pôle (provider tag group ``forme_juridique``)."""

    OBNL = "obnl", "Organisme à but non lucratif (OBNL)"
    COOPERATIVE = "cooperative", "Coopérative"


describe(
    LegalForm,
    noun="forme juridique",
    aliases={"osbl": "obnl", "coop": "cooperative"},
)


class FulfillmentType(LabelledCode):
    """How goods reach the buyer (``fulfillment.type``)."""

    LIVRAISON = "livraison", "Livraison"
    CUEILLETTE = "cueillette", "Cueillette au pôle"
    POINT_DE_CHUTE = "point_de_chute", "Point de chute"


describe(
    FulfillmentType,
    noun="type d'exécution",
    aliases={
        "delivery": "livraison",
        "self_pickup": "cueillette",
        "pickup": "cueillette",
        "takeaway": "cueillette",
        "drop_point": "point_de_chute",
    },
)


class FulfillmentState(LabelledCode):
    """Fulfilment state codes (``fulfillment.state.descriptor.code``), ONDC spelling.

    ``Order-picked-up`` means "taken by the carrier" in a delivery and "collected by the
    customer" in a pickup: :meth:`label_for` gives the right words for each type.
    """

    PENDING = "Pending", "En attente"
    PACKED = "Packed", "Emballée"
    READY_FOR_PICKUP = "Ready-for-pickup", "Prête pour la cueillette"
    AGENT_ASSIGNED = "Agent-assigned", "Livreur assigné"
    ORDER_PICKED_UP = "Order-picked-up", "Ramassée"
    OUT_FOR_DELIVERY = "Out-for-delivery", "En cours de livraison"
    ORDER_DELIVERED = "Order-delivered", "Livrée"
    CANCELLED = "Cancelled", "Annulée"

    def label_for(self, fulfillment_type: FulfillmentType) -> str:
        """The label in the context of a fulfilment type."""
        if self is FulfillmentState.ORDER_PICKED_UP:
            if fulfillment_type is FulfillmentType.LIVRAISON:
                return "Ramassée par le livreur"
            return "Récupérée par le client"
        if self is FulfillmentState.READY_FOR_PICKUP and (
            fulfillment_type is FulfillmentType.POINT_DE_CHUTE
        ):
            return "Arrivée au point de chute"
        return self.label


describe(
    FulfillmentState,
    noun="état d'exécution",
    aliases={"canceled": "Cancelled"},
)


class PaymentType(LabelledCode):
    """When the buyer pays (``payment.type``, the Beckn 1.1 enumeration)."""

    PRE_ORDER = "PRE-ORDER", "Paiement à la commande"
    PRE_FULFILLMENT = "PRE-FULFILLMENT", "Paiement avant la livraison ou la cueillette"
    ON_FULFILLMENT = "ON-FULFILLMENT", "Paiement à la livraison ou à la cueillette"
    POST_FULFILLMENT = "POST-FULFILLMENT", "Paiement après la livraison"


# Beckn 1.0 called paying with the order ON-ORDER; 1.1 renamed it PRE-ORDER.
describe(
    PaymentType,
    noun="type de paiement",
    aliases={"ON-ORDER": "PRE-ORDER"},
)

MAX_NET_DAYS: Final = 120


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    """When the buyer pays, and for ``POST-FULFILLMENT`` within how many days (net 30).

    Institutions (CPE, schools, hospitals) usually pay by invoice after delivery, net 30:
    :data:`INSTITUTIONAL_TERMS`. ``net_days`` only makes sense after fulfilment, so it is
    refused with any other type.
    """

    type: PaymentType
    net_days: int | None = None

    def __post_init__(self) -> None:
        if self.net_days is None:
            return
        if self.type is not PaymentType.POST_FULFILLMENT:
            raise ValueError("Un délai de paiement (net) n'a de sens qu'après la livraison.")
        if isinstance(self.net_days, bool) or not 0 <= self.net_days <= MAX_NET_DAYS:
            raise ValueError(f"Délai de paiement hors limites (0 à {MAX_NET_DAYS} jours).")

    @property
    def label(self) -> str:
        if self.net_days:
            return f"Paiement à {self.net_days} jours après la livraison (net {self.net_days})"
        return self.type.label

    def due_date(self, fulfilled_on: date) -> date | None:
        """When payment is due for goods delivered on ``fulfilled_on``; ``None`` before."""
        if self.type is not PaymentType.POST_FULFILLMENT:
            return None
        return fulfilled_on + timedelta(days=self.net_days or 0)


INSTITUTIONAL_TERMS: Final = PaymentTerms(PaymentType.POST_FULFILLMENT, 30)

MONTHS: Final = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
"""French month names; ``MONTHS[m - 1]`` for month ``m``."""
