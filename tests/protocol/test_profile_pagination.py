"""The profile's pages of a search: groups ``resultats`` (on_search, per provider) and
``pagination`` (search intent) read back what was written, and bad values are refused with
the JSON path of the value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.profile import (
    Page,
    ProviderResults,
    parse_page,
    parse_region_name,
    parse_results,
)
from reseau_poles.protocol.profile.pagination import MAX_SIZE, MAX_START
from reseau_poles.protocol.profile.regions import Region

counts = st.integers(min_value=0, max_value=10**6)


@given(total=counts, shown=counts, start=counts, more=st.booleans(), other=st.booleans())
def test_results_read_back(total: int, shown: int, start: int, more: bool, other: bool) -> None:
    written = ProviderResults(total=total, shown=shown, start=start, more=more)
    foreign = {"descriptor": {"code": "autre"}, "list": [{"descriptor": {"code": "x"}}]}
    tags = [foreign, written.to_group()] if other else [written.to_group()]
    assert parse_results(tags, path="p.tags") == written
    assert written.end == start + shown


@given(
    start=st.integers(0, MAX_START),
    size=st.one_of(st.none(), st.integers(1, MAX_SIZE)),
)
def test_pages_read_back(start: int, size: int | None) -> None:
    assert parse_page([Page(start, size).to_group()]) == Page(start, size)


def test_absent_groups_read_as_none() -> None:
    assert parse_page([]) is None and parse_results(None) is None


@pytest.mark.parametrize(
    ("code", "value"),
    [("debut", "-1"), ("debut", "deux"), ("debut", str(MAX_START + 1)), ("taille", "0")],
)
def test_bad_pages_name_the_value(code: str, value: str) -> None:
    group = Page(0, 5).to_group()
    for tag in group["list"]:
        if tag["descriptor"]["code"] == code:
            tag["value"] = value
    with pytest.raises(ProtocolError) as refused:
        parse_page([{"descriptor": {"code": "x"}}, group], path="message.intent.tags")
    index = 0 if code == "debut" else 1
    assert refused.value.path == f"message.intent.tags[1].list[{index}].value"


@given(region=st.sampled_from(list(Region)), data=st.data())
def test_regions_by_name_whatever_the_case_accents_and_dashes(
    region: Region, data: st.DataObject
) -> None:
    name = region.label
    typed = data.draw(
        st.sampled_from(
            [name, name.upper(), name.lower(), name.replace("–", "-"), name.replace("-", " ")]
        )
    )
    assert parse_region_name(typed) == region
    assert parse_region_name(region.value) == region
    with pytest.raises(ProtocolError):
        parse_region_name(typed + " du Nord", path="region")
