"""Regions, closed vocabularies, payment terms: codes, French labels, lenient parsing."""

from __future__ import annotations

from datetime import date

import pytest

from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.profile import (
    COUNTRY,
    INSTITUTIONAL_TERMS,
    WHOLE_PROVINCE,
    Certification,
    Conservation,
    Domain,
    FulfillmentState,
    FulfillmentType,
    LegalForm,
    PaymentTerms,
    PaymentType,
    Region,
    parse_region,
    region_label,
    region_matches,
)

OFFICIAL_NAMES = {
    1: "Bas-Saint-Laurent",
    2: "Saguenay–Lac-Saint-Jean",
    3: "Capitale-Nationale",
    4: "Mauricie",
    5: "Estrie",
    6: "Montréal",
    7: "Outaouais",
    8: "Abitibi-Témiscamingue",
    9: "Côte-Nord",
    10: "Nord-du-Québec",
    11: "Gaspésie–Îles-de-la-Madeleine",
    12: "Chaudière-Appalaches",
    13: "Laval",
    14: "Lanaudière",
    15: "Laurentides",
    16: "Montérégie",
    17: "Centre-du-Québec",
}


def test_the_seventeen_regions_with_their_official_names() -> None:
    assert len(Region) == 17
    assert {region.number: region.label for region in Region} == OFFICIAL_NAMES
    assert [region.value for region in Region] == [f"QC-{n:02d}" for n in range(1, 18)]
    assert COUNTRY == "CAN"


@pytest.mark.parametrize("code", ["QC-06", "qc-06", " QC-6 ", "QC06", Region.MONTREAL])
def test_parse_region_is_lenient_on_form(code: object) -> None:
    assert parse_region(code) is Region.MONTREAL


def test_parse_region_whole_province() -> None:
    assert parse_region("*") == WHOLE_PROVINCE
    assert region_label("*") == "Tout le Québec"
    assert region_label(Region.ESTRIE) == "Estrie"


@pytest.mark.parametrize("code", ["QC-18", "QC-00", "ON-01", "", "Montréal", 6, None])
def test_parse_region_refuses_unknown_codes_with_path_and_code(code: object) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_region(
            code, path="context.location.city.code", error_code=ErrorCode.GATEWAY_INVALID_CITY
        )
    assert caught.value.code is ErrorCode.GATEWAY_INVALID_CITY
    assert caught.value.path == "context.location.city.code"
    assert "QC-01 … QC-17" in caught.value.message


def test_parse_region_can_refuse_the_whole_province() -> None:
    with pytest.raises(ProtocolError):
        parse_region("*", allow_whole_province=False)


@pytest.mark.parametrize(
    ("served", "wanted", "expected"),
    [
        ("QC-03", "QC-03", True),
        ("QC-03", "QC-12", False),
        ("*", "QC-12", True),
        ("QC-03", "*", True),
        (["QC-03", "QC-12"], "QC-12", True),
        ([Region.LAVAL, "QC-13"], Region.MONTREAL, False),
        (["QC-99", "*"], "QC-01", True),
        ("QC-99", "QC-99", False),  # unknown codes match nothing, never raise
        ("QC-03", "std:080", False),
        ([], "QC-03", False),
        (None, "QC-03", False),
    ],
)
def test_region_matches(served: object, wanted: object, expected: bool) -> None:
    assert region_matches(served, wanted) is expected


def test_domains() -> None:
    assert [d.value for d in Domain] == ["PLA:ALIMENTS", "PLA:LOGISTIQUE"]
    assert Domain.parse("pla:aliments") is Domain.ALIMENTS


def test_every_code_has_a_french_label() -> None:
    for vocabulary in (
        Domain,
        Certification,
        Conservation,
        LegalForm,
        FulfillmentType,
        FulfillmentState,
        PaymentType,
    ):
        for member in vocabulary:
            assert member.label.strip(), member
            assert "_" not in member.label and member.label != member.value, member


def test_certifications_include_the_quebec_brands() -> None:
    assert Certification.ALIMENTS_DU_QUEBEC.label == "Aliments du Québec"
    assert Certification.ALIMENTS_PREPARES_AU_QUEBEC.label == "Aliments préparés au Québec"
    assert Certification.parse("Bio Québec") is Certification.BIOLOGIQUE_QUEBEC
    assert Certification.parse("quebec_vrai") is Certification.BIOLOGIQUE_QUEBEC
    assert Certification.BIOLOGIQUE_CANADA.is_organic
    assert not Certification.ALIMENTS_DU_QUEBEC.is_organic


def test_conservation_and_the_cold_chain() -> None:
    assert not Conservation.AMBIANT.needs_cold_chain
    assert Conservation.REFRIGERE.needs_cold_chain
    assert Conservation.CONGELE.needs_cold_chain
    assert Conservation.parse("Réfrigéré") is Conservation.REFRIGERE
    assert Conservation.parse("frozen") is Conservation.CONGELE


def test_fulfillment_types_accept_other_tools_names() -> None:
    assert FulfillmentType.parse("Delivery") is FulfillmentType.LIVRAISON
    assert FulfillmentType.parse("Self-Pickup") is FulfillmentType.CUEILLETTE
    assert FulfillmentType.parse("point de chute") is FulfillmentType.POINT_DE_CHUTE


def test_fulfillment_state_codes_and_contextual_labels() -> None:
    assert [s.value for s in FulfillmentState] == [
        "Pending",
        "Packed",
        "Ready-for-pickup",
        "Agent-assigned",
        "Order-picked-up",
        "Out-for-delivery",
        "Order-delivered",
        "Cancelled",
    ]
    assert FulfillmentState.parse("order_picked_up") is FulfillmentState.ORDER_PICKED_UP
    picked = FulfillmentState.ORDER_PICKED_UP
    assert picked.label_for(FulfillmentType.LIVRAISON) == "Ramassée par le livreur"
    assert picked.label_for(FulfillmentType.CUEILLETTE) == "Récupérée par le client"
    ready = FulfillmentState.READY_FOR_PICKUP
    assert ready.label_for(FulfillmentType.POINT_DE_CHUTE) == "Arrivée au point de chute"


def test_parse_error_lists_allowed_values() -> None:
    with pytest.raises(ProtocolError) as caught:
        LegalForm.parse("sarl", path="message.catalog.providers[0].tags[0].list[0].value")
    assert caught.value.code is ErrorCode.INVALID_REQUEST
    assert caught.value.path == "message.catalog.providers[0].tags[0].list[0].value"
    assert "obnl, cooperative" in caught.value.message
    assert "Forme juridique" in caught.value.message


def test_payment_types_are_beckn_1_1_and_read_1_0() -> None:
    assert [p.value for p in PaymentType] == [
        "PRE-ORDER",
        "PRE-FULFILLMENT",
        "ON-FULFILLMENT",
        "POST-FULFILLMENT",
    ]
    assert PaymentType.parse("ON-ORDER") is PaymentType.PRE_ORDER


def test_institutional_terms_net_30() -> None:
    assert PaymentTerms(PaymentType.POST_FULFILLMENT, 30) == INSTITUTIONAL_TERMS
    assert INSTITUTIONAL_TERMS.label == "Paiement à 30 jours après la livraison (net 30)"
    assert INSTITUTIONAL_TERMS.due_date(date(2025, 1, 15)) == date(2025, 2, 14)
    assert PaymentTerms(PaymentType.PRE_ORDER).due_date(date(2025, 1, 15)) is None
    assert PaymentTerms(PaymentType.PRE_ORDER).label == "Paiement à la commande"


@pytest.mark.parametrize(
    ("kind", "days"),
    [
        (PaymentType.PRE_ORDER, 30),
        (PaymentType.POST_FULFILLMENT, -1),
        (PaymentType.POST_FULFILLMENT, 365),
    ],
)
def test_payment_terms_refuse_nonsense(kind: PaymentType, days: int) -> None:
    with pytest.raises(ValueError):
        PaymentTerms(kind, days)


def test_error_messages_do_not_echo_huge_values() -> None:
    for call in (lambda: parse_region("Q" * 10_000), lambda: Conservation.parse("x" * 10_000)):
        with pytest.raises(ProtocolError) as caught:
            call()
        assert len(caught.value.message) < 300
        assert "…" in caught.value.message
