"""Tag groups of the profile: shape, round trips, unknowns ignored, precise error paths."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.profile import (
    INSTITUTIONAL_TERMS,
    Certification,
    Conservation,
    EnglishText,
    FulfillmentTags,
    ItemTags,
    LegalForm,
    Origin,
    PaymentTerms,
    PaymentType,
    ProviderTags,
    Region,
    certifications_group,
    cold_chain_group,
    conservation_group,
    english_group,
    legal_form_group,
    origin_group,
    parse_certifications,
    parse_conservation,
    parse_english,
    parse_fulfillment_tags,
    parse_item_tags,
    parse_months,
    parse_origin,
    parse_payment_terms,
    parse_provider_tags,
    parse_season,
    parse_taxable,
    payment,
    region_group,
    season_group,
    taxes_group,
)

ITEM = "message.catalog.providers[0].items[3].tags"


class FakeModel:
    """Stands for the pydantic models: anything with ``model_dump()``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.calls: list[dict[str, Any]] = []

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return self.data


def group(code: str, *tags: tuple[str, Any]) -> dict[str, Any]:
    return {
        "descriptor": {"code": code},
        "list": [{"descriptor": {"code": c}, "value": v} for c, v in tags],
    }


# --- the wire shape ----------------------------------------------------------------------


def test_certifications_group_shape() -> None:
    built = certifications_group(["aliments_du_quebec", Certification.BIOLOGIQUE_CANADA])
    assert built == {
        "descriptor": {"code": "certifications", "name": "Certifications"},
        "list": [
            {
                "descriptor": {"code": "aliments_du_quebec", "name": "Aliments du Québec"},
                "value": "oui",
            },
            {
                "descriptor": {"code": "biologique_canada", "name": "Biologique Canada"},
                "value": "oui",
            },
        ],
    }


def test_builders_write_plain_strings() -> None:
    groups = [
        conservation_group(Conservation.CONGELE),
        origin_group(producer="Ferme Lune", region=Region.ESTRIE, municipality="Compton"),
        taxes_group(True),
        season_group([9, 7, 8]),
        english_group(name="Maple syrup"),
        legal_form_group("coop", neq="1170000000"),
        region_group("QC-03", served=["QC-12", Region.CAPITALE_NATIONALE]),
        cold_chain_group(True),
    ]
    for built in groups:
        for entry in built["list"]:
            assert type(entry["value"]) is str
            assert type(entry["descriptor"]["code"]) is str
    assert groups[1]["list"][1]["value"] == "QC-05"
    assert groups[3]["list"][0]["value"] == "7,8,9"
    assert groups[3]["descriptor"]["name"] == "Saison : juillet, août, septembre"
    assert groups[4]["display"] is False
    assert groups[6]["list"][1]["value"] == "QC-03,QC-12"


def test_builders_refuse_local_mistakes() -> None:
    with pytest.raises(ValueError):
        season_group([0, 13])
    with pytest.raises(ValueError):
        season_group([])
    with pytest.raises(ValueError):
        origin_group()
    with pytest.raises(ValueError):
        english_group()
    with pytest.raises(ValueError):
        legal_form_group(LegalForm.OBNL, neq="12")
    with pytest.raises(ProtocolError):
        origin_group(region="*")


# --- reading -----------------------------------------------------------------------------

item_tags_strategy = st.builds(
    ItemTags,
    certifications=st.frozensets(st.sampled_from(list(Certification))),
    conservation=st.none() | st.sampled_from(list(Conservation)),
    origin=st.none()
    | st.builds(
        Origin,
        producer=st.none() | st.sampled_from(["Ferme Lune", "Les Jardins d'Ève"]),
        region=st.sampled_from(list(Region)),
        municipality=st.none() | st.just("Saint-Jean-Port-Joli"),
    ),
    taxable=st.none() | st.booleans(),
    months=st.none() | st.frozensets(st.integers(1, 12), min_size=1),
    english=st.none()
    | st.builds(EnglishText, name=st.just("Strawberries"), short_desc=st.none() | st.just("Red")),
)


@given(item_tags_strategy)
def test_item_tags_round_trip(tags: ItemTags) -> None:
    assert parse_item_tags(tags.to_tags()) == tags


@given(
    st.builds(
        ProviderTags,
        legal_form=st.none() | st.sampled_from(list(LegalForm)),
        neq=st.none() | st.just("1145678901"),
        region=st.none() | st.sampled_from(list(Region)),
        served=st.none(),
    ).filter(lambda p: p.legal_form is not None or p.neq is None)
)
def test_provider_tags_round_trip(tags: ProviderTags) -> None:
    assert parse_provider_tags(tags.to_tags()) == tags


@pytest.mark.parametrize(
    "kept",
    [
        frozenset(),
        frozenset({Conservation.REFRIGERE}),
        frozenset(Conservation) - {Conservation.AMBIANT},
    ],
)
def test_fulfillment_tags_round_trip(kept: frozenset[Conservation]) -> None:
    assert parse_fulfillment_tags(FulfillmentTags(kept).to_tags()) == FulfillmentTags(kept)


def test_models_are_dumped_not_imported() -> None:
    model = FakeModel(group("conservation", ("classe", "congele")))
    assert parse_conservation([model]) is Conservation.CONGELE
    assert model.calls == [{"by_alias": True, "exclude_none": True}]


def test_nested_models_are_dumped_too() -> None:
    tag = FakeModel({"descriptor": {"code": "taxable"}, "value": "non"})
    holder = FakeModel({"descriptor": {"code": "taxes"}, "list": [tag]})
    assert parse_taxable([holder]) is False


def test_absent_groups_say_nothing() -> None:
    assert parse_item_tags(None) == ItemTags()
    assert parse_item_tags([]) == ItemTags()
    assert parse_taxable([group("autre", ("x", "y"))]) is None
    assert parse_fulfillment_tags(None).cold_chain == frozenset()
    assert parse_provider_tags(None) == ProviderTags()


def test_unknown_groups_and_tags_are_ignored() -> None:
    tags = [
        {"descriptor": {"code": "ondc:fulfillment"}, "list": "not even a list"},
        {"list": [{"value": 42}]},  # no code at all
        group(
            "certifications",
            ("aliments_du_quebec", "oui"),
            ("label_rouge", "peut-être"),  # unknown certification: skipped, value unread
            ("biologique_canada", "non"),
        ),
        group("conservation", ("classe", "refrigere"), ("temperature_max", "n'importe quoi")),
    ]
    parsed = parse_item_tags(tags, path=ITEM)
    assert parsed.certifications == {Certification.ALIMENTS_DU_QUEBEC}
    assert parsed.conservation is Conservation.REFRIGERE


def test_group_codes_are_case_insensitive_and_repeated_groups_merge() -> None:
    tags = [
        group("CERTIFICATIONS", ("aliments_du_quebec", "OUI")),
        group("certifications", ("halal", "true")),
    ]
    assert parse_certifications(tags) == {Certification.ALIMENTS_DU_QUEBEC, Certification.HALAL}


@pytest.mark.parametrize(
    ("tags", "path"),
    [
        (
            [group("autre"), group("conservation", ("classe", "tiede"))],
            f"{ITEM}[1].list[0].value",
        ),
        (
            [group("certifications", ("halal", "oui"), ("aliments_du_quebec", "bof"))],
            f"{ITEM}[0].list[1].value",
        ),
        ([group("taxes", ("taxable", True))], f"{ITEM}[0].list[0].value"),
        ([group("taxes", ("taxable", None))], f"{ITEM}[0].list[0].value"),
        ([group("saison", ("mois", "13"))], f"{ITEM}[0].list[0].value"),
        ([group("saison", ("mois", "été"))], f"{ITEM}[0].list[0].value"),
        (
            [group("origine", ("producteur", "Ferme"), ("region", "QC-20"))],
            f"{ITEM}[0].list[1].value",
        ),
        ([group("origine", ("region", "*"))], f"{ITEM}[0].list[0].value"),
        ([group("origine", ("producteur", "  "))], f"{ITEM}[0].list[0].value"),
        ([group("langue_en", ("name", 7))], f"{ITEM}[0].list[0].value"),
        ([group("conservation", ("autre", "x"))], f"{ITEM}[0].list"),  # classe missing
        ([group("taxes")], f"{ITEM}[0].list"),
        ([{"descriptor": {"code": "taxes"}, "list": {"taxable": "oui"}}], f"{ITEM}[0].list"),
        ([{"descriptor": {"code": "taxes"}, "list": ["oui"]}], f"{ITEM}[0].list[0]"),
        (["taxes"], f"{ITEM}[0]"),
        ({"taxes": "oui"}, ITEM),
        (
            [group("taxes", ("taxable", "oui")), group("taxes", ("taxable", "non"))],
            f"{ITEM}[1].list[0].value",
        ),
    ],
)
def test_bad_values_raise_with_precise_paths(tags: Any, path: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_item_tags(tags, path=ITEM)
    assert caught.value.path == path
    assert caught.value.code is ErrorCode.INVALID_REQUEST
    assert caught.value.message


def test_error_code_is_the_callers() -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_item_tags(
            [group("conservation", ("classe", "tiede"))],
            path=ITEM,
            error_code=ErrorCode.BUYER_INVALID_CATALOG,
        )
    assert caught.value.code is ErrorCode.BUYER_INVALID_CATALOG


def test_repeated_tag_with_the_same_value_is_fine() -> None:
    tags = [group("taxes", ("taxable", "oui"), ("taxable", "oui"))]
    assert parse_taxable(tags) is True


def test_origin_and_english() -> None:
    tags = [
        group("origine", ("producteur", " Érablière du Lac "), ("region", "qc-2")),
        group("langue_en", ("name", "Maple syrup"), ("long_desc", "Amber, rich taste")),
    ]
    assert parse_origin(tags) == Origin("Érablière du Lac", Region.SAGUENAY_LAC_SAINT_JEAN)
    assert parse_english(tags) == EnglishText("Maple syrup", None, "Amber, rich taste")
    assert parse_origin([group("origine", ("pays", "CAN"))]) is None


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("7,8,9", {7, 8, 9}),
        ("6-9", {6, 7, 8, 9}),
        ("6 – 9", {6, 7, 8, 9}),
        ("11-3", {11, 12, 1, 2, 3}),
        ("5, 9-10", {5, 9, 10}),
        ("1 2 3", {1, 2, 3}),
        ("*", set(range(1, 13))),
        ("4-4", {4}),
    ],
)
def test_season_forms(text: str, months: set[int]) -> None:
    assert parse_months(text) == months
    assert parse_season([group("saison", ("mois", text))]) == months


@pytest.mark.parametrize("text", ["", "0", "13", "123", "7-", "-3", "juillet", "7;x"])
def test_bad_season_forms(text: str) -> None:
    assert parse_months(text) is None


def test_item_tags_helpers() -> None:
    tags = ItemTags(conservation=Conservation.CONGELE, months=frozenset({12, 1}))
    assert tags.needs_cold_chain
    assert tags.available_in(1) and not tags.available_in(7)
    assert ItemTags().available_in(7)
    assert not ItemTags(conservation=Conservation.AMBIANT).needs_cold_chain


# --- providers, fulfilments, payments ----------------------------------------------------


def test_provider_tags() -> None:
    tags = [legal_form_group(LegalForm.OBNL), region_group(Region.MAURICIE, served=["*", "QC-04"])]
    parsed = parse_provider_tags(tags, path="message.catalog.providers[0].tags")
    assert parsed.legal_form is LegalForm.OBNL
    assert parsed.region is Region.MAURICIE
    assert parsed.served == ("*",)
    assert parsed.serves("QC-11")
    only_home = parse_provider_tags([region_group("QC-04")])
    assert only_home.served_regions == (Region.MAURICIE,)
    assert only_home.serves(Region.MAURICIE) and not only_home.serves("QC-05")
    assert not ProviderTags().serves("QC-04")


@pytest.mark.parametrize(
    ("tags", "path"),
    [
        ([group("forme_juridique", ("forme", "sarl"))], "p.tags[0].list[0].value"),
        ([group("forme_juridique", ("neq", "1234567890"))], "p.tags[0].list"),
        (
            [group("forme_juridique", ("forme", "obnl"), ("neq", "12-34"))],
            "p.tags[0].list[1].value",
        ),
        ([group("region", ("code", "*"))], "p.tags[0].list[0].value"),
        (
            [group("region", ("code", "QC-01"), ("desservies", "QC-01,QC-42"))],
            "p.tags[0].list[1].value",
        ),
    ],
)
def test_provider_tag_errors(tags: Any, path: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_provider_tags(tags, path="p.tags")
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("tags", "kept"),
    [
        ([group("chaine_froid", ("maintenue", "oui"))], {"refrigere", "congele"}),
        ([group("chaine_froid", ("maintenue", "non"))], set()),
        ([group("chaine_froid", ("refrigere", "oui"))], {"refrigere"}),
        (
            [group("chaine_froid", ("maintenue", "oui"), ("congele", "non"))],
            {"refrigere"},
        ),
        ([cold_chain_group([Conservation.CONGELE])], {"congele"}),
        ([cold_chain_group(False)], set()),
    ],
)
def test_cold_chain_tags(tags: Any, kept: set[str]) -> None:
    parsed = parse_fulfillment_tags(tags)
    assert {c.value for c in parsed.cold_chain} == kept
    assert parsed.keeps(Conservation.AMBIANT)


def test_cold_chain_tag_error_path() -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_fulfillment_tags(
            [group("chaine_froid", ("refrigere", "parfois"))],
            path="message.order.fulfillments[0].tags",
        )
    assert caught.value.path == "message.order.fulfillments[0].tags[0].list[0].value"


def test_payment_terms_round_trip() -> None:
    wire = payment(INSTITUTIONAL_TERMS)
    assert wire["type"] == "POST-FULFILLMENT"
    assert wire["tags"][0]["list"][0]["value"] == "30"
    assert parse_payment_terms(wire) == INSTITUTIONAL_TERMS
    assert payment(PaymentTerms(PaymentType.PRE_ORDER)) == {"type": "PRE-ORDER"}
    assert parse_payment_terms({"type": "ON-ORDER"}) == PaymentTerms(PaymentType.PRE_ORDER)


@pytest.mark.parametrize(
    ("obj", "path"),
    [
        ({"type": "LATER"}, "message.order.payments[0].type"),
        ({}, "message.order.payments[0].type"),
        (
            {
                "type": "POST-FULFILLMENT",
                "tags": [group("conditions_paiement", ("delai_jours", "30j"))],
            },
            "message.order.payments[0].tags[0].list[0].value",
        ),
        (
            {"type": "PRE-ORDER", "tags": [group("conditions_paiement", ("delai_jours", "30"))]},
            "message.order.payments[0].tags[0].list[0].value",
        ),
        (
            {
                "type": "POST-FULFILLMENT",
                "tags": [group("conditions_paiement", ("delai_jours", "999"))],
            },
            "message.order.payments[0].tags[0].list[0].value",
        ),
        ("PRE-ORDER", "message.order.payments[0]"),
    ],
)
def test_payment_terms_errors(obj: Any, path: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_payment_terms(obj, path="message.order.payments[0]")
    assert caught.value.path == path


def test_with_the_pydantic_models_when_present() -> None:
    models = pytest.importorskip("reseau_poles.protocol.models")
    from reseau_poles.protocol.lifecycle import cancellation_terms
    from reseau_poles.protocol.profile import FulfillmentType

    tags = ItemTags(
        certifications=frozenset({Certification.ALIMENTS_DU_QUEBEC}),
        conservation=Conservation.REFRIGERE,
        origin=Origin("Ferme Lune", Region.ESTRIE),
        taxable=True,
        months=frozenset({6, 7}),
        english=EnglishText("Cheese curds"),
    )
    groups = [models.TagGroup.model_validate(group) for group in tags.to_tags()]
    assert parse_item_tags(groups) == tags
    provider = ProviderTags(LegalForm.COOPERATIVE, None, Region.LAVAL, ("QC-06", "QC-13"))
    groups = [models.TagGroup.model_validate(group) for group in provider.to_tags()]
    assert parse_provider_tags(groups) == provider
    wire = models.Payment.model_validate(payment(INSTITUTIONAL_TERMS))
    assert parse_payment_terms(wire) == INSTITUTIONAL_TERMS
    for term in cancellation_terms(FulfillmentType.LIVRAISON):
        models.CancellationTerm.model_validate(term)
