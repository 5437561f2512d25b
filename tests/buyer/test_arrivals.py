"""The search's cards kept in order as answers arrive (:class:`Arrivals`, no I/O): after each
answer, the list a page holds (its cards placed where each answer said) is the list
:func:`offer_cards` makes of every answer so far — the same cards, in the same order, within
the same limit — whatever the pôles, the pages they send, the items they send again, the
sort and the words."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reseau_poles.buyer.services.intent import merge
from reseau_poles.buyer.services.offer_cards import Arrivals, Placement, offer_cards
from reseau_poles.buyer.services.results import parse_result_query

NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
NAMES = ("Sirop d'érable", "Sirop de bouleau", "Fromage en grains", "Pommes Cortland", None)
QUERIES = (
    [],
    [("sort", "price")],
    [("sort", "-price")],
    [("sort", "name")],
    [("sort", "unit_price"), ("unit", "kg")],
    [("sort", "relevance")],
    [("unit", "kg"), ("max_unit_price", "5")],
)


def item(item_id: str, name: str | None, price: int | None, kilos: int) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": item_id,
        "quantity": {"unitized": {"measure": {"unit": "kg", "value": str(kilos)}}},
    }
    if name is not None:
        found["descriptor"] = {"name": name}
    if price is not None:
        found["price"] = {"currency": "CAD", "value": f"{price}.00"}
    return found


rows = st.lists(
    st.tuples(
        st.sampled_from(["vendeur-a", "vendeur-b"]),
        st.sampled_from(["pole-1", "pole-2", "pole-3"]),
        st.lists(
            st.builds(
                item,
                st.sampled_from([f"article-{n}" for n in range(8)]),
                st.sampled_from(NAMES),
                st.one_of(st.none(), st.integers(1, 20)),
                st.integers(1, 3),
            ),
            max_size=6,
        ),
    ),
    min_size=1,
    max_size=3,
)


def row(bpp_id: str, pole: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "bpp_id": bpp_id,
        "bpp_uri": f"https://{bpp_id}.example",
        "provider_id": pole,
        "provider": {"id": pole, "descriptor": {"name": f"Pôle {pole}"}},
        "items": items,
    }


def placed(page: list[str], placement: Placement) -> list[str]:
    """What a page does with a placement: drop the removed cards, insert each run after its
    card (or at the top)."""
    page = [key for key in page if key not in set(placement.removed)]
    for after, cards in placement.runs:
        at = 0 if after is None else page.index(after) + 1
        page[at:at] = [card["key"] for card in cards]
    return page


@settings(max_examples=300, deadline=None)
@given(
    answers=st.lists(rows, min_size=1, max_size=5),
    query=st.sampled_from(QUERIES),
    text=st.sampled_from([None, "sirop", "sirop d'érable", "pommes"]),
    limit=st.sampled_from([3, 7, 200]),
    drawn=st.one_of(st.none(), st.integers(0, 4)),
)
def test_the_list_is_always_what_every_answer_so_far_makes(
    answers: list[list[tuple[str, str, list[dict[str, Any]]]]],
    query: list[tuple[str, str]],
    text: str | None,
    limit: int,
    drawn: int | None,
) -> None:
    """``drawn``: the page drew only that many cards of the first answer (the rest comes
    with the stream's first event, :meth:`Arrivals.reveal`)."""
    parsed = parse_result_query(query)
    arrivals = Arrivals(parsed, text, limit)
    page: list[str] = []
    stored: list[dict[str, Any]] = []
    if drawn is not None:
        first = [row(*parts) for parts in answers.pop(0)]
        stored += first
        arrivals.add(merge(first), NOW)
        arrivals.hide_after(drawn)
        page = arrivals.keys
        assert len(page) <= drawn
        page = placed(page, arrivals.reveal(NOW))
        cards, _ = offer_cards(merge(stored), parsed, text=text, now=NOW, limit=limit)
        assert page == arrivals.keys == [card["key"] for card in cards]
    for answer in answers:
        mine = [row(*parts) for parts in answer]
        stored += mine
        placement = arrivals.add(merge(mine), NOW)
        page = placed(page, placement)
        cards, total = offer_cards(merge(stored), parsed, text=text, now=NOW, limit=limit)
        assert page == arrivals.keys == [card["key"] for card in cards]
        assert arrivals.total == total
        assert len(page) == len(set(page)) <= limit
        # Each card is made once, when it is first shown: as offer_cards makes it.
        made = {card["key"]: card for _, run in placement.runs for card in run}
        assert all(card == made[card["key"]] for card in cards if card["key"] in made)


def test_a_second_answer_goes_where_it_belongs_and_pushes_the_last_out() -> None:
    arrivals = Arrivals(parse_result_query([("sort", "price")]), None, limit=3)
    first = arrivals.add(
        merge([row("vendeur-a", "pole-1", [item(f"a{p}", "Miel", p, 1) for p in (2, 4, 6)])]),
        NOW,
    )
    assert [(after, [c["item_id"] for c in cards]) for after, cards in first.runs] == [
        (None, ["a2", "a4", "a6"])
    ]
    keys = arrivals.keys
    second = arrivals.add(
        merge([row("vendeur-b", "pole-2", [item("b1", "Miel", 1, 1), item("b3", "Miel", 3, 1)])]),
        NOW,
    )
    # b1 at the top, b3 after a2; a4 and a6 fall beyond the limit.
    assert [(after, [c["item_id"] for c in cards]) for after, cards in second.runs] == [
        (None, ["b1"]),
        (keys[0], ["b3"]),
    ]
    assert second.removed == keys[1:]
    assert arrivals.total == 5
