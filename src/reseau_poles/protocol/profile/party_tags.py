"""Tag groups of providers (pôles), fulfilments and payments.

================== ================ ======================================================
where / group      tag code         value
================== ================ ======================================================
provider           ``forme``        ``obnl`` | ``cooperative``
forme_juridique    ``neq``          Québec enterprise number, 10 digits (optional)
provider           ``code``         the pôle's home region, ``QC-01`` … ``QC-17``
region             ``desservies``   regions served, ``QC-03,QC-12`` or ``*`` (optional;
                                    absent = the home region only)
fulfilment         ``refrigere``    ``oui`` if refrigerated goods stay cold (0–4 °C)
chaine_froid       ``congele``      ``oui`` if frozen goods stay frozen
                   ``maintenue``    shorthand: ``oui`` = both, ``non`` = neither; explicit
                                    ``refrigere``/``congele`` tags win over it
payment            ``delai_jours``  days to pay after fulfilment (``POST-FULFILLMENT``
conditions_paiement                 only), e.g. ``30`` for net 30
fulfilment         ``delai_heures`` lead time, delivery days and hours, longest window,
modalites          ``jours`` …      minimum order: see :mod:`.delivery_window`
order              ``numero``       the buyer's purchase-order number, ``BC-2026-0042``
bon_de_commande                     (1 to 64 characters), which the pôle's invoice repeats
================== ================ ======================================================

A fulfilment without a ``chaine_froid`` group keeps no cold chain: a pôle that offers pickup
from its cold room tags its ``cueillette`` fulfilment like a refrigerated truck.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from ..errors import ErrorCode, ProtocolError
from ._plain import as_mapping, shown, yes_no
from .item_tags import one_region
from .regions import WHOLE_PROVINCE, Region, RegionCode, parse_region, region_matches
from .tags import FoundGroup, collect, flag_value, tag, tag_group, text_value
from .vocabulary import Conservation, LegalForm, PaymentTerms, PaymentType

FORME_JURIDIQUE: Final = "forme_juridique"
REGION: Final = "region"
CHAINE_FROID: Final = "chaine_froid"
CONDITIONS_PAIEMENT: Final = "conditions_paiement"
BON_DE_COMMANDE: Final = "bon_de_commande"
PURCHASE_ORDER_MAX_LENGTH: Final = 64

_NEQ: Final = re.compile(r"\d{10}")
_COLD: Final = (Conservation.REFRIGERE, Conservation.CONGELE)


@dataclass(frozen=True, slots=True)
class ProviderTags:
    """What a pôle's tag groups say about it."""

    legal_form: LegalForm | None = None
    neq: str | None = None
    region: Region | None = None
    served: tuple[RegionCode, ...] | None = None

    @property
    def served_regions(self) -> tuple[RegionCode, ...]:
        """Regions served: the ``desservies`` list, else the home region, else none known."""
        if self.served is not None:
            return self.served
        return (self.region,) if self.region is not None else ()

    def serves(self, wanted: object) -> bool:
        return region_matches(self.served_regions, wanted)

    def to_tags(self) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = []
        if self.legal_form is not None:
            groups.append(legal_form_group(self.legal_form, neq=self.neq))
        if self.region is not None:
            groups.append(region_group(self.region, served=self.served))
        return groups


@dataclass(frozen=True, slots=True)
class FulfillmentTags:
    """What a fulfilment's tag groups say: the storage classes it keeps."""

    cold_chain: frozenset[Conservation] = field(default_factory=frozenset)

    def keeps(self, conservation: Conservation) -> bool:
        """Whether goods of this class stay in their conditions (ambient goods always do)."""
        return not conservation.needs_cold_chain or conservation in self.cold_chain

    def to_tags(self) -> list[dict[str, Any]]:
        return [cold_chain_group(self.cold_chain)] if self.cold_chain else []


# --- builders ----------------------------------------------------------------------------


def legal_form_group(form: LegalForm | str, *, neq: str | None = None) -> dict[str, Any]:
    """``forme_juridique``: OBNL or cooperative, and the NEQ if given."""
    value = LegalForm.parse(form)
    tags = [tag("forme", value.value, name="Forme")]
    if neq is not None:
        if not _NEQ.fullmatch(neq):
            raise ValueError("Le NEQ compte 10 chiffres.")
        tags.append(tag("neq", neq, name="Numéro d'entreprise du Québec (NEQ)"))
    return tag_group(FORME_JURIDIQUE, tags, name="Forme juridique")


def region_group(
    region: Region | str, *, served: Iterable[RegionCode | str] | None = None
) -> dict[str, Any]:
    """``region``: the pôle's home region and, optionally, the regions it serves."""
    home = parse_region(region, allow_whole_province=False)
    tags = [tag("code", home, name="Région")]
    if served is not None:
        codes = _served_codes(served)
        tags.append(tag("desservies", ",".join(codes), name="Régions desservies"))
    return tag_group(REGION, tags, name="Région")


def _served_codes(served: Iterable[RegionCode | str]) -> list[str]:
    codes = {str(parse_region(code)) for code in served}
    if not codes:
        raise ValueError("Au moins une région desservie.")
    return [WHOLE_PROVINCE] if WHOLE_PROVINCE in codes else sorted(codes)


def cold_chain_group(kept: Iterable[Conservation | str] | bool) -> dict[str, Any]:
    """``chaine_froid``: which cold classes the fulfilment keeps (``True`` = both)."""
    if isinstance(kept, bool):
        classes = set(_COLD) if kept else set()
    else:
        classes = {Conservation.parse(value) for value in kept}
    tags = [tag("maintenue", yes_no(bool(classes & set(_COLD))), name="Chaîne de froid")]
    tags += [tag(c.value, yes_no(c in classes), name=c.label) for c in _COLD]
    return tag_group(CHAINE_FROID, tags, name="Chaîne de froid")


def payment_terms_group(terms: PaymentTerms) -> dict[str, Any] | None:
    """``conditions_paiement`` for ``payment.tags``, or ``None`` when there is no net delay."""
    if terms.net_days is None:
        return None
    return tag_group(
        CONDITIONS_PAIEMENT,
        [tag("delai_jours", str(terms.net_days), name="Délai de paiement (jours)")],
        name=terms.label,
    )


def payment(terms: PaymentTerms) -> dict[str, Any]:
    """A Beckn 1.1 ``Payment`` fragment: its ``type`` and, for net terms, its tags."""
    result: dict[str, Any] = {"type": terms.type.value}
    group = payment_terms_group(terms)
    if group is not None:
        result["tags"] = [group]
    return result


def purchase_order_group(number: str) -> dict[str, Any]:
    """``bon_de_commande`` for ``order.tags``: the buyer's purchase-order number."""
    text = number.strip()
    if not 0 < len(text) <= PURCHASE_ORDER_MAX_LENGTH:
        raise ValueError(f"Numéro de bon de commande : 1 à {PURCHASE_ORDER_MAX_LENGTH} caractères.")
    return tag_group(BON_DE_COMMANDE, [tag("numero", text, name="Numéro")], name="Bon de commande")


# --- readers -----------------------------------------------------------------------------


def parse_provider_tags(
    tags: Any, *, path: str = "tags", error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> ProviderTags:
    """Read ``forme_juridique`` and ``region`` from a provider's ``tags``."""
    found = collect(tags, [FORME_JURIDIQUE, REGION], path=path, error_code=error_code)
    legal_form, neq = _legal_form(found.get(FORME_JURIDIQUE), error_code)
    region, served = _region(found.get(REGION), error_code)
    return ProviderTags(legal_form=legal_form, neq=neq, region=region, served=served)


def _legal_form(
    group: FoundGroup | None, error_code: ErrorCode
) -> tuple[LegalForm | None, str | None]:
    if group is None:
        return None, None
    form_tag = group.require("forme", error_code=error_code)
    form = LegalForm.parse(form_tag.value, path=form_tag.path, error_code=error_code)
    neq_tag = group.single("neq", error_code=error_code)
    neq = None
    if neq_tag is not None:
        neq = text_value(neq_tag, error_code=error_code).replace(" ", "")
        if not _NEQ.fullmatch(neq):
            raise ProtocolError(
                f"NEQ invalide « {shown(neq_tag.value)} » : 10 chiffres attendus.",
                code=error_code,
                path=neq_tag.path,
            )
    return form, neq


def _region(
    group: FoundGroup | None, error_code: ErrorCode
) -> tuple[Region | None, tuple[RegionCode, ...] | None]:
    if group is None:
        return None, None
    home = one_region(group.require("code", error_code=error_code), error_code)
    served_tag = group.single("desservies", error_code=error_code)
    if served_tag is None:
        return home, None
    text = text_value(served_tag, error_code=error_code)
    codes = [part for part in re.split(r"[\s,;]+", text) if part]
    served = tuple(
        parse_region(code, path=served_tag.path, error_code=error_code) for code in codes
    )
    if WHOLE_PROVINCE in served:
        served = (WHOLE_PROVINCE,)
    return home, tuple(dict.fromkeys(served))


def parse_fulfillment_tags(
    tags: Any, *, path: str = "tags", error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> FulfillmentTags:
    """Read ``chaine_froid`` from a fulfilment's ``tags``."""
    found = collect(tags, [CHAINE_FROID], path=path, error_code=error_code)
    group = found.get(CHAINE_FROID)
    if group is None:
        return FulfillmentTags()
    kept: set[Conservation] = set()
    overall = group.single("maintenue", error_code=error_code)
    if overall is not None and flag_value(overall, error_code=error_code):
        kept.update(_COLD)
    for conservation in _COLD:
        explicit = group.single(conservation.value, error_code=error_code)
        if explicit is None:
            continue
        if flag_value(explicit, error_code=error_code):
            kept.add(conservation)
        else:
            kept.discard(conservation)
    return FulfillmentTags(frozenset(kept))


def parse_payment_terms(
    payment_obj: Any,
    *,
    path: str = "payment",
    error_code: ErrorCode = ErrorCode.INVALID_REQUEST,
) -> PaymentTerms:
    """Payment terms from a Beckn ``Payment``: its ``type`` and ``conditions_paiement``."""
    data = as_mapping(payment_obj)
    if data is None:
        raise ProtocolError("Objet de paiement attendu.", code=error_code, path=path)
    kind = PaymentType.parse(data.get("type"), path=f"{path}.type", error_code=error_code)
    found = collect(
        data.get("tags"), [CONDITIONS_PAIEMENT], path=f"{path}.tags", error_code=error_code
    )
    group = found.get(CONDITIONS_PAIEMENT)
    days_tag = group.single("delai_jours", error_code=error_code) if group else None
    if days_tag is None:
        return PaymentTerms(kind)
    text = days_tag.value.strip() if isinstance(days_tag.value, str) else ""
    if not (text.isascii() and text.isdigit()):
        raise ProtocolError(
            f"Délai de paiement illisible « {shown(days_tag.value)} » : nombre entier de jours attendu.",
            code=error_code,
            path=days_tag.path,
        )
    try:
        return PaymentTerms(kind, int(text))
    except ValueError as exc:
        raise ProtocolError(str(exc), code=error_code, path=days_tag.path) from None


def parse_purchase_order(
    tags: Any, *, path: str = "tags", error_code: ErrorCode = ErrorCode.INVALID_REQUEST
) -> str | None:
    """The purchase-order number of an order's ``tags`` (``bon_de_commande``), or ``None``."""
    group = collect(tags, [BON_DE_COMMANDE], path=path, error_code=error_code).get(BON_DE_COMMANDE)
    if group is None:
        return None
    number = text_value(group.require("numero", error_code=error_code), error_code=error_code)
    if len(number) > PURCHASE_ORDER_MAX_LENGTH:
        raise ProtocolError(
            f"Numéro de bon de commande trop long ({len(number)} caractères ; au plus "
            f"{PURCHASE_ORDER_MAX_LENGTH}).",
            code=error_code,
            path=group.require("numero", error_code=error_code).path,
        )
    return number
