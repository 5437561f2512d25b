"""The report's SVG geometry: bars in proportion to their amounts, shares as percentages
rounded like the page shows them, a ring's arc that is its percentage."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from reseau_poles.buyer.web.charts import bar_chart, donut, percent, share_bars


def test_bars_are_in_proportion_the_largest_full_width() -> None:
    chart = bar_chart(
        [("Capitale-Nationale", Decimal("300.00"), "0.75"), ("Estrie", Decimal("100"), "0.25")]
    )
    first, second = chart.bars
    assert first.width == chart.plot_width and second.width == round(chart.plot_width / 3, 1)
    assert (first.percent, second.percent) == (Decimal("75.0"), Decimal("25.0"))
    assert second.y - first.y == 36 and chart.height == 16 + 2 * 36
    assert bar_chart([]).bars == [] and bar_chart([("x", Decimal(0), None)]).bars[0].width == 0


def test_shares_and_ring() -> None:
    assert percent("0.4235") == Decimal("42.4") and percent("0.42349") == Decimal("42.3")
    assert percent(None) is None and percent("abc") is None and percent("1.5") == 100
    bars = share_bars(
        [("biologique", Decimal("10"), "0.5"), ("aliments_du_quebec", Decimal(0), None)]
    )
    assert bars.bars[0].width == bars.plot_width / 2 and bars.bars[1].width == 0
    assert donut("0.25").dash == "25.0 75.0" and donut(None).percent is None


@given(st.lists(st.decimals(min_value=0, max_value=10**9, places=2), max_size=20))
def test_no_bar_is_longer_than_the_plot(amounts: list[Decimal]) -> None:
    chart = bar_chart([(str(i), a, None) for i, a in enumerate(amounts)])
    assert all(0 <= bar.width <= chart.plot_width for bar in chart.bars)
    if amounts and max(amounts) > 0:
        assert max(bar.width for bar in chart.bars) == chart.plot_width
